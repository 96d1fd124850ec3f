/** Progress: the patient's daily pain (with their flare-ups marked) and
 * adherence over 14/30/90 days, with the same numbers as tables, their
 * flare-ups, and their questionnaire histories (ODI, PSFS). */
import * as api from "./api.js";
import * as store from "./store.js";
import { chartFigure, dailyChart } from "./charts.js";
import { addDays, formatDay, h, heading, loading, mount, number, percent, table } from "./dom.js";
import { flareUpTable, severityWords } from "./flare-up.js";
import { odiTable } from "./odi.js";
import { psfsTable } from "./psfs.js";

const PERIODS = [14, 30, 90];

export async function render(view, { user }) {
  let charts = [];
  let period = Number(sessionStorage.getItem("progress-period")) || 30;
  const body = h("div", { class: "progress-body" }, loading());
  const picker = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Period" },
    PERIODS.map((days) => h("button", { type: "button", "aria-pressed": String(days === period), onclick: () => choose(days) }, `${days} days`)),
  );
  mount(view, heading("Progress"), picker, body);

  function destroyCharts() {
    charts.forEach((chart) => chart.destroy());
    charts = [];
  }

  async function choose(days) {
    period = days;
    sessionStorage.setItem("progress-period", String(days));
    for (const button of picker.querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.textContent === `${days} days`));
    await show();
  }

  async function show() {
    const to = await store.patientToday(user.id);
    const from = addDays(to, -(period - 1));
    const key = `progress:${user.id}:${period}`;
    let progress = null;
    let offlineNote = null;
    try {
      const [answer, flareUps, psfs] = await Promise.all([
        api.get(`/api/patients/${user.id}/progress`, { from, to }),
        api.get(`/api/patients/${user.id}/flare-ups`, { from, to }),
        api.get(`/api/patients/${user.id}/questionnaires/psfs`),
      ]);
      progress = { ...answer, flare_up_reports: flareUps, psfs_history: psfs };
      await store.cache(key, progress);
    } catch (error) {
      if (!error.offline && error.status < 500) throw error;
      const saved = await store.cached(key);
      progress = saved?.value;
      offlineNote = saved ? `You are offline: these are the numbers saved on ${formatDay(saved.saved_at.slice(0, 10))}.` : null;
    }
    destroyCharts();
    if (!progress) {
      mount(body, h("p", { class: "empty" }, "Connect to the internet to see your progress."));
      return;
    }
    const queued = (await api.queuedRecords()).filter((r) => r.kind === "flare_up" && r.body.started_on >= from && r.body.started_on <= to);
    drawProgress(progress, offlineNote, queued.map((r) => ({ ...r.body, queued: true })));
  }

  function drawProgress(progress, offlineNote, queuedFlareUps) {
    const { days, summary } = progress;
    const dates = days.map((d) => d.date);
    const known = new Set([...(progress.flare_up_reports || []), ...(progress.flare_ups || [])].map((f) => f.id));
    const waiting = queuedFlareUps.filter((q) => !known.has(q.id)); // not on the server yet
    const reports = [...(progress.flare_up_reports || []), ...waiting];
    const markers = [...(progress.flare_ups || []), ...waiting].map((f) => ({ date: f.started_on, severity: f.severity, text: `Flare-up: ${f.severity}/10, ${severityWords(f.severity)}` }));
    const flareOn = (date) => markers.filter((m) => m.date === date);
    const painRows = days.filter((d) => d.pain_mean !== null || flareOn(d.date).length);
    const pain = chartFigure(
      "Daily pain (0–10), flare-ups marked",
      table("Daily pain", [
        { label: "Date", value: (d) => formatDay(d.date) },
        { label: "Average", value: (d) => number(d.pain_mean), numeric: true },
        { label: "Worst", value: (d) => number(d.pain_max, 0), numeric: true },
        { label: "Spasms", value: (d) => (d.spasms ?? "–"), numeric: true },
        { label: "Flare-up", value: (d) => flareOn(d.date).map((m) => `${m.severity}/10`).join(", ") || "–", numeric: true },
      ], painRows, { empty: "No pain check-ins in this period." }),
    );
    const adherence = chartFigure(
      "Exercises done (% of sessions due)",
      table("Exercises done", [
        { label: "Date", value: (d) => formatDay(d.date) },
        { label: "Done", value: (d) => `${d.sessions_done} of ${d.sessions_due}`, numeric: true },
        { label: "Adherence", value: (d) => percent(d.adherence), numeric: true },
      ], days.filter((d) => d.sessions_due > 0), { empty: "No exercises were due in this period." }),
    );
    mount(
      body,
      offlineNote ? h("p", { class: "notice" }, offlineNote) : null,
      h(
        "dl",
        { class: "stats" },
        h("div", {}, h("dt", {}, "Exercises done"), h("dd", {}, percent(summary.adherence))),
        h("div", {}, h("dt", {}, "Pain, first week"), h("dd", {}, number(summary.pain_first_7d_mean))),
        h("div", {}, h("dt", {}, "Pain, last week"), h("dd", {}, number(summary.pain_last_7d_mean))),
      ),
      trendSentence(summary),
      pain.figure,
      adherence.figure,
      h("section", { "aria-labelledby": "flare-history" }, h("h2", { id: "flare-history" }, "Flare-ups"), flareUpTable(reports, "Your flare-ups in this period")),
      h(
        "section",
        { "aria-labelledby": "odi-history" },
        h("h2", { id: "odi-history" }, "Back-pain questionnaire"),
        h("p", {}, "The Oswestry questionnaire measures how much your back pain affects daily life. Lower is better."),
        odiTable(progress.odi || []),
        h("p", {}, h("a", { class: "button-link", href: "#/odi" }, "Fill in the questionnaire")),
      ),
      h(
        "section",
        { "aria-labelledby": "psfs-history" },
        h("h2", { id: "psfs-history" }, "Daily activities"),
        h("p", {}, "How well you manage the activities you find hard, 0 to 10. Higher is better."),
        psfsTable(progress.psfs_history || []),
        h("p", {}, h("a", { class: "button-link secondary", href: "#/psfs" }, "Rate your daily activities")),
      ),
    );
    Promise.all([
      dailyChart(
        pain.area,
        dates,
        [
          { label: "Average pain", values: days.map((d) => d.pain_mean), scale: "pain", kind: "line", color: "--chart-pain" },
          { label: "Worst pain", values: days.map((d) => d.pain_max), scale: "pain", kind: "line", color: "--chart-pain-max", dashed: true },
        ],
        { markers },
      ),
      dailyChart(adherence.area, dates, [
        { label: "Adherence", values: days.map((d) => (d.adherence === null ? null : d.adherence * 100)), scale: "pct", kind: "bars", color: "--chart-adherence" },
      ]),
    ])
      .then((drawn) => {
        if (body.isConnected) charts = drawn;
        else drawn.forEach((chart) => chart.destroy());
      })
      .catch(() => {}); // the tables carry the same numbers
  }

  await show().catch((error) => mount(body, h("p", { role: "alert" }, error.message)));
  return destroyCharts;
}

function trendSentence(summary) {
  const first = summary.pain_first_7d_mean;
  const last = summary.pain_last_7d_mean;
  if (first === null || last === null || first === undefined || last === undefined) return null;
  const change = last - first;
  const text =
    Math.abs(change) < 0.5
      ? "Your pain has been about the same over this period."
      : change < 0
        ? `Your pain has come down by ${number(-change)} points over this period. Well done — keep going.`
        : `Your pain has gone up by ${number(change)} points over this period. Tell your therapist if it keeps rising.`;
  return h("p", { class: "trend" }, text);
}
