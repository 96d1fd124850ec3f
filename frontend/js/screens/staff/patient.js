/** One patient, for their therapist: their open alerts, pain against
 * adherence with their flare-ups marked, the message thread, recent logs, the
 * questionnaire results (ODI, PSFS), what sets their flare-ups off and what
 * helps, every programme version, the printed handout and their reminders
 * (with a nudge). */
import * as api from "../../core/api.js";
import { alertList, sortAlerts } from "./alerts.js";
import { chartFigure, dailyChart, periodPicker } from "../../core/charts.js";
import {
  addDays,
  formatDay,
  h,
  holdText,
  heading,
  loading,
  mount,
  number,
  percent,
  say,
  statusArea,
  table,
  todayIn,
  weekdayName,
} from "../../core/dom.js";
import { t, tn } from "../../core/i18n.js";
import { flareUpSummary, severityWords } from "../patient/flare-up.js";
import { messageThread } from "../patient/messages.js";
import { odiTable } from "../patient/odi.js";
import { psfsTable } from "../patient/psfs.js";
import { showInvite } from "./patients.js";
import { remindersSection } from "../reminders.js";

export async function render(view, { params, user }) {
  const patientId = Number(params[0]);
  let chart = null;
  mount(view, heading(t("Patient")), loading());
  let patient;
  try {
    patient = await api.get(`/api/patients/${patientId}`);
  } catch (error) {
    mount(
      view,
      heading(t("Patient")),
      h("p", { role: "alert" }, error.status === 404 ? t("No such patient.") : error.message),
    );
    return;
  }
  document.title = `${patient.name} · Homeward`;
  const today = todayIn(patient.timezone);
  let period = 30;

  const trend = h("div", {}, loading());
  const picker = periodPicker(period, showTrend);
  const logsArea = h("div", {}, loading());
  const odiArea = h("div", {}, loading());
  const psfsArea = h("div", {}, loading());
  const flareArea = h("div", {}, loading());
  const alertsMessage = statusArea();
  say(alertsMessage, "");
  const alertsArea = h("div");
  const alertsSection = h(
    "section",
    { class: "card open-alerts", "aria-labelledby": "alerts-title", hidden: true },
    h("h2", { id: "alerts-title" }, t("Open alerts")),
    alertsMessage,
    alertsArea,
  );
  const thread = messageThread({ patientId, user, patientName: patient.name });
  const historyArea = h("div", {}, loading());
  // shown once the history says a programme is in force (the PDF is a 404 before)
  const handout = h(
    "a",
    {
      class: "button-link secondary",
      href: `/api/patients/${patientId}/programme.pdf`,
      target: "_blank",
      rel: "noopener",
      hidden: true,
    },
    t("Print handout"),
  );

  mount(
    view,
    pageHead(patient, handout),
    alertsSection,
    facts(patient),
    patient.invite_pending ? invitePanel(patient) : null,
    remindersSection(patient),
    h(
      "section",
      { "aria-labelledby": "trend-title", class: "card" },
      h("div", { class: "section-head" }, h("h2", { id: "trend-title" }, t("Pain and adherence")), picker),
      trend,
    ),
    h(
      "section",
      { "aria-labelledby": "messages-title", class: "card" },
      h("h2", { id: "messages-title" }, t("Messages")),
      thread.element,
    ),
    h(
      "div",
      { class: "two-col" },
      h(
        "div",
        {},
        h(
          "section",
          { "aria-labelledby": "logs-title" },
          h("h2", { id: "logs-title" }, t("Recent activity")),
          logsArea,
        ),
        h(
          "section",
          { "aria-labelledby": "flare-title" },
          h("h2", { id: "flare-title" }, t("Flare-ups: triggers and what helped")),
          flareArea,
        ),
      ),
      h(
        "div",
        {},
        h(
          "section",
          { "aria-labelledby": "odi-title" },
          h("h2", { id: "odi-title" }, t("Questionnaire (ODI)")),
          odiArea,
        ),
        h(
          "section",
          { "aria-labelledby": "psfs-title" },
          h("h2", { id: "psfs-title" }, t("Daily activities (PSFS)")),
          psfsArea,
        ),
        h(
          "section",
          { "aria-labelledby": "history-title" },
          h("h2", { id: "history-title" }, t("Programme history")),
          historyArea,
        ),
      ),
    ),
  );

  async function showAlerts() {
    try {
      const alerts = sortAlerts(await api.get("/api/alerts", { patient_id: patientId }));
      alertsSection.hidden = !alerts.length && !alertsMessage.textContent;
      mount(
        alertsArea,
        alertList(alerts, {
          user,
          changed: showAlerts,
          area: alertsMessage,
          showPatient: false,
          empty: t("No open alerts."),
        }),
      );
    } catch {
      alertsSection.hidden = true; // the rest of the page stands without them
    }
  }

  async function showFlareUps() {
    try {
      mount(flareArea, flareUpSummary(await api.get(`/api/patients/${patientId}/flare-ups/summary`)));
    } catch (error) {
      mount(flareArea, h("p", { role: "alert" }, error.message));
    }
  }

  async function showPsfs() {
    try {
      mount(
        psfsArea,
        psfsTable(
          await api.get(`/api/patients/${patientId}/questionnaires/psfs`),
          t("Daily activities (PSFS) results"),
        ),
      );
    } catch (error) {
      mount(psfsArea, h("p", { role: "alert" }, error.message));
    }
  }

  async function showTrend(days) {
    period = days;
    chart?.destroy();
    chart = null;
    let progress;
    try {
      progress = await api.get(`/api/patients/${patientId}/progress`, { from: addDays(today, -(days - 1)), to: today });
    } catch (error) {
      mount(trend, h("p", { role: "alert" }, error.message));
      mount(odiArea, h("p", {}, "–"));
      return;
    }
    const { days: rows, summary } = progress;
    const markers = flareUpMarkers(progress.flare_ups || []);
    const figure = trendFigure(rows, markers, days);
    mount(trend, trendStats(summary, days), figure.figure);
    mount(odiArea, odiTable(progress.odi || []));
    const drawn = await dailyChart(
      figure.area,
      rows.map((d) => d.date),
      trendSeries(rows),
      { markers },
    );
    if (figure.area.isConnected && period === days) chart = drawn;
    else drawn.destroy();
  }

  async function showLogs(history) {
    const names = new Map();
    for (const version of history) for (const item of version.items) names.set(item.exercise_id, item.exercise.name);
    const range = { from: addDays(today, -13), to: today };
    try {
      const [ticks, pain] = await Promise.all([
        api.get(`/api/patients/${patientId}/exercise-logs`, range),
        api.get(`/api/patients/${patientId}/pain-logs`, range),
      ]);
      mount(logsArea, ...logTables(pain, ticks, names));
    } catch (error) {
      mount(logsArea, h("p", { role: "alert" }, error.message));
    }
  }

  const history = await api.get(`/api/patients/${patientId}/programme/history`).catch(() => []);
  mount(historyArea, programmeHistory(history, today));
  handout.hidden = !history.some((version) => inForce(version, today));
  showLogs(history);
  showTrend(period);
  showAlerts();
  showFlareUps();
  showPsfs();
  thread.start();
  return () => {
    chart?.destroy();
    thread.stop();
  };
}

/** The patient's name and what can be done for them: edit, enter answers, print. */
function pageHead(patient, handout) {
  const patientId = patient.id;
  return h(
    "div",
    { class: "page-head" },
    heading(patient.name),
    h(
      "div",
      { class: "actions" },
      h("a", { class: "button-link", href: `#/patients/${patientId}/programme` }, t("Edit programme")),
      h("a", { class: "button-link secondary", href: `#/patients/${patientId}/odi` }, t("Enter questionnaire")),
      h("a", { class: "button-link secondary", href: `#/patients/${patientId}/psfs` }, t("Enter daily activities")),
      handout,
    ),
  );
}

/** The patient's flare-ups as marks on the chart. */
function flareUpMarkers(flareUps) {
  return flareUps.map((f) => ({
    date: f.started_on,
    severity: f.severity,
    text: t("Flare-up: {severity}/10, {words}", { severity: f.severity, words: severityWords(f.severity) }),
  }));
}

/** The trend's figure: its caption and the table of the days (the chart goes in its area). */
function trendFigure(rows, markers, days) {
  const flareOn = (date) =>
    markers
      .filter((m) => m.date === date)
      .map((m) => `${m.severity}/10`)
      .join(", ") || "–";
  return chartFigure(
    `${t("Daily adherence (bars) and average pain (line), last {days} days", { days })}${markers.length ? `, ${tn(markers.length, "{count} flare-up marked", "{count} flare-ups marked")}` : ""}`,
    table(
      t("Daily adherence and pain"),
      [
        { label: t("Date"), value: (d) => formatDay(d.date) },
        {
          label: t("Sessions done"),
          value: (d) => (d.sessions_due ? t("{done} of {due}", { done: d.sessions_done, due: d.sessions_due }) : "–"),
          numeric: true,
        },
        { label: t("Adherence"), value: (d) => percent(d.adherence), numeric: true },
        { label: t("Pain (avg)"), value: (d) => number(d.pain_mean), numeric: true },
        { label: t("Pain (worst)"), value: (d) => number(d.pain_max, 0), numeric: true },
        { label: t("Spasms"), value: (d) => d.spasms ?? "–", numeric: true },
        { label: t("Flare-up"), value: (d) => flareOn(d.date), numeric: true },
      ],
      [...rows].reverse(),
    ),
  );
}

function trendStats(summary, days) {
  return h(
    "dl",
    { class: "stats" },
    h("div", {}, h("dt", {}, t("Adherence ({days} d)", { days })), h("dd", {}, percent(summary.adherence))),
    h("div", {}, h("dt", {}, t("Pain, first 7 days")), h("dd", {}, number(summary.pain_first_7d_mean))),
    h("div", {}, h("dt", {}, t("Pain, last 7 days")), h("dd", {}, number(summary.pain_last_7d_mean))),
  );
}

/** Adherence as bars, average pain as a line. */
function trendSeries(rows) {
  return [
    {
      label: t("Adherence"),
      values: rows.map((d) => (d.adherence === null ? null : d.adherence * 100)),
      scale: "pct",
      kind: "bars",
      color: "--chart-adherence",
    },
    {
      label: t("Average pain"),
      values: rows.map((d) => d.pain_mean),
      scale: "pain",
      kind: "line",
      color: "--chart-pain",
    },
  ];
}

/** The last 14 days: pain check-ins, newest first, and sessions per day. */
function logTables(pain, ticks, names) {
  const sortNewest = (field) => (a, b) => (a[field] < b[field] ? 1 : -1);
  return [
    table(
      t("Pain check-ins, last 14 days"),
      [
        { label: t("Date"), value: (p) => `${formatDay(p.logged_on, "short")}` },
        { label: t("Pain"), value: (p) => `${p.score}/10`, numeric: true },
        { label: t("Spasms"), value: (p) => p.spasms ?? "–", numeric: true },
        { label: t("Note"), value: (p) => p.note || "" },
      ],
      pain.sort(sortNewest("created_at")),
      { empty: t("No pain check-ins in the last 14 days.") },
    ),
    table(
      t("Exercise sessions, last 14 days"),
      [
        { label: t("Date"), value: (day) => formatDay(day.date, "short") },
        { label: t("Sessions"), value: (day) => day.count, numeric: true },
        { label: t("Exercises"), value: (day) => day.exercises },
      ],
      sessionsByDay(ticks, names),
      { empty: t("No exercise sessions in the last 14 days.") },
    ),
  ];
}

/** One row per day: how many sessions, and of which exercises ("Bird dog ×2"). */
function sessionsByDay(ticks, names) {
  const days = new Map();
  for (const tick of ticks) {
    const day = days.get(tick.performed_on) || new Map();
    day.set(tick.exercise_id, (day.get(tick.exercise_id) || 0) + 1);
    days.set(tick.performed_on, day);
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? 1 : -1))
    .map(([date, counts]) => ({
      date,
      count: [...counts.values()].reduce((sum, n) => sum + n, 0),
      exercises: [...counts.entries()]
        .map(([id, n]) => `${names.get(id) || t("Exercise {id}", { id: String(id) })}${n > 1 ? ` ×${n}` : ""}`)
        .join(", "),
    }));
}

function facts(patient) {
  return h(
    "dl",
    { class: "facts" },
    h("div", {}, h("dt", {}, t("Condition")), h("dd", {}, patient.condition || "–")),
    h("div", {}, h("dt", {}, t("Therapist")), h("dd", {}, patient.therapist_name || "–")),
    h("div", {}, h("dt", {}, t("Email")), h("dd", {}, patient.email)),
    h("div", {}, h("dt", {}, t("Timezone")), h("dd", {}, patient.timezone)),
    "last_activity" in patient
      ? h(
          "div",
          {},
          h("dt", {}, t("Last activity")),
          h("dd", {}, patient.last_activity ? formatDay(patient.last_activity) : "–"),
        )
      : null,
  );
}

function invitePanel(patient) {
  const area = h("div");
  const message = statusArea("alert");
  say(message, "");
  return h(
    "section",
    { class: "card notice-card", "aria-label": t("Invitation") },
    h("p", {}, t("{name} has not set a password yet.", { name: patient.name })),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: async () => {
          try {
            showInvite(area, await api.post(`/api/patients/${patient.id}/invite`));
          } catch (error) {
            say(message, error.message, "error");
          }
        },
      },
      t("New invitation link"),
    ),
    message,
    area,
  );
}

export function programmeHistory(history, today) {
  if (!history.length) return h("p", { class: "empty" }, t("No programme yet."));
  return h(
    "ol",
    { class: "versions" },
    history.map((version) => {
      const current = inForce(version, today);
      const empty = version.ends_on && version.ends_on < version.starts_on;
      return h(
        "li",
        { class: `version card${current ? " current" : ""}` },
        h(
          "h3",
          {},
          t("Version {version}", { version: version.version }),
          current ? h("span", { class: "tag tag-current" }, t("in force")) : null,
          empty ? h("span", { class: "tag" }, t("replaced the same day")) : null,
        ),
        h(
          "p",
          { class: "hint" },
          version.ends_on
            ? t("From {start} to {end}", { start: formatDay(version.starts_on), end: formatDay(version.ends_on) })
            : t("From {start}", { start: formatDay(version.starts_on) }),
        ),
        version.note ? h("p", {}, version.note) : null,
        h(
          "ul",
          { class: "items" },
          version.items.map((item) =>
            h(
              "li",
              {},
              h("strong", {}, item.exercise.name),
              ` — ${item.sets} × ${item.reps}${item.hold_seconds ? `, ${t("hold {time}", { time: holdText(item.hold_seconds) })}` : ""}, ${t("{count}× a day", { count: item.times_per_day })}, ${days(item.days_of_week)}`,
              item.notes ? h("span", { class: "sub" }, item.notes) : null,
            ),
          ),
        ),
      );
    }),
  );
}

function inForce(version, today) {
  return version.starts_on <= today && (!version.ends_on || version.ends_on >= today);
}

function days(list) {
  if (list.length === 7) return t("every day");
  return [...list]
    .sort()
    .map((d) => weekdayName(d))
    .join(", ");
}
