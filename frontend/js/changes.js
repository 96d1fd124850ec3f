/** "Your programme changed": what a new programme version added, removed and
 * re-dosed, with the therapist's note, on Today until the patient says they
 * have seen it (POST .../programme/seen; remembered on the phone when offline
 * and sent at the next chance). */
import * as api from "./api.js";
import * as store from "./store.js";
import { formatDay, h, holdText, plural } from "./dom.js";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const seenKey = (userId) => `programme-seen:${userId}`;

/** The notice for `change` (from the routine), or null when there is none or
 * the patient dismissed it on this phone. `onSeen` redraws. */
export async function notice(user, change, onSeen) {
  if (!change) return null;
  const seenHere = (await store.cached(seenKey(user.id)))?.value ?? 0;
  if (seenHere >= change.version) {
    tell(user, seenHere); // the server has not heard yet: try again
    return null;
  }
  const dismiss = async () => {
    await store.cache(seenKey(user.id), change.version);
    await tell(user, change.version);
    onSeen();
  };
  return h(
    "section",
    { class: "card programme-change", "aria-labelledby": "change-title" },
    h("h2", { id: "change-title" }, "Your programme changed"),
    h("p", { class: "hint" }, `From ${formatDay(change.starts_on, "long")}. This is what is different:`),
    change.note ? h("blockquote", { class: "therapist-note" }, h("strong", {}, "From your therapist: "), change.note) : null,
    h(
      "ul",
      { class: "change-list" },
      change.added.map((item) => h("li", { class: "added" }, h("strong", {}, "New: "), item.name)),
      change.changed.map((item) => h("li", { class: "changed" }, h("strong", {}, `${item.name}: `), difference(item))),
      change.removed.map((item) => h("li", { class: "removed" }, h("strong", {}, "No longer: "), item.name)),
    ),
    h("button", { type: "button", onclick: dismiss }, "Got it"),
  );
}

async function tell(user, version) {
  try {
    // the note stays on the phone: a routine cached before the server heard
    // must not bring the notice back offline
    await api.post(`/api/patients/${user.id}/programme/seen`, { version });
  } catch {
    // offline: kept on the phone, sent the next time Today opens
  }
}

/** "now twice a day (was once a day); Mon, Wed, Fri (was every day)". */
function difference({ before, after, notes }) {
  const parts = [];
  const say = (label, now, was) => now !== was && parts.push(`${label}${now} (was ${was})`);
  say("now ", times(after.times_per_day), times(before.times_per_day));
  say("", `${plural(after.sets, "set")} of ${after.reps}`, `${plural(before.sets, "set")} of ${before.reps}`);
  say("hold ", holdText(after.hold_seconds), holdText(before.hold_seconds));
  say("", days(after.days_of_week), days(before.days_of_week));
  if (notes !== undefined) parts.push(notes ? `new advice: “${notes}”` : "the advice was removed");
  return parts.join("; ");
}

function times(count) {
  return count === 1 ? "once a day" : count === 2 ? "twice a day" : `${count} times a day`;
}

function days(list) {
  return list.length === 7 ? "every day" : list.map((day) => WEEKDAYS[day]).join(", ");
}
