/** Records the server refused at sync come back to the person who made them:
 * what each was, why it was refused in plain words, and the choice to correct
 * it (then it is sent again, once) or to discard it. Nothing is dropped
 * silently. Shown above every screen of the patient until dealt with. */
import * as api from "../../core/api.js";
import * as bounds from "../../core/bounds.js";
import * as store from "../../core/store.js";
import { excerpt, field, formatDay, h, mount, say, statusArea } from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

const KINDS = {
  exercise_log: N_("Exercise"),
  pain_log: N_("Pain check-in"),
  deleted_exercise_log: N_("Undo of an exercise"),
  message: N_("Message"),
  flare_up: N_("Flare-up report"),
};

/** The panel for `records` (oldest first), or null when there are none. */
export function panel(records) {
  if (!records.length) return null;
  return h(
    "section",
    { class: "banner-item refused", "data-banner": "refused", "aria-labelledby": "refused-title" },
    h(
      "h2",
      { id: "refused-title" },
      tn(records.length, "{count} record could not be saved", "{count} records could not be saved"),
    ),
    h(
      "p",
      { class: "hint" },
      records.length === 1
        ? t("Homeward's server did not accept it. Correct it and send it again, or discard it.")
        : t("Homeward's server did not accept them. Correct each and send it again, or discard it."),
    ),
    h(
      "ul",
      { class: "refused-list" },
      records.map((record) => h("li", {}, entry(record))),
    ),
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
      h("p", { class: "why" }, `${t("Why:")} `, reason(record)),
      h(
        "div",
        { class: "actions" },
        record.kind === "pain_log"
          ? h("button", { type: "button", onclick: () => edit() }, t("Fix"))
          : record.kind === "exercise_log"
            ? h("button", { type: "button", onclick: () => resend(null) }, t("Send again"))
            : null,
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "aria-label": t("Discard: {record}", { record: title(record) }),
            onclick: discard,
          },
          t("Discard"),
        ),
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
  return `${t(KINDS[record.kind] || N_("Record"))}${day ? `, ${formatDay(day)}` : ""}:`;
}

function summary(record) {
  const body = record.body || {};
  if (record.kind === "pain_log") {
    return [
      t("pain {score} out of 10", { score: body.score }),
      body.spasms != null ? tn(body.spasms, "{count} spasm", "{count} spasms") : null,
      body.note ? `“${excerpt(body.note)}”` : null,
    ]
      .filter(Boolean)
      .join(" · ");
  }
  if (record.kind === "exercise_log") return t("one session ticked");
  if (record.kind === "message") return `“${body.body}”`;
  if (record.kind === "flare_up") return t("how bad: {severity} out of 10", { severity: body.severity });
  return t("a tick taken back");
}

/** Why, in plain words: the bounds' own words when they explain it, else the server's. */
function reason(record) {
  const found = record.body ? bounds.problems(record.kind, record.body) : {};
  if (Object.keys(found).length) return bounds.describe(found);
  if (record.status === "conflict")
    return t("A different record with the same id was already saved. Sending it again saves it as a new one.");
  return bounds.describe(record.errors || { _schema: t("it was refused.") });
}

/** The pain check-in's fields, filled in as they were, checked against the
 * server's bounds before anything is sent. */
function painEditor(record, send, cancel) {
  const rule = (name) => bounds.rule("pain_log", name) || {};
  const body = record.body || {};
  const inputs = {
    score: h("input", {
      type: "number",
      name: "score",
      inputmode: "numeric",
      min: rule("score").minimum,
      max: rule("score").maximum,
      step: "1",
      value: body.score ?? "",
    }),
    spasms: h("input", {
      type: "number",
      name: "spasms",
      inputmode: "numeric",
      min: rule("spasms").minimum,
      max: rule("spasms").maximum,
      step: "1",
      value: body.spasms ?? "",
    }),
    note: h("textarea", { name: "note", rows: "2", maxlength: rule("note").maxLength }, body.note ?? ""),
  };
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "refused-fix", novalidate: true },
    field(t("Pain (0-10)"), inputs.score),
    field(t("Spasms (optional)"), inputs.spasms),
    field(t("Note (optional)"), inputs.note),
    message,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, t("Send again")),
      h("button", { type: "button", class: "secondary", onclick: cancel }, t("Cancel")),
    ),
  );
  const problems = bounds.problems("pain_log", body);
  for (const name of Object.keys(problems)) inputs[name]?.setAttribute("aria-invalid", "true");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = (input) => (input.value === "" ? null : Number(input.value));
    const fixed = {
      ...body,
      score: number(inputs.score),
      spasms: number(inputs.spasms),
      note: inputs.note.value.trim() || null,
    };
    const found = bounds.problems("pain_log", fixed, await store.patientToday(record.user_id));
    for (const [name, input] of Object.entries(inputs)) {
      if (input.validity?.badInput) found[name] = t("must be a whole number.");
      if (name in found) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    const invalid = Object.keys(found);
    if (invalid.length) {
      say(message, t("Not sent: {problems}", { problems: bounds.describe(found) }), "error");
      inputs[invalid[0]]?.focus();
      return;
    }
    form.querySelector("button[type=submit]").disabled = true;
    await send(fixed);
  });
  return form;
}
