/** One patient, for their therapist: their open alerts, pain against
 * adherence with their flare-ups marked, the message thread, recent logs, the
 * questionnaire results (ODI, PSFS), what sets their flare-ups off and what
 * helps, every programme version, the printed handout and their reminders
 * (with a nudge). */
import * as api from "./api.js";
import { alertList, sortAlerts } from "./alerts.js";
import { chartFigure, dailyChart } from "./charts.js";
import { addDays, formatDay, h, holdText, heading, loading, mount, number, percent, say, statusArea, table, todayIn } from "./dom.js";
import { flareUpSummary, severityWords } from "./flare-up.js";
import { messageThread } from "./messages.js";
import { odiTable } from "./odi.js";
import { psfsTable } from "./psfs.js";
import { showInvite } from "./patients.js";
import { remindersSection } from "./reminders.js";

const PERIODS = [14, 30, 90];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export async function render(view, { params, user }) {
  const patientId = Number(params[0]);
  let chart = null;
  mount(view, heading("Patient"), loading());
  let patient;
  try {
    patient = await api.get(`/api/patients/${patientId}`);
  } catch (error) {
    mount(view, heading("Patient"), h("p", { role: "alert" }, error.status === 404 ? "No such patient." : error.message));
    return;
  }
  document.title = `${patient.name} · Homeward`;
  const today = todayIn(patient.timezone);
  let period = 30;

  const trend = h("div", {}, loading());
  const picker = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Period" },
    PERIODS.map((days) => h("button", { type: "button", "aria-pressed": String(days === period), onclick: () => showTrend(days) }, `${days} days`)),
  );
  const logsArea = h("div", {}, loading());
  const odiArea = h("div", {}, loading());
  const psfsArea = h("div", {}, loading());
  const flareArea = h("div", {}, loading());
  const alertsMessage = statusArea();
  say(alertsMessage, "");
  const alertsArea = h("div");
  const alertsSection = h("section", { class: "card open-alerts", "aria-labelledby": "alerts-title", hidden: true }, h("h2", { id: "alerts-title" }, "Open alerts"), alertsMessage, alertsArea);
  const thread = messageThread({ patientId, user, patientName: patient.name });
  const historyArea = h("div", {}, loading());
  // shown once the history says a programme is in force (the PDF is a 404 before)
  const handout = h("a", { class: "button-link secondary", href: `/api/patients/${patientId}/programme.pdf`, target: "_blank", rel: "noopener", hidden: true }, "Print handout");

  mount(
    view,
    h(
      "div",
      { class: "page-head" },
      heading(patient.name),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button-link", href: `#/patients/${patientId}/programme` }, "Edit programme"),
        h("a", { class: "button-link secondary", href: `#/patients/${patientId}/odi` }, "Enter questionnaire"),
        h("a", { class: "button-link secondary", href: `#/patients/${patientId}/psfs` }, "Enter daily activities"),
        handout,
      ),
    ),
    alertsSection,
    facts(patient),
    patient.invite_pending ? invitePanel(patient) : null,
    remindersSection(patient),
    h("section", { "aria-labelledby": "trend-title", class: "card" }, h("div", { class: "section-head" }, h("h2", { id: "trend-title" }, "Pain and adherence"), picker), trend),
    h("section", { "aria-labelledby": "messages-title", class: "card" }, h("h2", { id: "messages-title" }, "Messages"), thread.element),
    h(
      "div",
      { class: "two-col" },
      h(
        "div",
        {},
        h("section", { "aria-labelledby": "logs-title" }, h("h2", { id: "logs-title" }, "Recent activity"), logsArea),
        h("section", { "aria-labelledby": "flare-title" }, h("h2", { id: "flare-title" }, "Flare-ups: triggers and what helped"), flareArea),
      ),
      h(
        "div",
        {},
        h("section", { "aria-labelledby": "odi-title" }, h("h2", { id: "odi-title" }, "Questionnaire (ODI)"), odiArea),
        h("section", { "aria-labelledby": "psfs-title" }, h("h2", { id: "psfs-title" }, "Daily activities (PSFS)"), psfsArea),
        h("section", { "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "Programme history"), historyArea),
      ),
    ),
  );

  async function showAlerts() {
    try {
      const alerts = sortAlerts(await api.get("/api/alerts", { patient_id: patientId }));
      alertsSection.hidden = !alerts.length && !alertsMessage.textContent;
      mount(alertsArea, alertList(alerts, { user, changed: showAlerts, area: alertsMessage, showPatient: false, empty: "No open alerts." }));
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
      mount(psfsArea, psfsTable(await api.get(`/api/patients/${patientId}/questionnaires/psfs`), "Daily activities (PSFS) results"));
    } catch (error) {
      mount(psfsArea, h("p", { role: "alert" }, error.message));
    }
  }

  async function showTrend(days) {
    period = days;
    for (const button of picker.querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.textContent === `${days} days`));
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
    const markers = (progress.flare_ups || []).map((f) => ({ date: f.started_on, severity: f.severity, text: `Flare-up: ${f.severity}/10, ${severityWords(f.severity)}` }));
    const flareOn = (date) => markers.filter((m) => m.date === date).map((m) => `${m.severity}/10`).join(", ") || "–";
    const figure = chartFigure(
      `Daily adherence (bars) and average pain (line), last ${days} days${markers.length ? `, ${markers.length} flare-up${markers.length === 1 ? "" : "s"} marked` : ""}`,
      table(
        "Daily adherence and pain",
        [
          { label: "Date", value: (d) => formatDay(d.date) },
          { label: "Sessions done", value: (d) => (d.sessions_due ? `${d.sessions_done} of ${d.sessions_due}` : "–"), numeric: true },
          { label: "Adherence", value: (d) => percent(d.adherence), numeric: true },
          { label: "Pain (avg)", value: (d) => number(d.pain_mean), numeric: true },
          { label: "Pain (worst)", value: (d) => number(d.pain_max, 0), numeric: true },
          { label: "Spasms", value: (d) => d.spasms ?? "–", numeric: true },
          { label: "Flare-up", value: (d) => flareOn(d.date), numeric: true },
        ],
        [...rows].reverse(),
      ),
    );
    mount(
      trend,
      h(
        "dl",
        { class: "stats" },
        h("div", {}, h("dt", {}, `Adherence (${days} d)`), h("dd", {}, percent(summary.adherence))),
        h("div", {}, h("dt", {}, "Pain, first 7 days"), h("dd", {}, number(summary.pain_first_7d_mean))),
        h("div", {}, h("dt", {}, "Pain, last 7 days"), h("dd", {}, number(summary.pain_last_7d_mean))),
      ),
      figure.figure,
    );
    mount(odiArea, odiTable(progress.odi || []));
    const drawn = await dailyChart(
      figure.area,
      rows.map((d) => d.date),
      [
        { label: "Adherence", values: rows.map((d) => (d.adherence === null ? null : d.adherence * 100)), scale: "pct", kind: "bars", color: "--chart-adherence" },
        { label: "Average pain", values: rows.map((d) => d.pain_mean), scale: "pain", kind: "line", color: "--chart-pain" },
      ],
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
      const sortNewest = (field) => (a, b) => (a[field] < b[field] ? 1 : -1);
      mount(
        logsArea,
        table(
          "Pain check-ins, last 14 days",
          [
            { label: "Date", value: (p) => `${formatDay(p.logged_on, "short")}` },
            { label: "Pain", value: (p) => `${p.score}/10`, numeric: true },
            { label: "Spasms", value: (p) => p.spasms ?? "–", numeric: true },
            { label: "Note", value: (p) => p.note || "" },
          ],
          pain.sort(sortNewest("created_at")),
          { empty: "No pain check-ins in the last 14 days." },
        ),
        table(
          "Exercise sessions, last 14 days",
          [
            { label: "Date", value: (day) => formatDay(day.date, "short") },
            { label: "Sessions", value: (day) => day.count, numeric: true },
            { label: "Exercises", value: (day) => day.exercises },
          ],
          sessionsByDay(ticks, names),
          { empty: "No exercise sessions in the last 14 days." },
        ),
      );
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
      exercises: [...counts.entries()].map(([id, n]) => `${names.get(id) || `Exercise ${id}`}${n > 1 ? ` ×${n}` : ""}`).join(", "),
    }));
}

function facts(patient) {
  return h(
    "dl",
    { class: "facts" },
    h("div", {}, h("dt", {}, "Condition"), h("dd", {}, patient.condition || "–")),
    h("div", {}, h("dt", {}, "Therapist"), h("dd", {}, patient.therapist_name || "–")),
    h("div", {}, h("dt", {}, "Email"), h("dd", {}, patient.email)),
    h("div", {}, h("dt", {}, "Timezone"), h("dd", {}, patient.timezone)),
    "last_activity" in patient ? h("div", {}, h("dt", {}, "Last activity"), h("dd", {}, patient.last_activity ? formatDay(patient.last_activity) : "–")) : null,
  );
}

function invitePanel(patient) {
  const area = h("div");
  const message = statusArea("alert");
  say(message, "");
  return h(
    "section",
    { class: "card notice-card", "aria-label": "Invitation" },
    h("p", {}, `${patient.name} has not set a password yet.`),
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
      "New invitation link",
    ),
    message,
    area,
  );
}

export function programmeHistory(history, today) {
  if (!history.length) return h("p", { class: "empty" }, "No programme yet.");
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
          `Version ${version.version}`,
          current ? h("span", { class: "tag tag-current" }, "in force") : null,
          empty ? h("span", { class: "tag" }, "replaced the same day") : null,
        ),
        h("p", { class: "hint" }, `From ${formatDay(version.starts_on)}${version.ends_on ? ` to ${formatDay(version.ends_on)}` : ""}`),
        version.note ? h("p", {}, version.note) : null,
        h(
          "ul",
          { class: "items" },
          version.items.map((item) =>
            h(
              "li",
              {},
              h("strong", {}, item.exercise.name),
              ` — ${item.sets} × ${item.reps}${item.hold_seconds ? `, hold ${holdText(item.hold_seconds)}` : ""}, ${item.times_per_day}× a day, ${days(item.days_of_week)}`,
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
  if (list.length === 7) return "every day";
  return [...list].sort().map((d) => WEEKDAYS[d]).join(", ");
}
