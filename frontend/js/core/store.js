/** The cached data that lets the app open offline, kept in IndexedDB next to
 * the outbox (outbox.js owns the database). */
import { STORES, database, routineCacheKey } from "./outbox.js";
import { addDays, daysBetween, deviceToday } from "./dom.js";

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
