/* What the outbox sends and what the answer settles, as plain data: the body
 * of one POST /api/sync for some records, how many fit in one, the server's
 * verdict on each, and what a settled record changes in the cached routine.
 * Pure (no IndexedDB, no fetch): outbox.js does the storing and sending, and
 * `node --test` (frontend/tests/) checks this. Records are as outbox.js
 * queues them: {key: "<kind>:<uuid>", id, kind, user_id, body, queued_at}.
 */

export const FALLBACK_LIMITS = { sync_records: 100, body_bytes: 256 * 1024 }; // before the first fetch

export function keyOf(kind, id) {
  return `${kind}:${id}`;
}

// each kind of record and the section of POST /api/sync that carries it
const SECTIONS = {
  exercise_log: "exercise_logs",
  pain_log: "pain_logs",
  deleted_exercise_log: "deleted_exercise_logs",
  message: "messages",
  flare_up: "flare_ups",
};

/** The body of one POST /api/sync for `records`: every section, empty or not. */
export function batchOf(records) {
  const body = Object.fromEntries(Object.values(SECTIONS).map((section) => [section, []]));
  for (const record of records) {
    const section = SECTIONS[record.kind];
    if (!section) continue;
    body[section].push(record.kind === "deleted_exercise_log" ? record.id : record.body);
  }
  return body;
}

/** The server's verdicts, matched to the records by kind and id. */
export function verdicts(records, results) {
  const byKey = new Map(records.map((record) => [record.key, record]));
  const settled = [];
  const refused = [];
  for (const result of results || []) {
    const record = result.id ? byKey.get(keyOf(result.kind, String(result.id).toLowerCase())) : null;
    if (!record) continue; // not ours to judge: it stays queued
    byKey.delete(record.key);
    if (result.status === "created" || result.status === "duplicate") settled.push(record);
    else refused.push({ ...record, status: result.status, errors: result.errors || null });
  }
  return { settled, rejected: refused };
}

const encoder = new TextEncoder();

/** The size on the wire of `value` as JSON: UTF-8 bytes, not characters (a Greek
 * or CJK note is two or three bytes a character). */
export function jsonBytes(value) {
  return encoder.encode(JSON.stringify(value)).length;
}

/** The bytes one sync may carry: the server's body limit less 15 % (≤ 900 KB of
 * its 1 MiB), room for a proxy or a later server that counts a little differently. */
export function bodyBudget(limits) {
  return Math.floor((limits.body_bytes || FALLBACK_LIMITS.body_bytes) * 0.85);
}

/** The oldest records that fit in one sync: at most `count` of them, and
 * their JSON body at most `budget` bytes. `oversized` is the oldest record
 * when it cannot be sent even alone (it would jam everything after it). */
export function batchFrom(records, count, budget) {
  const batch = [];
  let size = jsonBytes(batchOf([])); // the body's own braces and keys
  for (const record of records.slice(0, count)) {
    const grown = size + jsonBytes(record.body ?? record.id) + 1; // and a comma
    if (grown > budget) {
      if (!batch.length) return { batch, oversized: { record, bytes: grown } };
      break;
    }
    size = grown;
    batch.push(record);
  }
  return { batch, oversized: null };
}

/** The cached routine after the server accepted `settled` (what it now knows). */
export function applyToRoutine(routine, settled) {
  if (!routine) return routine;
  const next = { ...routine, exercise_logs: [...(routine.exercise_logs || [])], pain: [...(routine.pain || [])] };
  for (const record of settled) {
    if (record.kind === "exercise_log" && record.body.performed_on === routine.date) {
      if (!next.exercise_logs.some((log) => log.id === record.id)) {
        next.exercise_logs.push({ ...record.body, created_at: record.queued_at, deleted_at: null });
      }
    } else if (record.kind === "pain_log" && record.body.logged_on === routine.date) {
      if (!next.pain.some((log) => log.id === record.id)) {
        next.pain.push({ ...record.body, created_at: record.queued_at });
      }
    } else if (record.kind === "deleted_exercise_log") {
      next.exercise_logs = next.exercise_logs.filter((log) => log.id !== record.id);
    }
  }
  return next;
}
