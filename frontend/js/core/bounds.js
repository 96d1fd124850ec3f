/** The bounds the server checks a record against, so the app never says
 * "Saved" for one it would refuse. They come from one source, the server:
 * GET /api/limits gives each record's JSON Schema as its OpenAPI document has
 * it, and the sync's limits. A copy is kept on the device for offline use.
 *
 * problems(kind, record, today) → {field: "plain words"}: empty when the
 * server would take it (as far as a device can know: the server still judges,
 * and a refusal comes back to the person, see refused.js).
 */
import { LIMITS_KEY, STORES, database } from "./outbox.js";
import { say } from "./dom.js";
import { t } from "./i18n.js";
import { describe, recordProblems } from "./rules.js";

export { againstSchema, describe, LABELS } from "./rules.js";

let current = null;

/** The server's limits: fetched when online (and kept), else this device's copy. */
export async function load() {
  try {
    const response = await fetch("/api/limits", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) {
      current = await response.json();
      await (
        await database()
      ).put(STORES.cache, { key: LIMITS_KEY, value: current, saved_at: new Date().toISOString() });
      return current;
    }
  } catch {
    // offline: the copy below
  }
  current = (await (await database()).get(STORES.cache, LIMITS_KEY))?.value ?? current;
  return current;
}

/** The JSON Schema of one field of a record kind, once the limits are known. */
export function rule(kind, field) {
  return current?.records?.[kind]?.properties?.[field] ?? null;
}

/** What `record` breaks of the server's bounds as this device knows them (rules.js). */
export function problems(kind, record, today = null) {
  return recordProblems(current, kind, record, today);
}

/** Whether a form's record has problems (from `problems`): if so, `message`
 * says "Not saved: …", each named input is marked invalid and the first is
 * focused. */
export function refused(found, inputs, message) {
  const invalid = Object.keys(found);
  if (!invalid.length) return false;
  say(message, t("Not saved: {problems}", { problems: describe(found) }), "error");
  for (const name of invalid) inputs[name]?.setAttribute("aria-invalid", "true");
  inputs[invalid[0]]?.focus();
  return true;
}
