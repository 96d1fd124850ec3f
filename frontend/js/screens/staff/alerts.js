/** Alerts for staff (#/alerts): a therapist's patients' (an admin's: the
 * clinic's), critical first then the longest waiting, each with its patient,
 * what happened and how long ago; Acknowledge, and Resolve with a note. The
 * admin also sees how long each waited to be acknowledged. The patient page
 * shows one patient's open alerts with the same cards (`alertList`). */
import * as api from "../../core/api.js";
import * as badges from "../../core/badges.js";
import { formatDateTime, h, heading, loading, mount, say, statusArea, uid } from "../../core/dom.js";
import { N_, language, t, tn } from "../../core/i18n.js";

const FILTERS = [
  ["", N_("Open")],
  ["new", N_("New")],
  ["acknowledged", N_("Acknowledged")],
  ["resolved", N_("Resolved")],
];
const STATE_WORDS = { new: N_("New"), acknowledged: N_("Acknowledged"), resolved: N_("Resolved") };
const SEVERITY_WORDS = { critical: N_("Critical"), warning: N_("Warning") };

export async function render(view, { user }) {
  let filter = sessionStorage.getItem("alerts-filter") || "";
  const listArea = h("div", {}, loading());
  const count = h("p", { class: "hint", role: "status" });
  const message = statusArea();
  say(message, "");
  const picker = h(
    "div",
    { class: "segmented filters", role: "group", "aria-label": t("Show alerts") },
    FILTERS.map(([value, label]) =>
      h(
        "button",
        {
          type: "button",
          "aria-pressed": String(value === filter),
          dataset: { filter: value },
          onclick: () => choose(value),
        },
        t(label),
      ),
    ),
  );
  mount(
    view,
    heading(t("Alerts")),
    h(
      "p",
      { class: "lead" },
      user.role === "admin"
        ? t("Alerts for every patient of the clinic, the most urgent first.")
        : t("Alerts for your patients, the most urgent first."),
    ),
    picker,
    message,
    count,
    listArea,
  );

  async function choose(value) {
    filter = value;
    sessionStorage.setItem("alerts-filter", value);
    for (const button of picker.querySelectorAll("button"))
      button.setAttribute("aria-pressed", String(button.dataset.filter === value));
    await load();
  }

  async function load() {
    try {
      const alerts = sortAlerts(await api.get("/api/alerts", filter ? { state: filter } : undefined));
      count.textContent = alertCount(filter, alerts.length);
      mount(
        listArea,
        alertList(alerts, {
          user,
          changed: load,
          area: message,
          empty: filter === "resolved" ? t("No resolved alerts.") : t("No alerts: nothing needs your attention."),
        }),
      );
    } catch (error) {
      count.textContent = "";
      mount(
        listArea,
        h("p", { role: "alert" }, error.offline ? t("You are offline. Alerts need a connection.") : error.message),
      );
    }
  }

  await load();
  const timer = setInterval(() => {
    // new alerts arrive while the screen is open; an open Resolve form is left alone
    if (document.visibilityState === "visible" && navigator.onLine && !listArea.querySelector("form")) load();
  }, 60000);
  return () => clearInterval(timer);
}

/** Critical first, then the longest waiting. */
export function sortAlerts(alerts) {
  const rank = (alert) => (alert.severity === "critical" ? 0 : 1);
  return [...alerts].sort(
    (a, b) => rank(a) - rank(b) || (a.raised_at < b.raised_at ? -1 : a.raised_at > b.raised_at ? 1 : a.id - b.id),
  );
}

/** Alert cards with their actions. `changed()` is called after an action;
 * `area` says what happened; `showPatient` false on the patient's own page. */
export function alertList(alerts, { user, changed, area, showPatient = true, empty = t("No alerts.") }) {
  if (!alerts.length) return h("p", { class: "empty" }, empty);
  return h(
    "ul",
    { class: "alert-list" },
    alerts.map((alert) => alertCard(alert, { user, changed, area, showPatient })),
  );
}

function alertCard(alert, { user, changed, area, showPatient }) {
  const titleId = uid("alert");
  const actions = h("div", { class: "actions" });
  const who = `${alert.patient_name}: ${alert.summary}`;

  async function act(path, body, done) {
    try {
      await api.post(`/api/alerts/${alert.id}/${path}`, body);
      say(area, done, "success");
    } catch (error) {
      say(
        area,
        error.status === 409
          ? t("Someone has resolved this alert already ({who}).", { who })
          : error.offline
            ? t("You are offline: try again when you are back online.")
            : error.message,
        "error",
      );
    }
    badges.refresh();
    await changed?.();
  }

  function drawActions() {
    if (alert.state === "resolved") return mount(actions);
    mount(
      actions,
      alert.state === "new"
        ? h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": t("Acknowledge: {alert}", { alert: who }),
              onclick: () => act("acknowledge", {}, t("Acknowledged: {alert}.", { alert: who })),
            },
            t("Acknowledge"),
          )
        : null,
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          "aria-label": t("Resolve: {alert}", { alert: who }),
          "aria-expanded": "false",
          onclick: openResolve,
        },
        t("Resolve…"),
      ),
    );
  }

  function openResolve() {
    const note = h("textarea", { name: "note", rows: "2", maxlength: "2000", id: uid("resolve-note") });
    const form = h(
      "form",
      { class: "resolve-form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: note.id }, t("What was done (optional note)")), note),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "small" }, t("Resolve alert")),
        h(
          "button",
          {
            type: "button",
            class: "secondary small",
            onclick: () => {
              drawActions();
              actions.querySelector("button:last-child")?.focus();
            },
          },
          t("Cancel"),
        ),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      form.querySelector("button[type=submit]").disabled = true;
      act("resolve", { note: note.value.trim() }, t("Resolved: {alert}.", { alert: who }));
    });
    mount(actions, form);
    note.focus();
  }

  drawActions();
  return h(
    "li",
    {
      class: `alert-card card severity-${alert.severity} state-${alert.state}`,
      "aria-labelledby": titleId,
      dataset: { alertId: alert.id },
    },
    h(
      "div",
      { class: "alert-head" },
      h(
        "span",
        { class: `tag severity-tag ${alert.severity}` },
        SEVERITY_WORDS[alert.severity] ? t(SEVERITY_WORDS[alert.severity]) : alert.severity,
      ),
      h(
        "span",
        { class: `status-pill state-${alert.state}` },
        STATE_WORDS[alert.state] ? t(STATE_WORDS[alert.state]) : alert.state,
      ),
      alert.episode_open && alert.state !== "new" ? h("span", { class: "tag" }, t("still going on")) : null,
    ),
    h(
      "h3",
      { id: titleId },
      showPatient
        ? [
            h("a", { href: `#/patients/${alert.patient_id}` }, alert.patient_name),
            h("span", { class: "visually-hidden" }, ": "),
          ]
        : null,
      h("span", { class: "alert-summary" }, alert.summary),
    ),
    h(
      "p",
      { class: "hint alert-meta" },
      `${t("Raised")} `,
      h("time", { datetime: alert.raised_at, title: formatDateTime(alert.raised_at) }, ago(alert.raised_at)),
      alert.acknowledged_by
        ? ` · ${t("acknowledged by {name} {when}", { name: alert.acknowledged_by.name, when: ago(alert.acknowledged_at) })}`
        : "",
      alert.resolved_by
        ? ` · ${t("resolved by {name} {when}", { name: alert.resolved_by.name, when: ago(alert.resolved_at) })}`
        : "",
    ),
    user.role === "admin" ? h("p", { class: "hint wait-time" }, waited(alert)) : null,
    alert.note ? h("p", { class: "alert-note" }, h("strong", {}, `${t("Note:")} `), alert.note) : null,
    actions,
  );
}

/** How long the alert waited for someone: the admin's measure of the team. */
function waited(alert) {
  if (alert.minutes_to_acknowledge !== null && alert.minutes_to_acknowledge !== undefined) {
    return t("Acknowledged after {time}.", { time: duration(alert.minutes_to_acknowledge) });
  }
  return t("Waiting for {time}.", {
    time: duration(Math.max(0, Math.round((Date.now() - Date.parse(alert.raised_at)) / 60000))),
  });
}

function duration(minutes) {
  if (minutes < 60) return tn(minutes, "{count} minute", "{count} minutes");
  if (minutes < 48 * 60) return tn(Math.round(minutes / 60), "{count} hour", "{count} hours");
  return tn(Math.round(minutes / 1440), "{count} day", "{count} days");
}

/** "3 open alerts", "1 resolved alert": the count under the filter chosen. */
function alertCount(filter, count) {
  if (filter === "new") return tn(count, "{count} new alert", "{count} new alerts");
  if (filter === "acknowledged") return tn(count, "{count} acknowledged alert", "{count} acknowledged alerts");
  if (filter === "resolved") return tn(count, "{count} resolved alert", "{count} resolved alerts");
  return tn(count, "{count} open alert", "{count} open alerts");
}

/** "5 minutes ago", "yesterday". */
export function ago(timestamp) {
  if (!timestamp) return "";
  const seconds = (Date.parse(timestamp) - Date.now()) / 1000;
  const minutes = Math.round(seconds / 60);
  const RELATIVE = new Intl.RelativeTimeFormat(language(), { numeric: "auto" });
  if (Math.abs(minutes) < 1) return t("just now");
  if (Math.abs(minutes) < 60) return RELATIVE.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return RELATIVE.format(hours, "hour");
  return RELATIVE.format(Math.round(hours / 24), "day");
}
