/** Clinic administration: staff (add, deactivate), the handout's paper size,
 * the alert rules' settings, API tokens for scripts (the secret is shown once)
 * and the audit log. */
import * as api from "./api.js";
import { addDays, clearErrors, copyButton, deviceToday, field, formatDateTime, h, heading, loading, mount, say, showErrors, statusArea, table } from "./dom.js";

export function render(view, ctx) {
  const screens = { staff: staffScreen, tokens: tokensScreen, audit: auditScreen };
  return screens[ctx.view](view, ctx);
}

/* ---- staff ----------------------------------------------------------------- */

async function staffScreen(view, { user }) {
  const listArea = h("div", {}, loading());
  const listMessage = statusArea();
  say(listMessage, "");
  mount(view, heading("Staff"), addStaffForm(load), h("section", { "aria-labelledby": "staff-list" }, h("h2", { id: "staff-list" }, "Clinic staff"), listMessage, listArea), paperSetting(), alertSettings());

  async function load() {
    const staff = await api.get("/api/staff");
    mount(
      listArea,
      table(
        "Clinic staff",
        [
          { label: "Name", value: (s) => s.name },
          { label: "Email", value: (s) => s.email },
          { label: "Role", value: (s) => (s.role === "admin" ? "Admin" : "Therapist") },
          { label: "Status", value: (s) => statusPill(s) },
          { label: "Actions", value: (s) => (s.id === user.id ? h("span", { class: "hint" }, "You") : h("div", { class: "row-actions" }, activeToggle(s), s.second_factor ? resetButton(s) : null)) },
        ],
        staff,
        { hideCaption: true },
      ),
    );
  }

  function statusPill(member) {
    if (member.active === false) return h("span", { class: "status-pill off" }, "Deactivated");
    if (member.invite_pending) return h("span", { class: "status-pill" }, "Invited");
    return h("span", { class: "status-pill on" }, "Active");
  }

  function resetButton(member) {
    return h(
      "button",
      {
        type: "button",
        class: "secondary small",
        "aria-label": `Reset two-step sign-in of ${member.name}`,
        onclick: async () => {
          try {
            await api.post(`/api/staff/${member.id}/reset-second-factor`);
            say(listMessage, `${member.name} was signed out and will set up two-step sign-in again at their next sign-in.`, "success");
            await load();
          } catch (error) {
            say(listMessage, error.message, "error");
          }
        },
      },
      "Reset two-step",
    );
  }

  function activeToggle(member) {
    const active = member.active !== false;
    const label = active ? "Deactivate" : "Reactivate";
    return h(
      "button",
      {
        type: "button",
        class: active ? "danger small" : "secondary small",
        "aria-label": `${label} ${member.name}`,
        onclick: async () => {
          try {
            await api.patch(`/api/staff/${member.id}`, { active: !active });
            say(listMessage, `${member.name} is now ${active ? "deactivated and cannot sign in" : "active again"}.`, "success");
            await load();
            listArea.querySelector("button")?.focus();
          } catch (error) {
            say(listMessage, error.message, "error");
          }
        },
      },
      label,
    );
  }

  await load().catch((error) => mount(listArea, h("p", { role: "alert" }, error.message)));
}

function addStaffForm(onAdded) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
  const role = h("select", { name: "role" }, h("option", { value: "therapist" }, "Therapist"), h("option", { value: "admin" }, "Admin"));
  const message = statusArea("alert");
  const invite = h("div");
  say(message, "");
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    field("Full name", name),
    field("Email", email, "They get an email with a link to choose their own password, then set up two-step sign-in."),
    field("Role", role),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send invitation")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const added = await api.post("/api/staff", { name: name.value.trim(), email: email.value.trim(), role: role.value });
      form.reset();
      say(message, `Invitation sent to ${added.email}.`, "success");
      const link = h("input", { type: "text", readonly: true, value: added.invite_url, class: "mono", id: "staff-invite-link" });
      const copied = statusArea();
      say(copied, "");
      mount(invite, h("label", { for: "staff-invite-link" }, "If the email does not arrive, give them this link (it works once, for 14 days):"), h("div", { class: "copy-row" }, link, copyButton(link, copied, "Copy link")), copied);
      await onAdded();
    } catch (error) {
      showErrors(form, error, message);
    }
  });
  return h("details", { class: "card" }, h("summary", {}, "Invite a staff member"), form, invite);
}

/** The clinic's paper for printed programme handouts, saved as soon as it is chosen. */
function paperSetting() {
  const paper = h("select", { name: "paper_size", disabled: true }, h("option", { value: "A4" }, "A4"), h("option", { value: "Letter" }, "US Letter"));
  const message = statusArea();
  say(message, "");
  api
    .get("/api/clinic")
    .then((clinic) => {
      paper.value = clinic.paper_size;
      paper.disabled = false;
    })
    .catch((error) => say(message, error.message, "error"));
  paper.addEventListener("change", async () => {
    try {
      const clinic = await api.patch("/api/clinic", { paper_size: paper.value });
      say(message, `Handouts are now laid out for ${clinic.paper_size === "Letter" ? "US Letter" : "A4"} paper.`, "success");
    } catch (error) {
      say(message, error.message, "error");
    }
  });
  return h("section", { class: "card", "aria-labelledby": "paper-title" }, h("h2", { id: "paper-title" }, "Printed handouts"), h("div", { class: "narrow-form" }, field("Paper size", paper, "The paper the patients' programme handouts are laid out for.")), message);
}

/* ---- alert rules ------------------------------------------------------------ */

// Each rule in words, and what its numbers are called (backend/services/alerts.py RULES).
const ALERT_RULES = {
  pain_high: { title: "High pain", text: "Pain at or above a score on several check-ins in a row.", numbers: { points: "Pain score at least", in_a_row: "Check-ins in a row" } },
  pain_rising: { title: "Pain rising", text: "The last 7 days' mean pain above the 7 days before by at least some points.", numbers: { points: "Rise of at least (points)" } },
  flare_up: { title: "Severe flare-up", text: "A flare-up reported at or above a severity in the last days.", numbers: { points: "Severity at least", days: "Within the last (days)" } },
  inactive: { title: "Inactive", text: "Nothing logged for some days while exercises were due.", numbers: { days: "Days without a log" } },
  no_programme: { title: "No programme", text: "No programme some days after enrolment.", numbers: { days: "Days after enrolment" } },
  odi_worse: { title: "Oswestry worse", text: "An Oswestry score higher than the one before by at least some points.", numbers: { points: "Worse by at least (points)" } },
  psfs_worse: { title: "Daily activities worse", text: "A PSFS mean lower than the one before by at least some points.", numbers: { points: "Lower by at least (points)" } },
};
const SEVERITY_TEXT = { critical: "critical: the therapist is also emailed", warning: "warning" };
// the bounds the server takes (backend/schemas/clinics.py RuleSchema); points may be halves
const RULE_NUMBERS = { points: { min: 0.5, max: 100, step: "0.5", whole: false }, in_a_row: { min: 1, max: 10, step: "1", whole: true }, days: { min: 1, max: 90, step: "1", whole: true } };

/** The clinic's alert rules: each on or off, with its numbers; saved together. */
function alertSettings() {
  const body = h("div", {}, loading());
  const message = statusArea("alert");
  say(message, "");
  const section = h("section", { class: "card alert-settings", "aria-labelledby": "alert-settings-title" }, h("h2", { id: "alert-settings-title" }, "Alerts"), h("p", { class: "hint" }, "Which patients' data raises an alert for their therapist, and when."), body, message);

  function draw(settings) {
    const inputs = {};
    const rules = Object.entries(settings).map(([rule, setting]) => {
      const words = ALERT_RULES[rule] || { title: rule.replaceAll("_", " "), text: "", numbers: {} };
      const on = h("input", { type: "checkbox", name: `${rule}.on`, id: `alert-${rule}-on`, checked: Boolean(setting.on) });
      const numbers = Object.keys(setting)
        .filter((name) => typeof setting[name] === "number")
        .map((name) => {
          const bounds = RULE_NUMBERS[name] || RULE_NUMBERS.days;
          const input = h("input", { type: "number", name: `${rule}.${name}`, min: String(bounds.min), max: String(bounds.max), step: bounds.step, inputmode: bounds.whole ? "numeric" : "decimal", value: String(setting[name]), id: `alert-${rule}-${name}` });
          return [name, input];
        });
      inputs[rule] = { on, numbers };
      const sync = () => numbers.forEach(([, input]) => (input.disabled = !on.checked));
      on.addEventListener("change", sync);
      sync();
      return h(
        "fieldset",
        { class: "alert-rule" },
        h("legend", {}, words.title, setting.severity ? h("span", { class: `tag severity-tag ${setting.severity}` }, SEVERITY_TEXT[setting.severity] || setting.severity) : null),
        words.text ? h("p", { class: "hint" }, words.text) : null,
        h("div", { class: "check" }, on, h("label", { for: on.id }, `On: ${words.title}`)),
        numbers.length ? h("div", { class: "rule-numbers" }, numbers.map(([name, input]) => field(words.numbers[name] || name.replaceAll("_", " "), input))) : null,
      );
    });
    const form = h("form", { class: "alert-settings-form", novalidate: true }, h("div", { class: "alert-rules" }, rules), h("div", { class: "actions" }, h("button", { type: "submit" }, "Save alert settings")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const changed = {};
      const wrong = {};
      for (const [rule, { on, numbers }] of Object.entries(inputs)) {
        changed[rule] = { on: on.checked };
        for (const [name, input] of numbers) {
          const value = Number(input.value);
          const { min, max, whole } = RULE_NUMBERS[name] || RULE_NUMBERS.days;
          if (input.value === "" || !Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min || value > max) {
            wrong[input.name] = [`Must be ${whole ? "a whole number " : ""}from ${min} to ${max}.`];
          } else changed[rule][name] = value;
        }
      }
      if (Object.keys(wrong).length) {
        showErrors(form, { fieldErrors: wrong }, message);
        return;
      }
      try {
        const clinic = await api.patch("/api/clinic", { alert_settings: changed });
        say(message, "Alert settings saved.", "success");
        if (clinic?.alert_settings) draw(clinic.alert_settings);
      } catch (error) {
        showErrors(form, { ...error, fieldErrors: flatten(error.fieldErrors), message: error.message }, message);
      }
    });
    mount(body, form);
  }

  /** {alert_settings: {pain_high: {points: [...]}}} → {"pain_high.points": [...]}, the inputs' names. */
  function flatten(errors) {
    const found = {};
    for (const [rule, byField] of Object.entries(errors?.alert_settings || {})) {
      if (byField && typeof byField === "object" && !Array.isArray(byField)) for (const [name, text] of Object.entries(byField)) found[`${rule}.${name}`] = text;
      else found[rule] = byField;
    }
    return Object.keys(found).length ? found : errors;
  }

  api
    .get("/api/clinic")
    .then((clinic) => (clinic.alert_settings ? draw(clinic.alert_settings) : mount(body, h("p", { class: "empty" }, "Alert settings are not available yet."))))
    .catch((error) => mount(body, h("p", { role: "alert" }, error.message)));
  return section;
}

/* ---- API tokens -------------------------------------------------------------- */

async function tokensScreen(view) {
  const listArea = h("div", {}, loading());
  const secretArea = h("div");
  const name = h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" });
  const message = statusArea("alert");
  say(message, "");
  const form = h("form", { class: "toolbar", novalidate: true }, field("Token name", name), h("div", { class: "actions" }, h("button", { type: "submit" }, "Create token")));
  mount(
    view,
    heading("API tokens"),
    h("p", { class: "lead" }, "Scripts use a token (Authorization: Bearer …) to pull reports without signing in. Revoke a token as soon as it is no longer needed."),
    h("section", { class: "card", "aria-labelledby": "new-token" }, h("h2", { id: "new-token" }, "New token"), h("p", { class: "hint" }, "Name it after what will use it, e.g. “Monthly EHR export”."), form, message, secretArea),
    h("section", { "aria-labelledby": "token-list" }, h("h2", { id: "token-list" }, "Tokens"), listArea),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!name.value.trim()) {
      showErrors(form, { fieldErrors: { name: ["Give the token a name."] } }, message);
      return;
    }
    try {
      const created = await api.post("/api/tokens", { name: name.value.trim() });
      form.reset();
      say(message, "");
      const secret = h("input", { type: "text", readonly: true, value: created.token, class: "mono", id: "token-secret" });
      const copied = statusArea();
      say(copied, "");
      mount(
        secretArea,
        h(
          "div",
          { class: "card success" },
          h("p", {}, h("strong", {}, `Token “${created.name}” created. Copy it now: it will not be shown again.`)),
          h("label", { for: "token-secret" }, "Token secret"),
          h("div", { class: "copy-row" }, secret, copyButton(secret, copied, "Copy token")),
          copied,
        ),
      );
      secret.focus();
      secret.select();
      await load();
    } catch (error) {
      showErrors(form, error, message);
    }
  });

  async function load() {
    const tokens = await api.get("/api/tokens");
    mount(
      listArea,
      table(
        "API tokens",
        [
          { label: "Name", value: (t) => t.name },
          { label: "Created", value: (t) => formatDateTime(t.created_at) },
          { label: "Last used", value: (t) => (t.last_used_at ? formatDateTime(t.last_used_at) : "Never") },
          { label: "Status", value: (t) => (t.revoked_at ? h("span", { class: "status-pill off" }, `Revoked ${formatDateTime(t.revoked_at)}`) : h("span", { class: "status-pill on" }, "Active")) },
          { label: "Actions", value: (t) => (t.revoked_at ? "" : revokeButton(t)) },
        ],
        tokens,
        { empty: "No tokens yet.", hideCaption: true },
      ),
    );
  }

  function revokeButton(token) {
    const button = h("button", { type: "button", class: "danger small", "aria-label": `Revoke ${token.name}` }, "Revoke");
    let armed = false;
    button.addEventListener("click", async () => {
      if (!armed) {
        armed = true; // a second click confirms: revoking cannot be undone
        button.textContent = "Confirm revoke";
        button.setAttribute("aria-label", `Confirm revoke ${token.name}`);
        return;
      }
      try {
        await api.del(`/api/tokens/${token.id}`);
        say(message, `Token “${token.name}” revoked.`, "success");
        await load();
      } catch (error) {
        say(message, error.message, "error");
      }
    });
    button.addEventListener("blur", () => {
      armed = false;
      button.textContent = "Revoke";
      button.setAttribute("aria-label", `Revoke ${token.name}`);
    });
    return button;
  }

  await load().catch((error) => mount(listArea, h("p", { role: "alert" }, error.message)));
}

/* ---- audit log --------------------------------------------------------------- */

// What the admin can ask for; each is a list of actions ("auth." = all of a kind).
const AUDIT_KINDS = [
  ["", "Everything"],
  ["patient.read", "Views of patient records"],
  ["access.refused", "Refused access"],
  ["auth.", "Sign-ins, accounts"],
  ["reports.,progress.fhir_export,audit.audit_trail_csv", "Exports"],
  ["patients.,programmes.,progress.take_odi", "Patient, programme changes"],
  ["logs.", "Ticks, pain check-ins"],
  ["staff.,tokens.,exercises.", "Staff, tokens, library"],
];
const AUDIT_LIMIT = 500;

async function auditScreen(view) {
  const today = deviceToday();
  const from = h("input", { type: "date", name: "from", value: addDays(today, -6) });
  const to = h("input", { type: "date", name: "to", value: today });
  const person = h("select", { name: "actor_id" }, h("option", { value: "" }, "Anyone"));
  const patient = h("select", { name: "patient_id" }, h("option", { value: "" }, "Any patient"));
  const kind = h("select", { name: "action" }, AUDIT_KINDS.map(([value, label]) => h("option", { value }, label)));
  const download = h("a", { class: "button-link secondary", download: "audit.csv" }, "Download CSV");
  const message = statusArea("alert");
  say(message, "");
  const results = h("div");
  const form = h(
    "form",
    { class: "toolbar audit-filters", novalidate: true },
    field("From", from),
    field("To", to),
    field("Person", person),
    field("Patient", patient),
    field("What", kind),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show entries"), download),
  );
  mount(view, heading("Audit log"), h("p", { class: "lead" }, "Every change, sign-in (also failed ones), export, refused access and view of a patient's record in this clinic."), form, message, results);

  const [staff, patients] = await Promise.all([api.get("/api/staff"), api.get("/api/patients")]).catch(() => [[], []]);
  const byName = (a, b) => a.name.localeCompare(b.name);
  person.append(
    h("optgroup", { label: "Staff" }, [...staff].sort(byName).map((s) => h("option", { value: s.id }, s.name))),
    h("optgroup", { label: "Patients" }, [...patients].sort(byName).map((p) => h("option", { value: p.id }, p.name))),
  );
  patient.append(...[...patients].sort(byName).map((p) => h("option", { value: p.id }, p.name)));

  function query() {
    const params = new URLSearchParams({ from: from.value, to: to.value });
    for (const select of [person, patient, kind]) if (select.value) params.set(select.name, select.value);
    return params;
  }

  let ticket = 0;

  async function show() {
    const mine = ++ticket; // only the latest query may fill the table
    if (!from.value || !to.value || from.value > to.value) {
      say(message, "Choose a start date on or before the end date.", "error");
      return;
    }
    say(message, "");
    download.href = `/api/audit.csv?${query()}`;
    download.setAttribute("download", `audit-${from.value}-to-${to.value}.csv`);
    mount(results, loading());
    try {
      const params = query();
      params.set("limit", AUDIT_LIMIT);
      const entries = await api.get("/api/audit", params);
      if (mine !== ticket) return;
      mount(
        results,
        entries.length >= AUDIT_LIMIT ? h("p", { class: "hint" }, `Showing the latest ${AUDIT_LIMIT}. Narrow the filters, or download the CSV for all of them.`) : null,
        table(
          "Audit entries, newest first",
          [
            { label: "When", value: (e) => formatDateTime(e.at) },
            { label: "What happened", value: (e) => e.sentence, rowHeader: false },
            { label: "Result", value: (e) => h("span", { class: `status-pill ${e.status >= 400 ? "off" : "on"}` }, e.status >= 400 ? `Refused (${e.status})` : "Done"), numeric: true },
            { label: "Address", value: (e) => e.ip || "–" },
            { label: "Details", value: (e) => details(e) },
          ],
          entries,
          { empty: "No entries match.", className: "audit" },
        ),
      );
    } catch (error) {
      if (mine !== ticket) return;
      mount(results);
      say(message, error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  await show();
}

/** The technical record behind an audit sentence, folded away. */
function details(event) {
  const lines = [`action: ${event.action}`, event.actor_email ? `account: ${event.actor_email}` : null, event.target_type ? `record: ${event.target_type} ${event.target_id ?? ""}` : null, event.detail ? JSON.stringify(event.detail) : null].filter(Boolean);
  return h("details", {}, h("summary", {}, "Details"), h("code", {}, lines.join("\n")));
}
