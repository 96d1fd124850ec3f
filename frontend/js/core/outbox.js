/* The offline outbox, one module for the page and the service worker (a module
 * worker imports it too): the IndexedDB layout, queueing a record, sending the
 * queue as POST /api/sync batches and storing what the answer settled (what a
 * batch holds, the verdicts and their effect on the cached routine are plain
 * data, in records.js).
 *
 * An outbox record: {key: "<kind>:<uuid>", id, kind, user_id, body, queued_at}
 * where kind is "exercise_log" | "pain_log" | "deleted_exercise_log" | "message" |
 * "flare_up" (each a section of POST /api/sync, see records.js SECTIONS).
 * Nothing here touches the DOM: the service worker has none.
 */
import { openDB } from "../../vendor/idb.js";
import { t } from "./i18n.js";
import { FALLBACK_LIMITS, applyToRoutine, batchFrom, batchOf, bodyBudget, keyOf, verdicts } from "./records.js";

export const DB_NAME = "homeward";
export const DB_VERSION = 1;
export const STORES = { outbox: "outbox", rejected: "rejected", cache: "cache" };
export const SYNC_TAG = "homeward-outbox";
export const LIMITS_KEY = "limits"; // GET /api/limits, cached by bounds.js
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

/** A new record id: a v4 UUID (crypto.randomUUID needs a secure context). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
 * routine; refused ones leave it too, into `rejected`, until their user fixes
 * or discards them. */
export async function settle(userId, { settled, rejected }) {
  const tx = (await database()).transaction([STORES.outbox, STORES.rejected, STORES.cache], "readwrite");
  const outboxStore = tx.objectStore(STORES.outbox);
  for (const record of [...settled, ...rejected]) outboxStore.delete(record.key);
  for (const record of rejected)
    tx.objectStore(STORES.rejected).put({ ...record, rejected_at: new Date().toISOString() });
  if (settled.length) {
    const cacheStore = tx.objectStore(STORES.cache);
    const cached = await cacheStore.get(routineCacheKey(userId));
    if (cached) cacheStore.put({ ...cached, value: applyToRoutine(cached.value, settled) });
  }
  await tx.done;
}

/** The user's records the server refused, oldest first, each with its
 * `status` and `errors` (why), kept until the user fixes or discards them. */
export async function rejected(userId) {
  return (await database())
    .getAllFromIndex(STORES.rejected, "user_id", userId)
    .then((records) => records.sort(byQueueOrder));
}

/** A refused record, corrected: back into the outbox. Its id stays (nothing was
 * stored under it), unless the server had that id already with other content. */
export async function resubmit(record, body) {
  const tx = (await database()).transaction([STORES.outbox, STORES.rejected], "readwrite");
  tx.objectStore(STORES.rejected).delete(record.key);
  const id = record.status === "conflict" ? uuid() : record.id;
  const next = {
    key: keyOf(record.kind, id),
    id,
    kind: record.kind,
    user_id: record.user_id,
    body: body && { ...body, id },
    queued_at: new Date().toISOString(),
  };
  tx.objectStore(STORES.outbox).put(next);
  await tx.done;
  return next;
}

export async function discardRejected(key) {
  await (await database()).delete(STORES.rejected, key);
}

/** Everything of one user on this device: queued and refused records and the
 * cached API data (sign-out on a shared phone). Resolves to how many
 * records were discarded. */
export async function forgetUser(userId) {
  const tx = (await database()).transaction([STORES.outbox, STORES.rejected, STORES.cache], "readwrite");
  let discarded = 0;
  for (const name of [STORES.outbox, STORES.rejected]) {
    const store = tx.objectStore(name);
    for (const key of await store.index("user_id").getAllKeys(userId)) {
      store.delete(key);
      discarded += 1;
    }
  }
  const cache = tx.objectStore(STORES.cache);
  for (const key of await cache.getAllKeys()) {
    if (String(key).endsWith(`:${userId}`) || String(key).includes(`:${userId}:`)) cache.delete(key);
  }
  await tx.done;
  return discarded;
}

/* ---- sending ----------------------------------------------------------------- */

/** Thrown when nothing may be dropped: offline, timeout, 5xx, 401, a bad CSRF token. */
export class RetryLater extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "RetryLater";
    this.status = status;
  }
}

/** The server's limits per sync as this device last heard them. */
async function syncLimits() {
  const cached = await (await database()).get(STORES.cache, LIMITS_KEY);
  return cached?.value || FALLBACK_LIMITS;
}

/** A record too large for any sync, refused on the phone: it goes to the
 * patient's refused records (to fix or discard) instead of being sent. */
function refusedTooLarge({ record, bytes }, budget) {
  const size = (n) => Math.ceil(n / 1000);
  const why = t("is too large to send ({size} KB; at most {budget} KB go at once).", {
    size: size(bytes),
    budget: size(budget),
  });
  return { settled: [], rejected: [{ ...record, status: "invalid", errors: { _schema: [why] } }] };
}

/** A whole batch refused with a 4xx: the records it held are judged one by one
 * by sending fewer; a single record refused so is the user's to fix. */
async function refusedAlone(record, response) {
  let why = t("The server answered {status}.", { status: String(response.status) });
  try {
    const body = await response.json();
    why = body.message || why;
  } catch {
    // no JSON: the status says enough
  }
  return { settled: [], rejected: [{ ...record, status: "invalid", errors: { _schema: [why] } }] };
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
  if (records.length === 1 && (response.status === 413 || response.status === 422))
    return refusedAlone(records[0], response);
  if (!response.ok) throw new RetryLater(`sync answered ${response.status}`, response.status);
  return verdicts(records, (await response.json()).results);
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
    const limits = await syncLimits();
    let count = limits.sync_records;
    const budget = bodyBudget(limits);
    for (;;) {
      if (!session.signedIn()) return "sent";
      const { batch: records, oversized } = batchFrom(await queued(userId), count, budget);
      if (oversized) {
        await settle(userId, refusedTooLarge(oversized, budget));
        session.settled?.();
        continue;
      }
      if (!records.length) return "sent";
      let verdict;
      try {
        verdict = await send(records, session.csrf());
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
        if (error.status === 401) return "signed-out";
        if (error.status === 413 || error.status === 422) {
          count = Math.ceil(records.length / 2); // the limits changed: smaller batches
          continue;
        }
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
