/** The cached data that lets the app open offline, kept in IndexedDB next to
 * the outbox (outbox.js owns the database). */
import { STORES, database, routineCacheKey } from "./outbox.js";
import { patientTodayFrom } from "./days.js";

export { patientTodayFrom };

/** A cached value with the time it was saved: {value, saved_at} or undefined. */
export async function cached(key) {
  return (await database()).get(STORES.cache, key);
}

export async function cache(key, value) {
  await (await database()).put(STORES.cache, { key, value, saved_at: new Date().toISOString() });
}

export async function uncache(key) {
  await (await database()).delete(STORES.cache, key);
}

export async function patientToday(userId) {
  return patientTodayFrom((await cached(routineCacheKey(userId)))?.value);
}
