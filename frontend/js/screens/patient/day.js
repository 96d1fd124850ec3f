/** The patient's day as the Today screen shows it, from the cached routine
 * and the outbox: each item's sessions due and done, and the pain check-ins.
 * Pure (no storage, no DOM): `node --test` (frontend/tests/) checks it. */

/** The routine's items with today's ticks: those the server has, minus queued
 * undos, plus those still in the outbox. */
export function dayItems(routine, outbox, day, undoing = new Set()) {
  const undone = new Set(outbox.filter((r) => r.kind === "deleted_exercise_log").map((r) => r.id));
  const ticks = new Map();
  if (routine.date === day) {
    for (const log of routine.exercise_logs || []) {
      if (!log.deleted_at && !undone.has(log.id))
        ticks.set(log.id, { id: log.id, exercise_id: log.exercise_id, at: log.created_at });
    }
  }
  for (const record of outbox) {
    if (record.kind === "exercise_log" && record.body.performed_on === day) {
      ticks.set(record.id, { id: record.id, exercise_id: record.body.exercise_id, at: record.queued_at, queued: true });
    }
  }
  for (const id of undoing) ticks.delete(id);
  const sorted = [...ticks.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return routine.items.map((item) => {
    const mine = sorted.filter((tick) => tick.exercise_id === item.exercise_id);
    const due = item.sessions_due ?? item.times_per_day;
    return { ...item, due, ticks: mine, done: Math.min(mine.length, due) };
  });
}

/** The day's pain check-ins: the server's and those still in the outbox, oldest first. */
export function painToday(routine, outbox, day) {
  const entries = routine.date === day ? [...(routine.pain || [])] : [];
  for (const record of outbox) {
    if (record.kind === "pain_log" && record.body.logged_on === day && !entries.some((e) => e.id === record.id)) {
      entries.push({ ...record.body, queued_at: record.queued_at, queued: true });
    }
  }
  return entries.sort((a, b) => ((a.created_at || a.queued_at) < (b.created_at || b.queued_at) ? -1 : 1));
}
