/** Records the server refused at sync come back to the person who made them:
 * what each was, why it was refused in plain words, and the choice to correct
 * it (then it is sent again, once) or to discard it. Nothing is dropped
 * silently. Shown above every screen of the patient until dealt with. */
import * as api from "./api.js";
import * as bounds from "./bounds.js";
import * as store from "./store.js";
import { field, formatDay, h, mount, plural, say, statusArea } from "./dom.js";

const KINDS = { exercise_log: "Exercise", pain_log: "Pain check-in", deleted_exercise_log: "Undo of an exercise", message: "Message", flare_up: "Flare-up report" };

/** The panel for `records` (oldest first), or null when there are none. */
export function panel(records) {
  if (!records.length) return null;
  return h(
    "section",
    { class: "banner-item refused", "data-banner": "refused", "aria-labelledby": "refused-title" },
    h("h2", { id: "refused-title" }, `${plural(records.length, "record")} could not be saved`),
    h("p", { class: "hint" }, records.length === 1 ? "Homeward's server did not accept it. Correct it and send it again, or discard it." : "Homeward's server did not accept them. Correct each and send it again, or discard it."),
    h("ul", { class: "refused-list" }, records.map((record) => h("li", {}, entry(record)))),
  );
}

function entry(record) {
  const box = h("div", { class: "refused-entry" });
  const message = statusArea("alert");
  say(message, "");
  const show = () =>
    mount(
      box,
      h("p", { class: "what" }, h("strong", {}, title(record)), " ", summary(record)),
      h("p", { class: "why" }, "Why: ", reason(record)),
      h(
        "div",
        { class: "actions" },
        record.kind === "pain_log"
          ? h("button", { type: "button", onclick: () => edit() }, "Fix")
          : record.kind === "exercise_log"
            ? h("button", { type: "button", onclick: () => resend(null) }, "Send again")
            : null,
        h("button", { type: "button", class: "secondary", "aria-label": `Discard: ${title(record)}`, onclick: discard }, "Discard"),
      ),
      message,
    );

  async function resend(body) {
    try {
      await api.resendRefused(record, body ?? record.body);
    } catch (error) {
      say(message, error.message, "error");
    }
  }

  async function discard() {
    await api.discardRefused(record);
  }

  function edit() {
    const form = painEditor(record, async (body) => resend(body), show);
    mount(box, h("p", { class: "what" }, h("strong", {}, title(record))), form);
    form.querySelector("[aria-invalid=true], input")?.focus();
  }

  show();
  return box;
}

function title(record) {
  const day = record.body?.performed_on || record.body?.logged_on || record.body?.started_on;
  return `${KINDS[record.kind] || "Record"}${day ? `, ${formatDay(day)}` : ""}:`;
}

function summary(record) {
  const body = record.body || {};
  if (record.kind === "pain_log") {
    return [`pain ${body.score} out of 10`, body.spasms != null ? plural(body.spasms, "spasm") : null, body.note ? `“${body.note}”` : null].filter(Boolean).join(" · ");
  }
  if (record.kind === "exercise_log") return "one session ticked";
  if (record.kind === "message") return `“${body.body}”`;
  if (record.kind === "flare_up") return `how bad: ${body.severity} out of 10`;
  return "a tick taken back";
}

/** Why, in plain words: the bounds' own words when they explain it, else the server's. */
function reason(record) {
  const found = record.body ? bounds.problems(record.kind, record.body) : {};
  if (Object.keys(found).length) return bounds.describe(found);
  if (record.status === "conflict") return "A different record with the same id was already saved. Sending it again saves it as a new one.";
  return bounds.describe(record.errors || { _schema: "it was refused." });
}

/** The pain check-in's fields, filled in as they were, checked against the
 * server's bounds before anything is sent. */
function painEditor(record, send, cancel) {
  const rule = (name) => bounds.rule("pain_log", name) || {};
  const body = record.body || {};
  const inputs = {
    score: h("input", { type: "number", name: "score", inputmode: "numeric", min: rule("score").minimum, max: rule("score").maximum, step: "1", value: body.score ?? "" }),
    spasms: h("input", { type: "number", name: "spasms", inputmode: "numeric", min: rule("spasms").minimum, max: rule("spasms").maximum, step: "1", value: body.spasms ?? "" }),
    note: h("textarea", { name: "note", rows: "2", maxlength: rule("note").maxLength }, body.note ?? ""),
  };
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "refused-fix", novalidate: true },
    field("Pain (0-10)", inputs.score),
    field("Spasms (optional)", inputs.spasms),
    field("Note (optional)", inputs.note),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send again"), h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel")),
  );
  const problems = bounds.problems("pain_log", body);
  for (const name of Object.keys(problems)) inputs[name]?.setAttribute("aria-invalid", "true");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = (input) => (input.value === "" ? null : Number(input.value));
    const fixed = { ...body, score: number(inputs.score), spasms: number(inputs.spasms), note: inputs.note.value.trim() || null };
    const found = bounds.problems("pain_log", fixed, await store.patientToday(record.user_id));
    for (const [name, input] of Object.entries(inputs)) {
      if (input.validity?.badInput) found[name] = "must be a whole number.";
      if (name in found) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    const invalid = Object.keys(found);
    if (invalid.length) {
      say(message, `Not sent: ${bounds.describe(found)}`, "error");
      inputs[invalid[0]]?.focus();
      return;
    }
    form.querySelector("button[type=submit]").disabled = true;
    await send(fixed);
  });
  return form;
}
