/** The counts the navigation shows next to a tab: a patient's unread messages
 * (also on the app's icon, through the Badging API where the browser has it)
 * and a staff member's new alerts. Screens call `refresh()` after they change
 * one (reading a thread, acknowledging an alert); the shell redraws on
 * "change". */
import * as api from "./api.js";

export const events = new EventTarget();
const counts = { messages: 0, alerts: 0 };
let asking = null;
let told = 0; // how many times a screen has set the counts itself

/** {messages, alerts} as last heard. */
export function current() {
  return { ...counts };
}

/** Asks the server for the signed-in user's counts (quietly: offline, or on
 * any error, the last ones stay). Concurrent calls share one request. */
export function refresh() {
  asking ??= ask().finally(() => {
    asking = null;
  });
  return asking;
}

async function ask() {
  const user = api.currentUser();
  const asked = told; // a screen's word that comes meanwhile is newer than this answer
  if (!user) return apply({ messages: 0, alerts: 0 });
  if (!navigator.onLine) return;
  try {
    const next =
      user.role === "patient"
        ? { messages: (await api.get(`/api/patients/${user.id}/messages/unread`)).unread, alerts: 0 }
        : { messages: 0, alerts: (await api.get("/api/alerts", { state: "new" })).length };
    if (asked === told) apply(next);
  } catch {
    // offline or not there yet: the counts shown stay as they were
  }
}

/** A screen that knows better (it has just marked messages read) says so. */
export function set(next) {
  told += 1;
  apply(next);
}

function apply(next) {
  const changed = Object.entries(next).some(([name, value]) => counts[name] !== value);
  Object.assign(counts, next);
  appBadge(api.currentUser()?.role === "patient" ? counts.messages : 0);
  if (changed) events.dispatchEvent(new Event("change"));
}

function appBadge(count) {
  try {
    if (count > 0) navigator.setAppBadge?.(count)?.catch(() => {});
    else navigator.clearAppBadge?.()?.catch(() => {});
  } catch {
    // no Badging API here: the tab's badge is enough
  }
}
