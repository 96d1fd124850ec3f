/** Calendar days as ISO "YYYY-MM-DD" strings, never instants: adding days,
 * counting them, today on this device or in a timezone, and the patient's
 * today from a cached routine. Pure (no DOM, no storage): the page, the
 * service worker and `node --test` (frontend/tests/) all import it. */

export function utcDate(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

export function addDays(iso, days) {
  const date = utcDate(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function daysBetween(fromIso, toIso) {
  return Math.round((utcDate(toIso) - utcDate(fromIso)) / 86400000);
}

/** Today's date on this device, as an ISO day. */
export function deviceToday(now = new Date()) {
  return isoDay(now);
}

export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Today in an IANA timezone (a patient's), as an ISO day. */
export function todayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
      new Date(),
    );
  } catch {
    return deviceToday();
  }
}

/** The patient's today from a cached routine: the server's `today` when it was
 * fetched, moved on by as many days as this device's calendar has since. */
export function patientTodayFrom(routine, now = new Date()) {
  if (!routine) return deviceToday(now);
  if (!routine.fetched_at) return routine.today;
  const elapsed = daysBetween(deviceToday(new Date(routine.fetched_at)), deviceToday(now));
  return addDays(routine.today, Math.max(0, elapsed));
}
