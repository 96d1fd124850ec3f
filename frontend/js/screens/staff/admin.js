/** Clinic administration: staff (add, deactivate), the handout's paper size,
 * the alert rules' settings, API tokens for scripts (the secret is shown once)
 * and the audit log. */
import * as api from "../../core/api.js";
import {
  addDays,
  clearErrors,
  copyButton,
  deviceToday,
  field,
  formatDateTime,
  h,
  heading,
  loading,
  mount,
  rangeChosen,
  say,
  showErrors,
  statusArea,
  submitForm,
  table,
} from "../../core/dom.js";
import { LANGUAGES, N_, t, tn } from "../../core/i18n.js";

export function render(view, ctx) {
  const screens = { staff: staffScreen, tokens: tokensScreen, audit: auditScreen };
  return screens[ctx.view](view, ctx);
}

/* ---- staff ----------------------------------------------------------------- */

async function staffScreen(view, { user }) {
  const listArea = h("div", {}, loading());
  const listMessage = statusArea();
  say(listMessage, "");
  mount(
    view,
    heading(t("Staff")),
    addStaffForm(load),
    h(
      "section",
      { "aria-labelledby": "staff-list" },
      h("h2", { id: "staff-list" }, t("Clinic staff")),
      listMessage,
      listArea,
    ),
    paperSetting(),
    alertSettings(),
    mailDelivery(),
  );

  async function load() {
    const staff = await api.get("/api/staff");
    mount(
      listArea,
      table(
        t("Clinic staff"),
        [
          { label: t("Name"), value: (s) => s.name },
          { label: t("Email"), value: (s) => s.email },
          { label: t("Role"), value: (s) => (s.role === "admin" ? t("Admin") : t("Therapist")) },
          { label: t("Status"), value: (s) => statusPill(s) },
          {
            label: t("Actions"),
            value: (s) =>
              s.id === user.id
                ? h("span", { class: "hint" }, t("You"))
                : h("div", { class: "row-actions" }, activeToggle(s), s.second_factor ? resetButton(s) : null),
          },
        ],
        staff,
        { hideCaption: true },
      ),
    );
  }

  function statusPill(member) {
    if (member.active === false) return h("span", { class: "status-pill off" }, t("Deactivated"));
    if (member.invite_pending) return h("span", { class: "status-pill" }, t("Invited"));
    return h("span", { class: "status-pill on" }, t("Active"));
  }

  function resetButton(member) {
    return h(
      "button",
      {
        type: "button",
        class: "secondary small",
        "aria-label": t("Reset two-step sign-in of {name}", { name: member.name }),
        onclick: async () => {
          try {
            await api.post(`/api/staff/${member.id}/reset-second-factor`);
            say(
              listMessage,
              t("{name} was signed out and will set up two-step sign-in again at their next sign-in.", {
                name: member.name,
              }),
              "success",
            );
            await load();
          } catch (error) {
            say(listMessage, error.message, "error");
          }
        },
      },
      t("Reset two-step"),
    );
  }

  function activeToggle(member) {
    const active = member.active !== false;
    const label = active ? t("Deactivate") : t("Reactivate");
    return h(
      "button",
      {
        type: "button",
        class: active ? "danger small" : "secondary small",
        "aria-label": `${label} ${member.name}`,
        onclick: async () => {
          try {
            await api.patch(`/api/staff/${member.id}`, { active: !active });
            say(
              listMessage,
              active
                ? t("{name} is now deactivated and cannot sign in.", { name: member.name })
                : t("{name} is now active again.", { name: member.name }),
              "success",
            );
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
  const role = h(
    "select",
    { name: "role" },
    h("option", { value: "therapist" }, t("Therapist")),
    h("option", { value: "admin" }, t("Admin")),
  );
  const message = statusArea("alert");
  const invite = h("div");
  say(message, "");
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    field(t("Full name"), name),
    field(
      t("Email"),
      email,
      t("They get an email with a link to choose their own password, then set up two-step sign-in."),
    ),
    field(t("Role"), role),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Send invitation"))),
  );
  submitForm(form, {
    area: message,
    async send() {
      const added = await api.post("/api/staff", {
        name: name.value.trim(),
        email: email.value.trim(),
        role: role.value,
      });
      form.reset();
      say(message, t("Invitation sent to {email}.", { email: added.email }), "success");
      const link = h("input", {
        type: "text",
        readonly: true,
        value: added.invite_url,
        class: "mono",
        id: "staff-invite-link",
      });
      const copied = statusArea();
      say(copied, "");
      mount(
        invite,
        h(
          "label",
          { for: "staff-invite-link" },
          t("If the email does not arrive, give them this link (it works once, for 14 days):"),
        ),
        h("div", { class: "copy-row" }, link, copyButton(link, copied, t("Copy link"))),
        copied,
      );
      await onAdded();
    },
  });
  return h("details", { class: "card" }, h("summary", {}, t("Invite a staff member")), form, invite);
}

/** The clinic's paper for printed programme handouts and its default language,
 * each saved as soon as it is chosen. */
function paperSetting() {
  const paper = h(
    "select",
    { name: "paper_size", disabled: true },
    h("option", { value: "A4" }, t("A4")),
    h("option", { value: "Letter" }, t("US Letter")),
  );
  const language = h(
    "select",
    { name: "default_language", disabled: true },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, lang: code }, name)),
  );
  const message = statusArea();
  say(message, "");
  api
    .get("/api/clinic")
    .then((clinic) => {
      paper.value = clinic.paper_size;
      paper.disabled = false;
      if (clinic.default_language) {
        language.value = clinic.default_language;
        language.disabled = false;
      }
    })
    .catch((error) => say(message, error.message, "error"));
  paper.addEventListener("change", async () => {
    try {
      const clinic = await api.patch("/api/clinic", { paper_size: paper.value });
      say(
        message,
        clinic.paper_size === "Letter"
          ? t("Handouts are now laid out for US Letter paper.")
          : t("Handouts are now laid out for A4 paper."),
        "success",
      );
    } catch (error) {
      say(message, error.message, "error");
    }
  });
  language.addEventListener("change", async () => {
    try {
      const clinic = await api.patch("/api/clinic", { default_language: language.value });
      say(
        message,
        t("New patients now start in {language}.", {
          language: LANGUAGES[clinic.default_language] || clinic.default_language,
        }),
        "success",
      );
    } catch (error) {
      say(message, error.message, "error");
    }
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "paper-title" },
    h("h2", { id: "paper-title" }, t("Printed handouts")),
    h(
      "div",
      { class: "narrow-form" },
      field(t("Paper size"), paper, t("The paper the patients' programme handouts are laid out for.")),
      field(
        t("Default language for new patients"),
        language,
        t("Used until a patient chooses a language, unless their phone asks for one Homeward speaks."),
      ),
    ),
    message,
  );
}

/* ---- email delivery --------------------------------------------------------- */

const MAIL_KINDS = {
  security: N_("Account security"),
  invitation: N_("Invitation"),
  alert: N_("Alert"),
  message: N_("Message notice"),
  export: N_("Report ready"),
  reminder: N_("Reminder"),
};

/** How the clinic's email is going (GET /api/clinic/mail): what waits, what
 * could not be delivered, and why. */
function mailDelivery() {
  const body = h("div", {}, loading());
  api
    .get("/api/clinic/mail")
    .then((state) => {
      const waiting = state.waiting
        ? tn(
            state.waiting,
            "{count} email waiting, since {minutes} min.",
            "{count} emails waiting; the oldest for {minutes} min.",
            { minutes: Math.round((state.oldest_waiting_seconds || 0) / 60) },
          )
        : t("No email waiting.");
      const failed = state.failed
        ? tn(
            state.failed,
            "{count} email could not be delivered in the last 30 days.",
            "{count} emails could not be delivered in the last 30 days.",
          )
        : t("Every email of the last 30 days was delivered.");
      body.replaceChildren(
        h("p", {}, waiting, " ", failed),
        state.undelivered.length
          ? table(
              t("Emails not delivered"),
              [
                { label: t("To"), value: (m) => m.to },
                { label: t("What"), value: (m) => t(MAIL_KINDS[m.kind] || N_("Email")) },
                { label: t("Since"), value: (m) => formatDateTime(m.created_at) },
                { label: t("State"), value: (m) => (m.status === "failed" ? t("Not delivered") : t("Waiting")) },
                { label: t("Last problem"), value: (m) => m.last_error || "" },
              ],
              state.undelivered,
            )
          : "",
      );
    })
    .catch((error) => body.replaceChildren(h("p", { class: "error" }, error.message)));
  return h(
    "section",
    { class: "card", "aria-labelledby": "mail-title" },
    h("h2", { id: "mail-title" }, t("Email delivery")),
    h(
      "p",
      { class: "hint" },
      t(
        "Homeward retries an email for a day before it gives up. Ask the person to check their address if it keeps failing.",
      ),
    ),
    body,
  );
}

/* ---- alert rules ------------------------------------------------------------ */

// Each rule in words, and what its numbers are called (backend/services/alerts.py RULES).
const ALERT_RULES = {
  pain_high: {
    title: N_("High pain"),
    text: N_("Pain at or above a score on several check-ins in a row."),
    numbers: { points: N_("Pain score at least"), in_a_row: N_("Check-ins in a row") },
  },
  pain_rising: {
    title: N_("Pain rising"),
    text: N_("The last 7 days' mean pain above the 7 days before by at least some points."),
    numbers: { points: N_("Rise of at least (points)") },
  },
  flare_up: {
    title: N_("Severe flare-up"),
    text: N_("A flare-up reported at or above a severity in the last days."),
    numbers: { points: N_("Severity at least"), days: N_("Within the last (days)") },
  },
  inactive: {
    title: N_("Inactive"),
    text: N_("Nothing logged for some days while exercises were due."),
    numbers: { days: N_("Days without a log") },
  },
  no_programme: {
    title: N_("No programme"),
    text: N_("No programme some days after enrolment."),
    numbers: { days: N_("Days after enrolment") },
  },
  odi_worse: {
    title: N_("Oswestry worse"),
    text: N_("An Oswestry score higher than the one before by at least some points."),
    numbers: { points: N_("Worse by at least (points)") },
  },
  psfs_worse: {
    title: N_("Daily activities worse"),
    text: N_("A PSFS mean lower than the one before by at least some points."),
    numbers: { points: N_("Lower by at least (points)") },
  },
};
const SEVERITY_TEXT = { critical: N_("critical: the therapist is also emailed"), warning: N_("warning") };
// the bounds the server takes (backend/schemas/clinics.py RuleSchema); points may be halves
const RULE_NUMBERS = {
  points: { min: 0.5, max: 100, step: "0.5", whole: false },
  in_a_row: { min: 1, max: 10, step: "1", whole: true },
  days: { min: 1, max: 90, step: "1", whole: true },
};

/** The clinic's alert rules: each on or off, with its numbers; saved together. */
function alertSettings() {
  const body = h("div", {}, loading());
  const message = statusArea("alert");
  say(message, "");
  const section = h(
    "section",
    { class: "card alert-settings", "aria-labelledby": "alert-settings-title" },
    h("h2", { id: "alert-settings-title" }, t("Alerts")),
    h("p", { class: "hint" }, t("Which patients' data raises an alert for their therapist, and when.")),
    body,
    message,
  );

  function draw(settings) {
    const inputs = {};
    const rules = Object.entries(settings).map(([rule, setting]) => {
      const known = ALERT_RULES[rule];
      const words = known
        ? {
            title: t(known.title),
            text: t(known.text),
            numbers: Object.fromEntries(Object.entries(known.numbers).map(([name, label]) => [name, t(label)])),
          }
        : { title: rule.replaceAll("_", " "), text: "", numbers: {} };
      const on = h("input", {
        type: "checkbox",
        name: `${rule}.on`,
        id: `alert-${rule}-on`,
        checked: Boolean(setting.on),
      });
      const numbers = Object.keys(setting)
        .filter((name) => typeof setting[name] === "number")
        .map((name) => {
          const bounds = RULE_NUMBERS[name] || RULE_NUMBERS.days;
          const input = h("input", {
            type: "number",
            name: `${rule}.${name}`,
            min: String(bounds.min),
            max: String(bounds.max),
            step: bounds.step,
            inputmode: bounds.whole ? "numeric" : "decimal",
            value: String(setting[name]),
            id: `alert-${rule}-${name}`,
          });
          return [name, input];
        });
      inputs[rule] = { on, numbers };
      const sync = () => numbers.forEach(([, input]) => (input.disabled = !on.checked));
      on.addEventListener("change", sync);
      sync();
      return h(
        "fieldset",
        { class: "alert-rule" },
        h(
          "legend",
          {},
          words.title,
          setting.severity
            ? h(
                "span",
                { class: `tag severity-tag ${setting.severity}` },
                SEVERITY_TEXT[setting.severity] ? t(SEVERITY_TEXT[setting.severity]) : setting.severity,
              )
            : null,
        ),
        words.text ? h("p", { class: "hint" }, words.text) : null,
        h("div", { class: "check" }, on, h("label", { for: on.id }, t("On: {rule}", { rule: words.title }))),
        numbers.length
          ? h(
              "div",
              { class: "rule-numbers" },
              numbers.map(([name, input]) => field(words.numbers[name] || name.replaceAll("_", " "), input)),
            )
          : null,
      );
    });
    const form = h(
      "form",
      { class: "alert-settings-form", novalidate: true },
      h("div", { class: "alert-rules" }, rules),
      h("div", { class: "actions" }, h("button", { type: "submit" }, t("Save alert settings"))),
    );
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
          if (
            input.value === "" ||
            !Number.isFinite(value) ||
            (whole && !Number.isInteger(value)) ||
            value < min ||
            value > max
          ) {
            wrong[input.name] = [
              whole
                ? t("Must be a whole number from {min} to {max}.", { min, max })
                : t("Must be from {min} to {max}.", { min, max }),
            ];
          } else changed[rule][name] = value;
        }
      }
      if (Object.keys(wrong).length) {
        showErrors(form, { fieldErrors: wrong }, message);
        return;
      }
      try {
        const clinic = await api.patch("/api/clinic", { alert_settings: changed });
        say(message, t("Alert settings saved."), "success");
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
      if (byField && typeof byField === "object" && !Array.isArray(byField))
        for (const [name, text] of Object.entries(byField)) found[`${rule}.${name}`] = text;
      else found[rule] = byField;
    }
    return Object.keys(found).length ? found : errors;
  }

  api
    .get("/api/clinic")
    .then((clinic) =>
      clinic.alert_settings
        ? draw(clinic.alert_settings)
        : mount(body, h("p", { class: "empty" }, t("Alert settings are not available yet."))),
    )
    .catch((error) => mount(body, h("p", { role: "alert" }, error.message)));
  return section;
}

/* ---- API tokens -------------------------------------------------------------- */

async function tokensScreen(view) {
  const listArea = h("div", {}, loading());
  const secretArea = h("div");
  const name = h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" });
  // a token lives at most 90 days (the server's limit); its maker may choose fewer
  const days = h("input", {
    name: "expires_in_days",
    type: "number",
    min: "1",
    max: "90",
    step: "1",
    value: "90",
    required: true,
    inputmode: "numeric",
  });
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "toolbar", novalidate: true },
    field(t("Token name"), name),
    field(t("Works for (days)"), days, t("At most 90 days; it reads reports only.")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Create token"))),
  );
  mount(
    view,
    heading(t("API tokens")),
    h(
      "p",
      { class: "lead" },
      t(
        "Scripts use a token (Authorization: Bearer …) to pull reports without signing in. Revoke a token as soon as it is no longer needed.",
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "new-token" },
      h("h2", { id: "new-token" }, t("New token")),
      h("p", { class: "hint" }, t("Name it after what will use it, e.g. “Monthly EHR export”.")),
      form,
      message,
      secretArea,
    ),
    h("section", { "aria-labelledby": "token-list" }, h("h2", { id: "token-list" }, t("Tokens")), listArea),
  );

  submitForm(form, {
    area: message,
    check() {
      if (name.value.trim()) return true;
      showErrors(form, { fieldErrors: { name: [t("Give the token a name.")] } }, message);
      return false;
    },
    async send() {
      const created = await api.post("/api/tokens", { name: name.value.trim(), expires_in_days: Number(days.value) });
      form.reset();
      say(message, "");
      const secret = h("input", {
        type: "text",
        readonly: true,
        value: created.token,
        class: "mono",
        id: "token-secret",
      });
      const copied = statusArea();
      say(copied, "");
      mount(
        secretArea,
        h(
          "div",
          { class: "card success" },
          h(
            "p",
            {},
            h(
              "strong",
              {},
              t("Token “{name}” created. Copy it now: it will not be shown again.", { name: created.name }),
            ),
          ),
          h("p", {}, t("It works until {when}.", { when: formatDateTime(created.expires_at) })),
          h("label", { for: "token-secret" }, t("Token secret")),
          h("div", { class: "copy-row" }, secret, copyButton(secret, copied, t("Copy token"))),
          copied,
        ),
      );
      secret.focus();
      secret.select();
      await load();
    },
  });

  async function load() {
    const tokens = await api.get("/api/tokens");
    mount(
      listArea,
      table(
        t("API tokens"),
        [
          { label: t("Name"), value: (token) => token.name },
          { label: t("Created"), value: (token) => formatDateTime(token.created_at) },
          {
            label: t("Last used"),
            value: (token) => (token.last_used_at ? formatDateTime(token.last_used_at) : t("Never")),
          },
          { label: t("Expires"), value: (token) => formatDateTime(token.expires_at) },
          { label: t("Status"), value: tokenStatus },
          { label: t("Actions"), value: (token) => (token.revoked_at || expired(token) ? "" : revokeButton(token)) },
        ],
        tokens,
        { empty: t("No tokens yet."), hideCaption: true },
      ),
    );
  }

  function tokenStatus(token) {
    if (token.revoked_at)
      return h("span", { class: "status-pill off" }, t("Revoked {when}", { when: formatDateTime(token.revoked_at) }));
    if (expired(token)) return h("span", { class: "status-pill off" }, t("Expired"));
    return h("span", { class: "status-pill on" }, t("Active"));
  }

  function revokeButton(token) {
    const button = h(
      "button",
      { type: "button", class: "danger small", "aria-label": t("Revoke {name}", { name: token.name }) },
      t("Revoke"),
    );
    let armed = false;
    button.addEventListener("click", async () => {
      if (!armed) {
        armed = true; // a second click confirms: revoking cannot be undone
        button.textContent = t("Confirm revoke");
        button.setAttribute("aria-label", t("Confirm revoke {name}", { name: token.name }));
        return;
      }
      try {
        await api.del(`/api/tokens/${token.id}`);
        say(message, t("Token “{name}” revoked.", { name: token.name }), "success");
        await load();
      } catch (error) {
        say(message, error.message, "error");
      }
    });
    button.addEventListener("blur", () => {
      armed = false;
      button.textContent = t("Revoke");
      button.setAttribute("aria-label", t("Revoke {name}", { name: token.name }));
    });
    return button;
  }

  await load().catch((error) => mount(listArea, h("p", { role: "alert" }, error.message)));
}

function expired(token) {
  return new Date(token.expires_at) <= new Date();
}

/* ---- audit log --------------------------------------------------------------- */

// What the admin can ask for; each is a list of actions ("auth." = all of a kind).
const AUDIT_KINDS = [
  ["", N_("Everything")],
  ["patient.read", N_("Views of patient records")],
  ["access.refused", N_("Refused access")],
  ["auth.", N_("Sign-ins, accounts")],
  ["reports.,progress.fhir_export,audit.audit_trail_csv", N_("Exports")],
  ["patients.,programmes.,progress.take_odi", N_("Patient, programme changes")],
  ["logs.", N_("Ticks, pain check-ins")],
  ["staff.,tokens.,exercises.", N_("Staff, tokens, library")],
];
const AUDIT_LIMIT = 500;

async function auditScreen(view) {
  const today = deviceToday();
  const from = h("input", { type: "date", name: "from", value: addDays(today, -6) });
  const to = h("input", { type: "date", name: "to", value: today });
  const person = h("select", { name: "actor_id" }, h("option", { value: "" }, t("Anyone")));
  const patient = h("select", { name: "patient_id" }, h("option", { value: "" }, t("Any patient")));
  const kind = h(
    "select",
    { name: "action" },
    AUDIT_KINDS.map(([value, label]) => h("option", { value }, t(label))),
  );
  const download = h("a", { class: "button-link secondary", download: "audit.csv" }, t("Download CSV"));
  const message = statusArea("alert");
  say(message, "");
  const results = h("div");
  const form = h(
    "form",
    { class: "toolbar audit-filters", novalidate: true },
    field(t("From"), from),
    field(t("To"), to),
    field(t("Person"), person),
    field(t("Patient"), patient),
    field(t("What"), kind),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Show entries")), download),
  );
  mount(
    view,
    heading(t("Audit log")),
    h(
      "p",
      { class: "lead" },
      t(
        "Every change, sign-in (also failed ones), export, refused access and view of a patient's record in this clinic.",
      ),
    ),
    form,
    message,
    results,
  );

  const [staff, patients] = await Promise.all([api.get("/api/staff"), api.get("/api/patients")]).catch(() => [[], []]);
  const byName = (a, b) => a.name.localeCompare(b.name);
  person.append(
    h(
      "optgroup",
      { label: t("Staff") },
      [...staff].sort(byName).map((s) => h("option", { value: s.id }, s.name)),
    ),
    h(
      "optgroup",
      { label: t("Patients") },
      [...patients].sort(byName).map((p) => h("option", { value: p.id }, p.name)),
    ),
  );
  patient.append(...[...patients].sort(byName).map((p) => h("option", { value: p.id }, p.name)));

  function query() {
    const params = new URLSearchParams({ from: from.value, to: to.value });
    for (const select of [person, patient, kind]) if (select.value) params.set(select.name, select.value);
    return params;
  }

  let ticket = 0;

  async function show() {
    if (!rangeChosen(from, to, message)) return; // a query still loading may finish
    const mine = ++ticket; // only the latest query may fill the table
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
        entries.length >= AUDIT_LIMIT
          ? h(
              "p",
              { class: "hint" },
              t("Showing the latest {count}. Narrow the filters, or download the CSV for all of them.", {
                count: AUDIT_LIMIT,
              }),
            )
          : null,
        table(
          t("Audit entries, newest first"),
          [
            { label: t("When"), value: (e) => formatDateTime(e.at) },
            { label: t("What happened"), value: (e) => e.sentence, rowHeader: false },
            {
              label: t("Result"),
              value: (e) =>
                h(
                  "span",
                  { class: `status-pill ${e.status >= 400 ? "off" : "on"}` },
                  e.status >= 400 ? t("Refused ({status})", { status: String(e.status) }) : t("Done"),
                ),
              numeric: true,
            },
            { label: t("Address"), value: (e) => e.ip || "–" },
            { label: t("Details"), value: (e) => details(e) },
          ],
          entries,
          { empty: t("No entries match."), className: "audit" },
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
  const lines = [
    `action: ${event.action}`,
    event.actor_email ? `account: ${event.actor_email}` : null,
    event.target_type ? `record: ${event.target_type} ${event.target_id ?? ""}` : null,
    event.detail ? JSON.stringify(event.detail) : null,
  ].filter(Boolean);
  return h("details", {}, h("summary", {}, t("Details")), h("code", {}, lines.join("\n")));
}
