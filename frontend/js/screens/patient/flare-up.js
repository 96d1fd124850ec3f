/** Flare-ups: the patient's report (opened from Today), saved through the
 * outbox like a pain check-in (so offline too), the advice shown after it,
 * and the words and tables the progress screens use for them. */
import * as api from "../../core/api.js";
import * as bounds from "../../core/bounds.js";
import { field, formatDay, h, mount, number, say, statusArea, table, uid } from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

// the server's names (backend/models/clinical.py) and how the patient reads them
export const TRIGGERS = {
  lifting: N_("Lifting or bending"),
  impact: N_("A fall or impact"),
  sitting: N_("Long sitting or standing"),
  dehydration: N_("Not drinking enough"),
  stress: N_("Stress"),
  other: N_("Something else"),
};
export const HELPED = {
  heat: N_("Heat"),
  cold: N_("Cold"),
  rest: N_("Rest"),
  stretching: N_("Gentle stretching"),
  medication: N_("Medication"),
  nothing: N_("Nothing yet"),
};

/** A 0–10 severity in words, for screen readers and the legend. */
export function severityWords(score) {
  if (score === 0) return t("no pain");
  if (score <= 3) return t("mild");
  if (score <= 6) return t("moderate");
  if (score <= 9) return t("severe");
  return t("the worst imaginable");
}

/** A pain score as a slider says it to a screen reader: "5 — moderate pain". */
export function painValueText(score) {
  if (score === 0) return t("{score} — no pain", { score });
  if (score <= 3) return t("{score} — mild pain", { score });
  if (score <= 6) return t("{score} — moderate pain", { score });
  if (score <= 9) return t("{score} — severe pain", { score });
  return t("{score} — worst pain imaginable", { score });
}

export const RED_FLAGS = [
  N_("you cannot control your bladder or bowels, or cannot pass urine"),
  N_("you feel numb in the groin, between the legs or around the bottom"),
  N_("your legs feel weak, or the weakness is getting worse"),
];

/** The clinic's advice about red flags, in plain words. */
export function redFlagAdvice() {
  return h(
    "div",
    { class: "red-flags" },
    h(
      "p",
      {},
      h("strong", {}, t("Get urgent medical help now")),
      ` ${t("(call your emergency number or go to the emergency department) if:")}`,
    ),
    h(
      "ul",
      {},
      RED_FLAGS.map((flag) => h("li", {}, t(flag))),
    ),
    h("p", {}, t("Do not wait for your therapist to read your report.")),
  );
}

/**
 * The "I'm having a flare-up" button and its form: {element}. `today()` gives
 * the patient's today; `saved(body)` is told after a report is queued.
 */
export function flareUpReport({ today, saved }) {
  const panel = h("div", { class: "flare-up-panel", id: uid("flare-up"), hidden: true });
  const open = h(
    "button",
    { type: "button", class: "flare-up-button", "aria-expanded": "false", "aria-controls": panel.id },
    t("I'm having a flare-up"),
  );
  open.addEventListener("click", () => (panel.hidden ? show() : hide()));

  function show() {
    mount(panel, form());
    panel.hidden = false;
    open.setAttribute("aria-expanded", "true");
    panel.querySelector("input")?.focus();
  }

  function hide() {
    panel.hidden = true;
    mount(panel);
    open.setAttribute("aria-expanded", "false");
    open.focus();
  }

  function form() {
    const severity = h("input", {
      type: "range",
      name: "severity",
      min: "0",
      max: "10",
      step: "1",
      value: "5",
      id: uid("severity"),
    });
    const shown = h("output", { class: "pain-value", for: severity.id, "aria-hidden": "true" });
    const words = h("span", { class: "severity-words", "aria-hidden": "true" });
    const describe = () => {
      const value = Number(severity.value);
      shown.textContent = String(value);
      words.textContent = severityWords(value);
      severity.setAttribute("aria-valuetext", t("{value} out of 10, {words}", { value, words: severityWords(value) }));
    };
    severity.addEventListener("input", describe);
    describe();
    const day = today();
    const started = h("input", { type: "date", name: "started_on", value: day, max: day, required: true });
    const noteRule = bounds.rule("flare_up", "note");
    const note = h("textarea", { name: "note", rows: "2", maxlength: noteRule?.maxLength, id: uid("flare-note") });
    const noteLabel = h("label", { for: note.id }, t("Note (optional)"));
    const triggers = choices(t("What may have set it off?"), "triggers", TRIGGERS);
    const helped = choices(t("What has helped so far?"), "helped", HELPED);
    const message = statusArea("alert");
    say(message, "");

    // "Something else" needs a word on what it was
    const otherChosen = () => triggers.checked().includes("other");
    const needNote = () => {
      noteLabel.textContent = otherChosen() ? t("What else may have set it off? (needed)") : t("Note (optional)");
      note.required = otherChosen();
      note.setAttribute("aria-required", String(otherChosen()));
      if (!otherChosen() && note.getAttribute("aria-invalid")) {
        note.removeAttribute("aria-invalid"); // the note is optional again: its complaint goes
        say(message, "");
      }
    };
    triggers.set.addEventListener("change", needNote);
    // "Nothing yet" goes alone
    helped.set.addEventListener("change", (event) => {
      const changed = event.target;
      if (!changed.checked) return;
      for (const box of helped.boxes) {
        if (box !== changed && (changed.value === "nothing" || box.value === "nothing")) box.checked = false;
      }
    });

    const inputs = { severity, started_on: started, note, triggers: triggers.boxes[0], helped: helped.boxes[0] };
    const element = h(
      "form",
      { class: "flare-up-form card", novalidate: true, "aria-labelledby": `${panel.id}-title` },
      h("h2", { id: `${panel.id}-title` }, t("Report a flare-up")),
      h("p", { class: "hint" }, t("Your therapist sees this report. It takes a minute.")),
      h(
        "div",
        { class: "field" },
        h("label", { for: severity.id }, t("How bad is it? (0–10)")),
        h("div", { class: "range-row" }, severity, h("span", { class: "severity-readout" }, shown, words)),
        h(
          "p",
          { class: "hint scale", id: `${severity.id}-scale` },
          h("span", {}, t("0 = no pain")),
          h("span", {}, t("10 = worst imaginable")),
        ),
      ),
      field(t("When did it start?"), started),
      triggers.set,
      h("div", { class: "field" }, noteLabel, note),
      helped.set,
      message,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, t("Save flare-up")),
        h("button", { type: "button", class: "secondary", onclick: hide }, t("Cancel")),
      ),
    );
    severity.setAttribute("aria-describedby", `${severity.id}-scale`);

    element.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const input of element.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
      const body = {
        id: api.uuid(),
        started_on: started.value,
        severity: Number(severity.value),
        triggers: triggers.checked(),
        helped: helped.checked(),
        note: note.value.trim() || null,
      };
      const found = bounds.problems("flare_up", body, day);
      if (!body.started_on) found.started_on = t("is needed.");
      if (otherChosen() && !body.note) found.note = t("is needed when you choose “Something else”: say what it was.");
      if (body.helped.includes("nothing") && body.helped.length > 1)
        found.helped = t("“Nothing yet” cannot go with something that helped.");
      if (bounds.refused(found, inputs, message)) return;
      element.querySelector("button[type=submit]").disabled = true;
      try {
        await api.record("flare_up", body);
      } catch (error) {
        element.querySelector("button[type=submit]").disabled = false;
        say(message, t("Could not save this on the phone: {problem}", { problem: error.message }), "error");
        return;
      }
      mount(panel, confirmation(body));
      panel.querySelector(".flare-up-saved").focus();
      saved?.(body);
    });
    return element;
  }

  function confirmation(body) {
    return h(
      "section",
      { class: "flare-up-saved card", tabindex: "-1", role: "status", "aria-labelledby": `${panel.id}-saved` },
      h("h2", { id: `${panel.id}-saved` }, t("Flare-up saved")),
      h(
        "p",
        {},
        `${t("Severity {severity} out of 10, since {day}.", { severity: body.severity, day: formatDay(body.started_on) })} `,
        navigator.onLine
          ? t("Your therapist will see it.")
          : t("It is saved on this phone, and your therapist will see it once you are back online."),
      ),
      h(
        "p",
        {},
        t(
          "Keep moving gently if you can: short walks and the stretches your therapist gave you usually help more than bed rest.",
        ),
      ),
      redFlagAdvice(),
      h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: hide }, t("Close"))),
    );
  }

  return { element: h("section", { class: "flare-up", "aria-label": t("Flare-up") }, open, panel) };
}

/** A fieldset of checkboxes: {set, boxes, checked() → the chosen names}. */
function choices(legend, name, options) {
  const boxes = Object.entries(options).map(([value]) => h("input", { type: "checkbox", name, value, id: uid(name) }));
  const set = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, legend),
    h(
      "div",
      { class: "choice-grid" },
      boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, t(options[box.value])))),
    ),
  );
  return { set, boxes, checked: () => boxes.filter((box) => box.checked).map((box) => box.value) };
}

/** The patient's flare-ups as a table, newest first (queued ones marked). */
export function flareUpTable(reports, caption = t("Flare-ups")) {
  const rows = [...reports].sort((a, b) => (a.started_on < b.started_on ? 1 : -1));
  return table(
    caption,
    [
      { label: t("Started"), value: (r) => h("span", { "data-l10n-skip": "" }, formatDay(r.started_on)) },
      { label: t("How bad"), value: (r) => `${r.severity}/10`, numeric: true },
      { label: t("Set off by"), value: (r) => words(r.triggers, TRIGGERS) },
      { label: t("Helped"), value: (r) => words(r.helped, HELPED) },
      {
        label: t("Note"),
        value: (r) => [
          h("span", { "data-l10n-skip": "" }, r.note || ""),
          r.queued ? h("span", { class: "queued" }, ` · ${t("not sent yet")}`) : "",
        ],
      },
    ],
    rows,
    { empty: t("No flare-ups reported in this period.") },
  );
}

function words(names, labels) {
  return names?.length ? names.map((name) => (labels[name] ? t(labels[name]) : name)).join(", ") : "–";
}

/** GET .../flare-ups/summary as two small tables: what set them off, and what
 * helped with the mean pain of the check-ins in the two days after. */
export function flareUpSummary(summary) {
  if (!summary.reports) return h("p", { class: "empty" }, t("No flare-ups reported."));
  const triggers = Object.entries(summary.triggers)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1]);
  const helped = Object.entries(summary.helped)
    .filter(([, row]) => row.reports > 0)
    .sort((a, b) => b[1].reports - a[1].reports);
  return h(
    "div",
    { class: "flare-summary" },
    h("p", {}, tn(summary.reports, "{count} flare-up reported in all.", "{count} flare-ups reported in all.")),
    table(
      t("What set them off"),
      [
        { label: t("Trigger"), value: ([name]) => words([name], TRIGGERS) },
        { label: t("Reports"), value: ([, count]) => count, numeric: true },
      ],
      triggers,
      { empty: t("No trigger named.") },
    ),
    table(
      t("What helped, and the pain after"),
      [
        { label: t("Helped"), value: ([name]) => words([name], HELPED) },
        { label: t("Reports"), value: ([, row]) => row.reports, numeric: true },
        {
          label: t("Mean pain, 2 days after"),
          value: ([, row]) =>
            row.pain_mean_48h === null
              ? "–"
              : `${number(row.pain_mean_48h)} (${tn(row.pain_logs_48h, "{count} check-in", "{count} check-ins")})`,
          numeric: true,
        },
      ],
      helped,
      { empty: t("Nothing named as helping.") },
    ),
  );
}
