/** Progress: the patient's daily pain (with their flare-ups marked) and
 * adherence over 14/30/90 days, with the same numbers as tables, their
 * flare-ups, and their questionnaire histories (ODI, PSFS). */
import * as api from "../../core/api.js";
import * as store from "../../core/store.js";
import { chartFigure, dailyChart, periodPicker } from "../../core/charts.js";
import { addDays, formatDay, h, heading, loading, mount, number, percent, table } from "../../core/dom.js";
import { t } from "../../core/i18n.js";
import { flareUpTable, severityWords } from "./flare-up.js";
import { odiTable } from "./odi.js";
import { psfsTable } from "./psfs.js";

export async function render(view, { user }) {
  let charts = [];
  let period = Number(sessionStorage.getItem("progress-period")) || 30;
  const body = h("div", { class: "progress-body" }, loading());
  const picker = periodPicker(period, choose);
  mount(view, heading(t("Progress")), picker, body);

  function destroyCharts() {
    charts.forEach((chart) => chart.destroy());
    charts = [];
  }

  async function choose(days) {
    period = days;
    sessionStorage.setItem("progress-period", String(days));
    await show();
  }

  async function show() {
    const to = await store.patientToday(user.id);
    const from = addDays(to, -(period - 1));
    const key = `progress:${user.id}:${period}`;
    let progress;
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
      offlineNote = saved
        ? t("You are offline: these are the numbers saved on {day}.", { day: formatDay(saved.saved_at.slice(0, 10)) })
        : null;
    }
    destroyCharts();
    if (!progress) {
      mount(body, h("p", { class: "empty" }, t("Connect to the internet to see your progress.")));
      return;
    }
    const queued = (await api.queuedRecords()).filter(
      (r) => r.kind === "flare_up" && r.body.started_on >= from && r.body.started_on <= to,
    );
    drawProgress(
      progress,
      offlineNote,
      queued.map((r) => ({ ...r.body, queued: true })),
    );
  }

  function drawProgress(progress, offlineNote, queuedFlareUps) {
    const { days, summary } = progress;
    const dates = days.map((d) => d.date);
    const known = new Set([...(progress.flare_up_reports || []), ...(progress.flare_ups || [])].map((f) => f.id));
    const waiting = queuedFlareUps.filter((q) => !known.has(q.id)); // not on the server yet
    const reports = [...(progress.flare_up_reports || []), ...waiting];
    const markers = [...(progress.flare_ups || []), ...waiting].map((f) => ({
      date: f.started_on,
      severity: f.severity,
      text: t("Flare-up: {severity}/10, {words}", { severity: f.severity, words: severityWords(f.severity) }),
    }));
    const flareOn = (date) => markers.filter((m) => m.date === date);
    const painRows = days.filter((d) => d.pain_mean !== null || flareOn(d.date).length);
    const pain = chartFigure(
      t("Daily pain (0–10), flare-ups marked"),
      table(
        t("Daily pain"),
        [
          { label: t("Date"), value: (d) => h("span", { "data-l10n-skip": "" }, formatDay(d.date)) },
          { label: t("Average"), value: (d) => number(d.pain_mean), numeric: true },
          { label: t("Worst"), value: (d) => number(d.pain_max, 0), numeric: true },
          { label: t("Spasms"), value: (d) => d.spasms ?? "–", numeric: true },
          {
            label: t("Flare-up"),
            value: (d) =>
              flareOn(d.date)
                .map((m) => `${m.severity}/10`)
                .join(", ") || "–",
            numeric: true,
          },
        ],
        painRows,
        { empty: t("No pain check-ins in this period.") },
      ),
    );
    const adherence = chartFigure(
      t("Exercises done (% of sessions due)"),
      table(
        t("Exercises done"),
        [
          { label: t("Date"), value: (d) => h("span", { "data-l10n-skip": "" }, formatDay(d.date)) },
          {
            label: t("Done"),
            value: (d) => t("{done} of {due}", { done: d.sessions_done, due: d.sessions_due }),
            numeric: true,
          },
          { label: t("Adherence"), value: (d) => percent(d.adherence), numeric: true },
        ],
        days.filter((d) => d.sessions_due > 0),
        { empty: t("No exercises were due in this period.") },
      ),
    );
    mount(
      body,
      offlineNote ? h("p", { class: "notice" }, offlineNote) : null,
      h(
        "dl",
        { class: "stats" },
        h("div", {}, h("dt", {}, t("Exercises done")), h("dd", {}, percent(summary.adherence))),
        h("div", {}, h("dt", {}, t("Pain, first week")), h("dd", {}, number(summary.pain_first_7d_mean))),
        h("div", {}, h("dt", {}, t("Pain, last week")), h("dd", {}, number(summary.pain_last_7d_mean))),
      ),
      trendSentence(summary),
      pain.figure,
      adherence.figure,
      h(
        "section",
        { "aria-labelledby": "flare-history" },
        h("h2", { id: "flare-history" }, t("Flare-ups")),
        flareUpTable(reports, t("Your flare-ups in this period")),
      ),
      h(
        "section",
        { "aria-labelledby": "odi-history" },
        h("h2", { id: "odi-history" }, t("Back-pain questionnaire")),
        h(
          "p",
          {},
          t("The Oswestry questionnaire measures how much your back pain affects daily life. Lower is better."),
        ),
        odiTable(progress.odi || []),
        h("p", {}, h("a", { class: "button-link", href: "#/odi" }, t("Fill in the questionnaire"))),
      ),
      h(
        "section",
        { "aria-labelledby": "psfs-history" },
        h("h2", { id: "psfs-history" }, t("Daily activities")),
        h("p", {}, t("How well you manage the activities you find hard, 0 to 10. Higher is better.")),
        psfsTable(progress.psfs_history || []),
        h("p", {}, h("a", { class: "button-link secondary", href: "#/psfs" }, t("Rate your daily activities"))),
      ),
    );
    Promise.all([
      dailyChart(
        pain.area,
        dates,
        [
          {
            label: t("Average pain"),
            values: days.map((d) => d.pain_mean),
            scale: "pain",
            kind: "line",
            color: "--chart-pain",
          },
          {
            label: t("Worst pain"),
            values: days.map((d) => d.pain_max),
            scale: "pain",
            kind: "line",
            color: "--chart-pain-max",
            dashed: true,
          },
        ],
        { markers },
      ),
      dailyChart(adherence.area, dates, [
        {
          label: t("Adherence"),
          values: days.map((d) => (d.adherence === null ? null : d.adherence * 100)),
          scale: "pct",
          kind: "bars",
          color: "--chart-adherence",
        },
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
      ? t("Your pain has been about the same over this period.")
      : change < 0
        ? t("Your pain has come down by {points} points over this period. Well done — keep going.", {
            points: number(-change),
          })
        : t("Your pain has gone up by {points} points over this period. Tell your therapist if it keeps rising.", {
            points: number(change),
          });
  return h("p", { class: "trend" }, text);
}
