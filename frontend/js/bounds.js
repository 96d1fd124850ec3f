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
import { addDays } from "./dom.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_FIELDS = ["logged_on", "performed_on", "started_on"];

// How the fields of a record are called on screen.
export const LABELS = {
  score: "Pain",
  spasms: "Spasms",
  note: "Note",
  location: "Where it hurts",
  logged_on: "The day",
  performed_on: "The day",
  exercise_id: "The exercise",
  sets_done: "Sets",
  reps_done: "Reps",
  pain_during: "Pain during the exercise",
  difficulty: "Difficulty",
  body: "The message",
  severity: "How bad it is",
  started_on: "When it started",
  triggers: "What set it off",
  helped: "What helped",
  id: "The record",
  _schema: "The record",
};

let current = null;

/** The server's limits: fetched when online (and kept), else this device's copy. */
export async function load() {
  try {
    const response = await fetch("/api/limits", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      current = await response.json();
      await (await database()).put(STORES.cache, { key: LIMITS_KEY, value: current, saved_at: new Date().toISOString() });
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

export function problems(kind, record, today = null) {
  const schema = current?.records?.[kind];
  const found = {};
  if (!schema) return found; // not known yet (never online here): the server judges
  for (const [name, fieldRule] of Object.entries(schema.properties || {})) {
    const value = record[name];
    if (value === undefined || value === null || value === "") {
      if ((schema.required || []).includes(name)) found[name] = "is needed.";
      else if (value === "" && fieldRule.type !== "string") found[name] = "is needed.";
      continue;
    }
    const problem = judge(fieldRule, value);
    if (problem) found[name] = problem;
  }
  for (const name of DAY_FIELDS) {
    const day = record[name];
    if (!day || found[name] || !today) continue;
    if (day > today) found[name] = "must not be in the future.";
    else if (day < addDays(today, -current.oldest_log_days)) found[name] = `must be within the last ${current.oldest_log_days} days.`;
    else if (day < current.first_day || day > current.last_day) found[name] = `must be between ${current.first_day} and ${current.last_day}.`;
  }
  return found;
}

function judge(fieldRule, value) {
  if (fieldRule.type === "array") {
    if (!Array.isArray(value)) return "must be a list.";
    if (fieldRule.maxItems !== undefined && value.length > fieldRule.maxItems) return `may hold at most ${fieldRule.maxItems}.`;
    const allowed = fieldRule.items?.enum;
    if (allowed && value.some((v) => !allowed.includes(v))) return "holds a choice that cannot be saved.";
    return null;
  }
  if (fieldRule.type === "integer") {
    if (typeof value !== "number" || !Number.isInteger(value)) return "must be a whole number.";
    const { minimum: low, maximum: high } = fieldRule;
    if (low !== undefined && high !== undefined && (value < low || value > high)) return `must be between ${low} and ${high}.`;
    if (low !== undefined && value < low) return `must be ${low} or more.`;
    if (high !== undefined && value > high) return `must be ${high} or less.`;
    return null;
  }
  if (fieldRule.type === "string") {
    if (typeof value !== "string") return "must be text.";
    const length = [...value].length; // characters, as the server counts them
    if (fieldRule.maxLength !== undefined && length > fieldRule.maxLength) return `may be at most ${fieldRule.maxLength} characters long (it is ${length}).`;
    if (fieldRule.minLength !== undefined && length < fieldRule.minLength) return `must be at least ${fieldRule.minLength} characters long.`;
    if (fieldRule.pattern) {
      const allowed = new RegExp(fieldRule.pattern, "u");
      if (!allowed.test(value)) return allowed.test("a\nb") ? "has characters that cannot be saved." : "must be one line, without special characters.";
    }
    if (fieldRule.format === "uuid" && !UUID.test(value)) return "is not a valid id.";
    if (fieldRule.format === "date" && !DAY.test(value)) return "is not a valid day.";
  }
  return null;
}

/** {field: message or [messages]} as sentences: "Spasms must be between 0 and 1000." */
export function describe(found) {
  return Object.entries(found)
    .map(([name, messages]) => {
      const text = [messages].flat().join(" ");
      const label = LABELS[name] || name;
      // our own words start in lower case ("must be ..."); the server's are sentences
      return /^[a-z]/.test(text) ? `${label} ${text}` : `${label}: ${text}`;
    })
    .join(" ");
}
