/* The Today screen's arithmetic (screens/patient/day.js): each item's sessions
 * due and done from the server's ticks, the outbox and undos in flight, and the
 * day's pain check-ins. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { dayItems, painToday } from "../js/screens/patient/day.js";

const DAY = "2026-03-02";

function routine({ date = DAY, exercise_logs = [], pain = [] } = {}) {
  return {
    date,
    items: [
      { exercise_id: 1, sessions_due: 2, times_per_day: 3, exercise: { name: "Bridge" } },
      { exercise_id: 2, times_per_day: 1, exercise: { name: "Cat-camel" } },
    ],
    exercise_logs,
    pain,
  };
}

const log = (id, exercise_id, created_at, deleted_at = null) => ({ id, exercise_id, created_at, deleted_at });
const queuedTick = (id, exercise_id, queued_at, performed_on = DAY) => ({
  id,
  kind: "exercise_log",
  body: { id, exercise_id, performed_on },
  queued_at,
});
const queuedUndo = (id) => ({ id, kind: "deleted_exercise_log", body: null, queued_at: "2026-03-02T12:00:00Z" });

describe("dayItems", () => {
  test("an item's due is sessions_due, else times_per_day", () => {
    const items = dayItems(routine(), [], DAY);
    assert.deepEqual(
      items.map((item) => item.due),
      [2, 1],
    );
    assert.deepEqual(
      items.map((item) => item.done),
      [0, 0],
    );
  });

  test("counts the server's ticks and the queued ones, oldest first, per exercise", () => {
    const items = dayItems(
      routine({ exercise_logs: [log("a", 1, "2026-03-02T09:00:00Z"), log("b", 2, "2026-03-02T07:00:00Z")] }),
      [queuedTick("c", 1, "2026-03-02T08:00:00Z")],
      DAY,
    );
    assert.deepEqual(
      items[0].ticks.map((tick) => [tick.id, Boolean(tick.queued)]),
      [
        ["c", true],
        ["a", false],
      ],
    );
    assert.equal(items[0].done, 2);
    assert.equal(items[1].done, 1);
  });

  test("done never passes due", () => {
    const ticks = ["a", "b", "c"].map((id, i) => queuedTick(id, 2, `2026-03-02T0${i}:00:00Z`));
    const [, item] = dayItems(routine(), ticks, DAY);
    assert.equal(item.ticks.length, 3);
    assert.equal(item.done, 1);
  });

  test("a deleted log, a queued undo and an undo in flight do not count", () => {
    const items = dayItems(
      routine({
        exercise_logs: [
          log("a", 1, "2026-03-02T07:00:00Z", "2026-03-02T07:30:00Z"),
          log("b", 1, "2026-03-02T08:00:00Z"),
          log("c", 2, "2026-03-02T08:00:00Z"),
        ],
      }),
      [queuedUndo("b")],
      DAY,
      new Set(["c"]),
    );
    assert.deepEqual(
      items.map((item) => item.done),
      [0, 0],
    );
  });

  test("the server's ticks of another day are not today's; queued ticks of today are", () => {
    const items = dayItems(
      routine({ date: "2026-03-01", exercise_logs: [log("a", 1, "2026-03-01T09:00:00Z")] }),
      [queuedTick("b", 1, "2026-03-02T06:00:00Z"), queuedTick("c", 1, "2026-03-01T06:00:00Z", "2026-03-01")],
      DAY,
    );
    assert.deepEqual(
      items[0].ticks.map((tick) => tick.id),
      ["b"],
    );
  });
});

describe("painToday", () => {
  const queuedPain = (id, score, queued_at, logged_on = DAY) => ({
    id,
    kind: "pain_log",
    body: { id, logged_on, score },
    queued_at,
  });

  test("the server's check-ins and the queued ones, oldest first, the queued marked", () => {
    const entries = painToday(
      routine({ pain: [{ id: "a", score: 3, created_at: "2026-03-02T10:00:00Z" }] }),
      [queuedPain("b", 5, "2026-03-02T08:00:00Z")],
      DAY,
    );
    assert.deepEqual(
      entries.map((entry) => [entry.id, entry.score, Boolean(entry.queued)]),
      [
        ["b", 5, true],
        ["a", 3, false],
      ],
    );
  });

  test("a queued check-in the server has already shows once", () => {
    const entries = painToday(
      routine({ pain: [{ id: "a", score: 3, created_at: "2026-03-02T10:00:00Z" }] }),
      [queuedPain("a", 3, "2026-03-02T09:59:00Z")],
      DAY,
    );
    assert.equal(entries.length, 1);
  });

  test("another day's check-ins are left out", () => {
    const entries = painToday(
      routine({ date: "2026-03-01", pain: [{ id: "a", score: 3, created_at: "2026-03-01T10:00:00Z" }] }),
      [queuedPain("b", 5, "2026-03-01T08:00:00Z", "2026-03-01")],
      DAY,
    );
    assert.deepEqual(entries, []);
  });
});
