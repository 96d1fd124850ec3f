/** "Your programme changed": what a new programme version added, removed and
 * re-dosed, with the therapist's note, on Today until the patient says they
 * have seen it (POST .../programme/seen; remembered on the phone when offline
 * and sent at the next chance). */
import * as api from "../../core/api.js";
import * as store from "../../core/store.js";
import { formatDay, h, holdText, weekdayName } from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

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
    h("h2", { id: "change-title" }, t("Your programme changed")),
    h(
      "p",
      { class: "hint" },
      t("From {day}. This is what is different:", { day: formatDay(change.starts_on, "long") }),
    ),
    change.note
      ? h(
          "blockquote",
          { class: "therapist-note" },
          h("strong", {}, `${t("From your therapist:")} `),
          h("span", { "data-l10n-skip": "" }, change.note),
        )
      : null,
    h(
      "ul",
      { class: "change-list" },
      change.added.map((item) =>
        h("li", { class: "added" }, h("strong", {}, `${t("New:")} `), h("span", { "data-l10n-skip": "" }, item.name)),
      ),
      change.changed.map((item) =>
        h("li", { class: "changed" }, h("strong", { "data-l10n-skip": "" }, `${item.name}: `), difference(item)),
      ),
      change.removed.map((item) =>
        h(
          "li",
          { class: "removed" },
          h("strong", {}, `${t("No longer:")} `),
          h("span", { "data-l10n-skip": "" }, item.name),
        ),
      ),
    ),
    h("button", { type: "button", onclick: dismiss }, t("Got it")),
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
  const say = (text, now, was) => now !== was && parts.push(t(text, { now, was }));
  say(N_("now {now} (was {was})"), times(after.times_per_day), times(before.times_per_day));
  const dose = (item) => tn(item.sets, "{count} set of {reps}", "{count} sets of {reps}", { reps: item.reps });
  say(N_("{now} (was {was})"), dose(after), dose(before));
  say(N_("hold {now} (was {was})"), holdText(after.hold_seconds), holdText(before.hold_seconds));
  say(N_("{now} (was {was})"), days(after.days_of_week), days(before.days_of_week));
  if (notes !== undefined) parts.push(notes ? t("new advice: “{notes}”", { notes }) : t("the advice was removed"));
  return parts.join("; ");
}

function times(count) {
  return count === 1 ? t("once a day") : count === 2 ? t("twice a day") : t("{count} times a day", { count });
}

function days(list) {
  return list.length === 7 ? t("every day") : list.map((day) => weekdayName(day)).join(", ");
}
