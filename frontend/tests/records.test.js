/* The outbox's plain-data side (core/records.js): what one POST /api/sync
 * carries, how many records fit in it, the server's verdict on each, and what
 * a settled record changes in the cached routine. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { applyToRoutine, batchFrom, batchOf, bodyBudget, jsonBytes, keyOf, verdicts } from "../js/core/records.js";

const ID = [
  "0a4c7f3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
  "1b5d8a4f-2c3e-4f60-9bac-1d2e3f4a5b6c",
  "2c6e9b50-3d4f-4071-8cbd-2e3f4a5b6c7d",
];

function record(kind, id, body, queued_at = "2026-03-02T08:00:00.000Z") {
  return { key: keyOf(kind, id), id, kind, user_id: 7, body, queued_at };
}

const tick = (id, day = "2026-03-02", exercise_id = 3) =>
  record("exercise_log", id, { id, exercise_id, performed_on: day });
const pain = (id, day = "2026-03-02", score = 4) => record("pain_log", id, { id, logged_on: day, score });
const undo = (id) => record("deleted_exercise_log", id, null);

describe("batchOf", () => {
  test("puts each record in its section, an undo as its bare id, every section present", () => {
    const body = batchOf([tick(ID[0]), pain(ID[1]), undo(ID[2])]);
    assert.deepEqual(body, {
      exercise_logs: [{ id: ID[0], exercise_id: 3, performed_on: "2026-03-02" }],
      pain_logs: [{ id: ID[1], logged_on: "2026-03-02", score: 4 }],
      deleted_exercise_logs: [ID[2]],
      messages: [],
      flare_ups: [],
    });
  });

  test("leaves out a kind it does not know", () => {
    const body = batchOf([record("weather", ID[0], { sunny: true })]);
    assert.deepEqual(Object.values(body).flat(), []);
  });
});

describe("batchFrom", () => {
  const queue = [tick(ID[0]), tick(ID[1]), tick(ID[2])];

  test("takes at most `count` records, oldest first", () => {
    const { batch, oversized } = batchFrom(queue, 2, 100_000);
    assert.deepEqual(
      batch.map((r) => r.id),
      [ID[0], ID[1]],
    );
    assert.equal(oversized, null);
  });

  test("stops before the record that would pass the byte budget", () => {
    const two = jsonBytes(batchOf(queue.slice(0, 2)));
    const { batch } = batchFrom(queue, 100, two + 1);
    assert.deepEqual(
      batch.map((r) => r.id),
      [ID[0], ID[1]],
    );
  });

  test("what it takes fits: the body it makes is within the budget", () => {
    for (const budget of [200, 250, 300, 400]) {
      const { batch } = batchFrom(queue, 100, budget);
      if (batch.length) assert.ok(jsonBytes(batchOf(batch)) <= budget, `budget ${budget}`);
    }
  });

  test("counts bytes, not characters", () => {
    const greek = record("message", ID[0], { id: ID[0], body: "α".repeat(100) });
    const latin = record("message", ID[1], { id: ID[1], body: "a".repeat(100) });
    const budget = jsonBytes(batchOf([latin])) + 50; // room for the Latin note, not the Greek
    assert.equal(batchFrom([latin], 1, budget).batch.length, 1);
    assert.ok(batchFrom([greek], 1, budget).oversized);
  });

  test("names the oldest record when it cannot go even alone, and sends nothing", () => {
    const huge = record("message", ID[0], { id: ID[0], body: "x".repeat(5000) });
    const { batch, oversized } = batchFrom([huge, tick(ID[1])], 100, 1000);
    assert.deepEqual(batch, []);
    assert.equal(oversized.record, huge);
    assert.ok(oversized.bytes > 5000);
  });

  test("a large record later in the queue only ends the batch", () => {
    const huge = record("message", ID[1], { id: ID[1], body: "x".repeat(5000) });
    const { batch, oversized } = batchFrom([tick(ID[0]), huge], 100, 1000);
    assert.deepEqual(
      batch.map((r) => r.id),
      [ID[0]],
    );
    assert.equal(oversized, null);
  });
});

describe("bodyBudget", () => {
  test("keeps 15 % under the server's body limit", () => {
    assert.equal(bodyBudget({ body_bytes: 1_000_000 }), 850_000);
  });

  test("uses the fallback limit before the first fetch", () => {
    assert.equal(bodyBudget({}), Math.floor(256 * 1024 * 0.85));
  });
});

describe("verdicts", () => {
  const sent = [tick(ID[0]), pain(ID[1]), undo(ID[2])];

  test("created and duplicate settle; anything else is refused with its errors", () => {
    const { settled, rejected } = verdicts(sent, [
      { kind: "exercise_log", id: ID[0], status: "created" },
      { kind: "pain_log", id: ID[1], status: "invalid", errors: { score: ["Too high."] } },
      { kind: "deleted_exercise_log", id: ID[2], status: "duplicate" },
    ]);
    assert.deepEqual(
      settled.map((r) => r.id),
      [ID[0], ID[2]],
    );
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].id, ID[1]);
    assert.equal(rejected[0].status, "invalid");
    assert.deepEqual(rejected[0].errors, { score: ["Too high."] });
  });

  test("a conflict is refused too, with no errors when the server gave none", () => {
    const { rejected } = verdicts(sent, [{ kind: "pain_log", id: ID[1], status: "conflict" }]);
    assert.deepEqual(
      rejected.map((r) => [r.id, r.status, r.errors]),
      [[ID[1], "conflict", null]],
    );
  });

  test("matches the server's upper-case ids to the phone's", () => {
    const { settled } = verdicts(sent, [{ kind: "exercise_log", id: ID[0].toUpperCase(), status: "created" }]);
    assert.deepEqual(
      settled.map((r) => r.id),
      [ID[0]],
    );
  });

  test("a verdict for another kind, an unknown id or no id judges nothing", () => {
    const { settled, rejected } = verdicts(sent, [
      { kind: "pain_log", id: ID[0], status: "created" },
      { kind: "exercise_log", id: "ffffffff-ffff-4fff-8fff-ffffffffffff", status: "created" },
      { kind: "exercise_log", status: "invalid" },
    ]);
    assert.deepEqual([settled, rejected], [[], []]);
  });

  test("a record is judged once, by the first verdict", () => {
    const { settled, rejected } = verdicts(sent, [
      { kind: "exercise_log", id: ID[0], status: "created" },
      { kind: "exercise_log", id: ID[0], status: "invalid" },
    ]);
    assert.equal(settled.length, 1);
    assert.equal(rejected.length, 0);
  });

  test("no results (an empty answer) settles nothing", () => {
    assert.deepEqual(verdicts(sent, undefined), { settled: [], rejected: [] });
  });
});

describe("applyToRoutine", () => {
  const routine = {
    date: "2026-03-02",
    items: [],
    exercise_logs: [{ id: ID[2], exercise_id: 3, performed_on: "2026-03-02", deleted_at: null }],
    pain: [],
  };

  test("adds the day's settled ticks and check-ins, stamped with when they were queued", () => {
    const next = applyToRoutine(routine, [tick(ID[0]), pain(ID[1])]);
    assert.deepEqual(next.exercise_logs[1], {
      id: ID[0],
      exercise_id: 3,
      performed_on: "2026-03-02",
      created_at: "2026-03-02T08:00:00.000Z",
      deleted_at: null,
    });
    assert.deepEqual(next.pain, [
      { id: ID[1], logged_on: "2026-03-02", score: 4, created_at: "2026-03-02T08:00:00.000Z" },
    ]);
  });

  test("an undo removes the tick", () => {
    assert.deepEqual(applyToRoutine(routine, [undo(ID[2])]).exercise_logs, []);
  });

  test("records of another day leave the routine as it was", () => {
    const next = applyToRoutine(routine, [tick(ID[0], "2026-03-01"), pain(ID[1], "2026-03-01")]);
    assert.deepEqual(next, routine);
  });

  test("a record the routine has already is not added twice", () => {
    const once = applyToRoutine(routine, [tick(ID[0])]);
    assert.equal(applyToRoutine(once, [tick(ID[0])]).exercise_logs.length, 2);
  });

  test("never changes the routine it was given", () => {
    const before = structuredClone(routine);
    applyToRoutine(routine, [tick(ID[0]), pain(ID[1]), undo(ID[2])]);
    assert.deepEqual(routine, before);
  });

  test("no cached routine stays none", () => {
    assert.equal(applyToRoutine(undefined, [tick(ID[0])]), undefined);
  });
});
