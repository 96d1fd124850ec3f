/* Calendar days as ISO strings (core/days.js), and the patient's today from a
 * cached routine when the phone has been offline since. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { addDays, daysBetween, isoDay, patientTodayFrom } from "../js/core/days.js";

describe("addDays and daysBetween", () => {
  test("cross months, years and leap days", () => {
    assert.equal(addDays("2024-02-28", 1), "2024-02-29");
    assert.equal(addDays("2025-12-31", 1), "2026-01-01");
    assert.equal(addDays("2026-03-01", -1), "2026-02-28");
    assert.equal(daysBetween("2025-12-25", "2026-01-01"), 7);
  });
});

describe("patientTodayFrom", () => {
  test("the server's today when the routine was fetched today", () => {
    const now = new Date(2026, 2, 2, 20, 0);
    const routine = { today: "2026-03-03", fetched_at: new Date(2026, 2, 2, 9, 0).toISOString() };
    assert.equal(patientTodayFrom(routine, now), "2026-03-03"); // the patient is a timezone ahead
  });

  test("moved on by the days this device's calendar has passed since", () => {
    const routine = { today: "2026-02-27", fetched_at: new Date(2026, 1, 27, 9, 0).toISOString() };
    assert.equal(patientTodayFrom(routine, new Date(2026, 2, 2, 9, 0)), "2026-03-02");
  });

  test("never moved back by a clock set earlier", () => {
    const routine = { today: "2026-03-02", fetched_at: new Date(2026, 2, 2, 9, 0).toISOString() };
    assert.equal(patientTodayFrom(routine, new Date(2026, 2, 1, 9, 0)), "2026-03-02");
  });

  test("no routine: this device's today", () => {
    const now = new Date(2026, 2, 2, 23, 30);
    assert.equal(patientTodayFrom(undefined, now), isoDay(now));
  });
});
