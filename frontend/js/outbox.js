/* The offline outbox protocol, shared by the page and the service worker.
 *
 * The page imports this file for its side effect (`import "./outbox.js"`) and the
 * service worker loads it with importScripts(), so it has no import/export: it
 * defines `self.HomewardOutbox`. It owns the IndexedDB layout, how queued records
 * become one POST /api/sync batch, how the answer is judged, and how a settled
 * record updates the cached routine.
 *
 * An outbox record: {key: "<kind>:<uuid>", id, kind, user_id, body, queued_at}
 * where kind is "exercise_log" | "pain_log" | "deleted_exercise_log".
 */
(function (scope) {
  "use strict";

  const DB_NAME = "homeward";
  const DB_VERSION = 1;
  const STORES = { outbox: "outbox", rejected: "rejected", cache: "cache" };
  const LOCK_NAME = "homeward-outbox";
  const SYNC_TAG = "homeward-outbox";
  const BATCH_SIZE = 200; // far below the 1 MiB request limit
  const SEND_TIMEOUT_MS = 20000;

  /** Creates the stores; works with a raw IDBDatabase and with idb's wrapper. */
  function upgrade(db) {
    for (const name of [STORES.outbox, STORES.rejected]) {
      if (!db.objectStoreNames.contains(name)) {
        db.createObjectStore(name, { keyPath: "key" }).createIndex("user_id", "user_id");
      }
    }
    if (!db.objectStoreNames.contains(STORES.cache)) {
      db.createObjectStore(STORES.cache, { keyPath: "key" });
    }
  }

  function keyOf(kind, id) {
    return `${kind}:${id}`;
  }

  function byQueueOrder(a, b) {
    return a.queued_at < b.queued_at ? -1 : a.queued_at > b.queued_at ? 1 : 0;
  }

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
  class RetryLater extends Error {
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
    const rejected = [];
    for (const result of results || []) {
      const record = result.id ? byKey.get(keyOf(result.kind, String(result.id).toLowerCase())) : null;
      if (!record) continue; // not ours to judge: it stays queued
      byKey.delete(record.key);
      if (result.status === "created" || result.status === "duplicate") settled.push(record);
      else rejected.push({ ...record, status: result.status, errors: result.errors || null });
    }
    return { settled, rejected };
  }

  /** POSTs one batch of one user's records; resolves to {settled, rejected}. */
  async function send(records, csrfToken, fetchImpl) {
    const doFetch = fetchImpl || scope.fetch.bind(scope);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    let response;
    try {
      response = await doFetch("/api/sync", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrfToken || "",
        },
        body: JSON.stringify(batchOf(records)),
        signal: controller.signal,
      });
    } catch (error) {
      throw new RetryLater("offline");
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw new RetryLater(`sync answered ${response.status}`, response.status);
    const payload = await response.json();
    return judge(records, payload.results);
  }

  /** Runs `task` while no other tab or the service worker is flushing. */
  function withLock(task) {
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request(LOCK_NAME, task) : task();
  }

  /** The cached routine after the server accepted `settled` (what it now knows). */
  function applyToRoutine(routine, settled) {
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

  function routineCacheKey(userId) {
    return `routine:${userId}`;
  }

  scope.HomewardOutbox = Object.freeze({
    DB_NAME,
    DB_VERSION,
    STORES,
    SYNC_TAG,
    BATCH_SIZE,
    upgrade,
    keyOf,
    byQueueOrder,
    batchOf,
    judge,
    send,
    withLock,
    applyToRoutine,
    routineCacheKey,
    RetryLater,
  });
})(self);
