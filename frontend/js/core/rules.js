/** Plain words for what a record breaks of the server's bounds (GET
 * /api/limits: each record's JSON Schema as its OpenAPI document has it, and
 * the days a log may have). Pure (no storage, no DOM): bounds.js keeps the
 * limits and marks the form, and `node --test` (frontend/tests/) checks this.
 */
import { addDays } from "./days.js";
import { N_, t } from "./i18n.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_FIELDS = ["logged_on", "performed_on", "started_on"];

// How the fields of a record are called on screen.
export const LABELS = {
  score: N_("Pain"),
  spasms: N_("Spasms"),
  note: N_("Note"),
  location: N_("Where it hurts"),
  logged_on: N_("The day"),
  performed_on: N_("The day"),
  exercise_id: N_("The exercise"),
  sets_done: N_("Sets"),
  reps_done: N_("Reps"),
  pain_during: N_("Pain during the exercise"),
  difficulty: N_("Difficulty"),
  body: N_("The message"),
  severity: N_("How bad it is"),
  started_on: N_("When it started"),
  triggers: N_("What set it off"),
  helped: N_("What helped"),
  id: N_("The record"),
  _schema: N_("The record"),
};

/** {field: "plain words"} for what a record of `kind` breaks of `limits` (GET
 * /api/limits): its schema, and its day neither in the future nor older than
 * the server keeps (`today` is the patient's). Empty while no limits are known. */
export function recordProblems(limits, kind, record, today = null) {
  const schema = limits?.records?.[kind];
  if (!schema) return {}; // not known yet (never online here): the server judges
  const found = againstSchema(schema, record);
  for (const name of DAY_FIELDS) {
    const day = record[name];
    if (!day || found[name] || !today) continue;
    if (day > today) found[name] = t("must not be in the future.");
    else if (day < addDays(today, -limits.oldest_log_days))
      found[name] = t("must be within the last {days} days.", { days: limits.oldest_log_days });
    else if (day < limits.first_day || day > limits.last_day)
      found[name] = t("must be between {low} and {high}.", { low: limits.first_day, high: limits.last_day });
  }
  return found;
}

/** {field: "plain words"} for what `record` breaks of a JSON Schema from the
 * server's OpenAPI document (a record kind's, or another, e.g. a programme item's). */
export function againstSchema(schema, record) {
  const found = {};
  for (const [name, fieldRule] of Object.entries(schema.properties || {})) {
    const value = record[name];
    if (value === undefined || value === null || value === "") {
      if ((schema.required || []).includes(name)) found[name] = t("is needed.");
      else if (value === "" && fieldRule.type !== "string") found[name] = t("is needed.");
      continue;
    }
    const problem = fieldProblem(fieldRule, value);
    if (problem) found[name] = problem;
  }
  return found;
}

function fieldProblem(fieldRule, value) {
  if (fieldRule.type === "array") {
    if (!Array.isArray(value)) return t("must be a list.");
    if (fieldRule.maxItems !== undefined && value.length > fieldRule.maxItems)
      return t("may hold at most {count}.", { count: fieldRule.maxItems });
    const allowed = fieldRule.items?.enum;
    if (allowed && value.some((v) => !allowed.includes(v))) return t("holds a choice that cannot be saved.");
    return null;
  }
  if (fieldRule.type === "integer") {
    if (typeof value !== "number" || !Number.isInteger(value)) return t("must be a whole number.");
    const { minimum: low, maximum: high } = fieldRule;
    if (low !== undefined && high !== undefined && (value < low || value > high))
      return t("must be between {low} and {high}.", { low, high });
    if (low !== undefined && value < low) return t("must be {low} or more.", { low });
    if (high !== undefined && value > high) return t("must be {high} or less.", { high });
    return null;
  }
  if (fieldRule.type === "string") {
    if (typeof value !== "string") return t("must be text.");
    const length = [...value].length; // characters, as the server counts them
    if (fieldRule.maxLength !== undefined && length > fieldRule.maxLength)
      return t("may be at most {max} characters long (it is {length}).", { max: fieldRule.maxLength, length });
    if (fieldRule.minLength !== undefined && length < fieldRule.minLength)
      return t("must be at least {min} characters long.", { min: fieldRule.minLength });
    if (fieldRule.pattern) {
      const allowed = new RegExp(fieldRule.pattern, "u");
      if (!allowed.test(value))
        return allowed.test("a\nb")
          ? t("has characters that cannot be saved.")
          : t("must be one line, without special characters.");
    }
    if (fieldRule.format === "uuid" && !UUID.test(value)) return t("is not a valid id.");
    if (fieldRule.format === "date" && !DAY.test(value)) return t("is not a valid day.");
  }
  return null;
}

/** {field: message or [messages]} as sentences: "Spasms must be between 0 and 1000." */
export function describe(found) {
  return Object.entries(found)
    .map(([name, messages]) => {
      const text = [messages].flat().join(" ");
      const label = LABELS[name] ? t(LABELS[name]) : name;
      // our own words start in lower case ("must be ..."); the server's are sentences
      return /^[a-z]/.test(text)
        ? t("{field} {problem}", { field: label, problem: text })
        : t("{field}: {problem}", { field: label, problem: text });
    })
    .join(" ");
}
