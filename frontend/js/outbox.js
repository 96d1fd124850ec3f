/* The offline outbox, one module for the page and the service worker (a module
 * worker imports it too): the IndexedDB layout, queueing a record, sending the
 * queue as POST /api/sync batches, judging the answer, and what a settled record
 * changes in the cached routine.
 *
 * An outbox record: {key: "<kind>:<uuid>", id, kind, user_id, body, queued_at}
 * where kind is "exercise_log" | "pain_log" | "deleted_exercise_log".
 * Nothing here touches the DOM: the service worker has none.
 */
import { openDB } from "../vendor/idb.js";

export const DB_NAME = "homeward";
export const DB_VERSION = 1;
export const STORES = { outbox: "outbox", rejected: "rejected", cache: "cache" };
export const SYNC_TAG = "homeward-outbox";
export const BATCH_SIZE = 200; // far below the 1 MiB request limit
const LOCK_NAME = "homeward-outbox";
const SEND_TIMEOUT_MS = 20000;

let dbPromise = null;

/** The app's IndexedDB database (idb's wrapper), opened once per context. */
export function database() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade(db) {
      for (const name of [STORES.outbox, STORES.rejected]) {
        if (!db.objectStoreNames.contains(name)) {
          db.createObjectStore(name, { keyPath: "key" }).createIndex("user_id", "user_id");
        }
      }
      if (!db.objectStoreNames.contains(STORES.cache)) db.createObjectStore(STORES.cache, { keyPath: "key" });
    },
    blocking() {
      // a newer version of the app wants to upgrade the database: let it
      dbPromise?.then((open) => open.close());
      dbPromise = null;
    },
  });
  return dbPromise;
}

export function keyOf(kind, id) {
  return `${kind}:${id}`;
}

export function routineCacheKey(userId) {
  return `routine:${userId}`;
}

function byQueueOrder(a, b) {
  return a.queued_at < b.queued_at ? -1 : a.queued_at > b.queued_at ? 1 : 0;
}

/** Puts one record into the outbox; its UUID makes a replay harmless. */
export async function enqueue({ kind, id, userId, body = null }) {
  const record = { key: keyOf(kind, id), id, kind, user_id: userId, body, queued_at: new Date().toISOString() };
  await (await database()).put(STORES.outbox, record);
  return record;
}

/** The user's queued records, oldest first. */
export async function queued(userId) {
  const records = await (await database()).getAllFromIndex(STORES.outbox, "user_id", userId);
  return records.sort(byQueueOrder);
}

export async function pendingCount(userId) {
  return (await database()).countFromIndex(STORES.outbox, "user_id", userId);
}

/** Removes a queued record; true when it was still there (it never left the device). */
export async function withdraw(kind, id) {
  const tx = (await database()).transaction(STORES.outbox, "readwrite");
  const key = keyOf(kind, id);
  const found = await tx.store.get(key);
  if (found) await tx.store.delete(key);
  await tx.done;
  return Boolean(found);
}

/** After a sync answer: settled records leave the outbox and update the cached
 * routine; refused ones leave it too but are kept for the "could not be saved" note. */
export async function settle(userId, { settled, rejected }) {
  const tx = (await database()).transaction([STORES.outbox, STORES.rejected, STORES.cache], "readwrite");
  const outboxStore = tx.objectStore(STORES.outbox);
  for (const record of [...settled, ...rejected]) outboxStore.delete(record.key);
  for (const record of rejected) tx.objectStore(STORES.rejected).put({ ...record, rejected_at: new Date().toISOString() });
  if (settled.length) {
    const cacheStore = tx.objectStore(STORES.cache);
    const cached = await cacheStore.get(routineCacheKey(userId));
    if (cached) cacheStore.put({ ...cached, value: applyToRoutine(cached.value, settled) });
  }
  await tx.done;
}

export async function rejected(userId) {
  return (await database()).getAllFromIndex(STORES.rejected, "user_id", userId);
}

export async function forgetRejected(userId) {
  const tx = (await database()).transaction(STORES.rejected, "readwrite");
  for (const key of await tx.store.index("user_id").getAllKeys(userId)) tx.store.delete(key);
  await tx.done;
}

/* ---- sending ----------------------------------------------------------------- */

function batchOf(records) {
  const body = { exercise_logs: [], pain_logs: [], deleted_exercise_logs: [] };
  for (const record of records) {
    if (record.kind === "exercise_log") body.exercise_logs.push(record.body);
    else if (record.kind === "pain_log") body.pain_logs.push(record.body);
    else if (record.kind === "deleted_exercise_log") body.deleted_exercise_logs.push(record.id);
  }
  return body;
}

/** Thrown when nothing may be dropped: offline, timeout, 5xx, 401, a bad CSRF token. */
export class RetryLater extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "RetryLater";
    this.status = status;
  }
}

/** The server's verdicts, matched to the records by kind and id. */
function judge(records, results) {
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

/** POSTs one batch of one user's records; resolves to {settled, rejected}. */
async function send(records, csrfToken) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
  let response;
  try {
    response = await fetch("/api/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken || "" },
      body: JSON.stringify(batchOf(records)),
      signal: controller.signal,
    });
  } catch {
    throw new RetryLater("offline");
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw new RetryLater(`sync answered ${response.status}`, response.status);
  return judge(records, (await response.json()).results);
}

/** Runs `task` while no other tab or the service worker is flushing. */
export function withLock(task) {
  const locks = self.navigator?.locks;
  return locks ? locks.request(LOCK_NAME, task) : task();
}

/**
 * Sends `userId`'s outbox batch by batch until it is empty, under the lock.
 * `session` says how: `csrf()` the token to send, `refreshCsrf()` gets a new one
 * (tried once, on a 400 or 403), `signedIn()` false stops early (another user
 * signed in meanwhile), `settled()` is told after each batch.
 * Resolves to "sent", "signed-out" (the server answered 401: the records wait
 * for the next sign-in) or "later" (offline, or the server is struggling: every
 * record stays queued).
 */
export function flush(userId, session) {
  return withLock(async () => {
    let csrfRetried = false;
    for (;;) {
      if (!session.signedIn()) return "sent";
      const records = (await queued(userId)).slice(0, BATCH_SIZE);
      if (!records.length) return "sent";
      let verdict;
      try {
        verdict = await send(records, session.csrf());
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
        if (error.status === 401) return "signed-out";
        if ((error.status === 400 || error.status === 403) && !csrfRetried) {
          csrfRetried = true;
          await session.refreshCsrf();
          continue;
        }
        return "later";
      }
      await settle(userId, verdict);
      session.settled?.();
      if (!verdict.settled.length && !verdict.rejected.length) return "later"; // nothing matched
    }
  });
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
