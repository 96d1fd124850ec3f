/* The server's bounds as the phone applies them (core/rules.js): a record's
 * JSON Schema, the days a log may have, and the plain words shown. English
 * (no catalog loaded), as the app speaks before a language is chosen. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { againstSchema, describe as sentences, recordProblems } from "../js/core/rules.js";

// the shape of GET /api/limits
const LIMITS = {
  oldest_log_days: 30,
  first_day: "2000-01-01",
  last_day: "2099-12-31",
  records: {
    pain_log: {
      type: "object",
      required: ["id", "logged_on", "score"],
      properties: {
        id: { type: "string", format: "uuid" },
        logged_on: { type: "string", format: "date" },
        score: { type: "integer", minimum: 0, maximum: 10 },
        spasms: { type: "integer", minimum: 0, maximum: 1000 },
        note: { type: "string", maxLength: 10, pattern: "^[^\\u0000-\\u0008]*$" },
      },
    },
    flare_up: {
      type: "object",
      properties: {
        triggers: { type: "array", maxItems: 2, items: { enum: ["lifting", "sitting", "sleep"] } },
        location: { type: "string", minLength: 2, pattern: "^[^\\n]*$" },
      },
    },
  },
};
const ID = "0a4c7f3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
const TODAY = "2026-03-02";
const painLog = (fields) => ({ id: ID, logged_on: TODAY, score: 4, ...fields });

describe("recordProblems", () => {
  test("a record within every bound has none", () => {
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ spasms: 2, note: "ok" }), TODAY), {});
  });

  test("nothing is judged before the limits are known", () => {
    assert.deepEqual(recordProblems(null, "pain_log", { score: 99 }, TODAY), {});
  });

  test("a required field missing, or an optional number left blank, is needed", () => {
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ score: null, spasms: "" }), TODAY), {
      score: "is needed.",
      spasms: "is needed.",
    });
  });

  test("numbers: whole, and within the range", () => {
    const found = recordProblems(LIMITS, "pain_log", painLog({ score: 11, spasms: 1.5 }), TODAY);
    assert.deepEqual(found, { score: "must be between 0 and 10.", spasms: "must be a whole number." });
  });

  test("text: counted in characters, as the server does", () => {
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ note: "😀".repeat(10) }), TODAY), {});
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ note: "a".repeat(11) }), TODAY), {
      note: "may be at most 10 characters long (it is 11).",
    });
  });

  test("text against the server's pattern (one line or not), ids and days in their format", () => {
    const found = recordProblems(
      LIMITS,
      "pain_log",
      painLog({ id: "nope", logged_on: "2/3/2026", note: "a\u0001" }),
      TODAY,
    );
    assert.deepEqual(found, {
      id: "is not a valid id.",
      logged_on: "is not a valid day.",
      note: "has characters that cannot be saved.",
    });
    assert.deepEqual(recordProblems(LIMITS, "flare_up", { location: "low\nback" }, TODAY), {
      location: "must be one line, without special characters.",
    });
  });

  test("a day in the future or older than the server keeps", () => {
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ logged_on: "2026-03-03" }), TODAY), {
      logged_on: "must not be in the future.",
    });
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ logged_on: "2026-01-31" }), TODAY), {});
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ logged_on: "2026-01-30" }), TODAY), {
      logged_on: "must be within the last 30 days.",
    });
    assert.deepEqual(recordProblems(LIMITS, "pain_log", painLog({ logged_on: "2026-01-30" }), null), {});
  });

  test("lists: at most so many, each a known choice", () => {
    assert.deepEqual(recordProblems(LIMITS, "flare_up", { triggers: ["lifting", "sitting", "sleep"] }, TODAY), {
      triggers: "may hold at most 2.",
    });
    assert.deepEqual(recordProblems(LIMITS, "flare_up", { triggers: ["weather"] }, TODAY), {
      triggers: "holds a choice that cannot be saved.",
    });
    assert.deepEqual(recordProblems(LIMITS, "flare_up", { triggers: "lifting" }, TODAY), {
      triggers: "must be a list.",
    });
  });
});

describe("againstSchema", () => {
  test("judges any schema of the OpenAPI document, e.g. a programme item's", () => {
    const item = { properties: { sets: { type: "integer", minimum: 1 }, reps: { type: "integer", maximum: 50 } } };
    assert.deepEqual(againstSchema(item, { sets: 0, reps: 51 }), {
      sets: "must be 1 or more.",
      reps: "must be 50 or less.",
    });
  });

  test("text shorter than the minimum", () => {
    assert.deepEqual(againstSchema(LIMITS.records.flare_up, { location: "x" }), {
      location: "must be at least 2 characters long.",
    });
  });
});

describe("describe", () => {
  test("names each field as the screen calls it; the server's sentences keep theirs", () => {
    assert.equal(
      sentences({ spasms: "must be a whole number.", score: ["Too high.", "Really."] }),
      "Spasms must be a whole number. Pain: Too high. Really.",
    );
  });

  test("a field with no label is named as it is", () => {
    assert.equal(sentences({ colour: "is needed." }), "colour is needed.");
  });
});
