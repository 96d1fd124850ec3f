/** IndexedDB (through idb): the outbox of unsent records, the records the server
 * refused, and the cached data that lets the app open offline. */
import { openDB } from "../vendor/idb.js";
import "./outbox.js";
import { addDays, daysBetween, deviceToday } from "./dom.js";

const { DB_NAME, DB_VERSION, STORES, upgrade, keyOf, byQueueOrder, applyToRoutine, routineCacheKey } =
  self.HomewardOutbox;

let dbPromise = null;

function db() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade,
    blocking() {
      // a newer version of the app wants to upgrade the database: let it
      dbPromise?.then((open) => open.close());
      dbPromise = null;
    },
  });
  return dbPromise;
}

/** Puts one record into the outbox; its UUID makes a replay harmless. */
export async function enqueue({ kind, id, userId, body = null }) {
  const record = { key: keyOf(kind, id), id, kind, user_id: userId, body, queued_at: new Date().toISOString() };
  await (await db()).put(STORES.outbox, record);
  return record;
}

/** The user's queued records, oldest first. */
export async function outbox(userId) {
  const records = await (await db()).getAllFromIndex(STORES.outbox, "user_id", userId);
  return records.sort(byQueueOrder);
}

export async function pendingCount(userId) {
  return (await db()).countFromIndex(STORES.outbox, "user_id", userId);
}

/** Removes a queued record; true when it was still there (it never left the device). */
export async function withdraw(kind, id) {
  const tx = (await db()).transaction(STORES.outbox, "readwrite");
  const key = keyOf(kind, id);
  const found = await tx.store.get(key);
  if (found) await tx.store.delete(key);
  await tx.done;
  return Boolean(found);
}

/** After a sync answer: settled records leave the outbox and update the cached
 * routine; refused ones leave it too but are kept for the "could not be saved" note. */
export async function settle(userId, settled, rejected) {
  const tx = (await db()).transaction([STORES.outbox, STORES.rejected, STORES.cache], "readwrite");
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
  return (await db()).getAllFromIndex(STORES.rejected, "user_id", userId);
}

export async function forgetRejected(userId) {
  const tx = (await db()).transaction(STORES.rejected, "readwrite");
  for (const key of await tx.store.index("user_id").getAllKeys(userId)) tx.store.delete(key);
  await tx.done;
}

/** A cached value with the time it was saved: {value, saved_at} or undefined. */
export async function cached(key) {
  return (await db()).get(STORES.cache, key);
}

export async function cache(key, value) {
  await (await db()).put(STORES.cache, { key, value, saved_at: new Date().toISOString() });
}

export async function uncache(key) {
  await (await db()).delete(STORES.cache, key);
}

/** Drops every cached entry of one user (sign-out on a shared phone); the outbox stays. */
export async function forgetCachedData(userId) {
  const tx = (await db()).transaction(STORES.cache, "readwrite");
  for (const key of await tx.store.getAllKeys()) {
    if (String(key).endsWith(`:${userId}`) || String(key).includes(`:${userId}:`)) tx.store.delete(key);
  }
  await tx.done;
}

/** The patient's today from a cached routine: the server's `today` when it was
 * fetched, moved on by as many days as this device's calendar has since. */
export function patientTodayFrom(routine) {
  if (!routine) return deviceToday();
  if (!routine.fetched_at) return routine.today;
  const elapsed = daysBetween(deviceToday(new Date(routine.fetched_at)), deviceToday());
  return addDays(routine.today, Math.max(0, elapsed));
}

export async function patientToday(userId) {
  return patientTodayFrom((await cached(routineCacheKey(userId)))?.value);
}
