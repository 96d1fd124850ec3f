/** The weekly adherence report (admin: the clinic; therapist: their patients)
 * as a table, with a CSV download of exactly the same query. An admin's report
 * too big to answer at once (the server says 202 with an export job) becomes a
 * file: a progress bar, then a Download link. */
import * as api from "../../core/api.js";
import {
  addDays,
  deviceToday,
  field,
  formatDay,
  h,
  heading,
  loading,
  mount,
  number,
  percent,
  rangeChosen,
  say,
  statusArea,
  table,
} from "../../core/dom.js";
import { t } from "../../core/i18n.js";

function mondayOf(iso) {
  const weekday = (new Date(`${iso}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  return addDays(iso, -weekday);
}

export async function render(view, { user }) {
  const today = deviceToday();
  const from = h("input", { type: "date", name: "from", value: addDays(mondayOf(today), -21), required: true });
  const to = h("input", { type: "date", name: "to", value: today, required: true });
  const therapist = h("select", { name: "therapist_id" }, h("option", { value: "" }, t("All therapists")));
  const download = h("a", { class: "button-link secondary", download: "adherence.csv" }, t("Download CSV"));
  const message = statusArea("alert");
  say(message, "");
  const results = h("div", { class: "report-results" });
  const jobArea = h("div", { class: "report-job" });
  let large = false; // the last query was answered with a job: the CSV is one too
  let following = 0;
  const form = h(
    "form",
    { class: "toolbar report-form", novalidate: true },
    field(t("From"), from),
    field(t("To"), to),
    user.role === "admin" ? field(t("Therapist"), therapist) : null,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Show report")), download),
  );

  function query() {
    const params = new URLSearchParams({ from: from.value, to: to.value });
    if (therapist.value) params.set("therapist_id", therapist.value);
    return params;
  }

  /** A progress bar for the export job, polled every 2 s, then its file. */
  function follow(job) {
    const mine = ++following;
    const bar = h("progress", { max: "1", value: String(job.progress || 0), "aria-label": t("Preparing the report") });
    const status = statusArea();
    const kind = job.kind === "json" ? "JSON" : "CSV";
    const intro = `${t("This report is large, so Homeward prepares it as a {kind} file.", { kind })}${job.mail ? ` ${t("An email will also tell you when it is ready.")}` : ""}`;
    mount(jobArea, h("p", {}, intro), bar, status);
    const poll = async () => {
      if (mine !== following || !jobArea.isConnected) return;
      try {
        update(await api.get(`/api/reports/jobs/${job.id}`));
      } catch (error) {
        if (mine !== following) return;
        if (error.offline) setTimeout(poll, 2000);
        else say(status, error.message, "error");
      }
    };
    const update = (current) => {
      if (mine !== following) return;
      bar.value = current.progress;
      if (current.state === "done") {
        const name = `adherence-${current.params.from}-to-${current.params.to}.${current.kind}`;
        mount(
          jobArea,
          h("p", { role: "status" }, t("Your {kind} file is ready.", { kind })),
          h(
            "a",
            { class: "button-link", href: current.file_url, download: name },
            t("Download the report ({kind})", { kind }),
          ),
        );
        return;
      }
      if (current.state === "failed") {
        say(
          status,
          current.error
            ? t("The report could not be prepared: {problem}", { problem: current.error })
            : t("The report could not be prepared."),
          "error",
        );
        return;
      }
      say(
        status,
        current.state === "queued"
          ? t("Waiting for its turn…")
          : t("Preparing… {percent}", { percent: percent(current.progress) }),
      );
      setTimeout(poll, 2000);
    };
    update(job);
  }

  download.addEventListener("click", async (event) => {
    if (!large) return; // small: the link downloads the CSV at once
    event.preventDefault();
    const body = { from: from.value, to: to.value, format: "csv" };
    if (therapist.value) body.therapist_id = Number(therapist.value);
    try {
      follow(await api.post("/api/reports/adherence/jobs", body));
    } catch (error) {
      say(message, error.offline ? t("You are offline.") : error.message, "error");
    }
  });

  function updateLink() {
    large = false;
    download.href = `/api/reports/adherence.csv?${query()}`;
    download.setAttribute("download", `adherence-${from.value}-to-${to.value}.csv`);
  }

  let ticket = 0;

  async function show() {
    if (!rangeChosen(from, to, message)) return; // a query still loading may finish
    const mine = ++ticket; // only the latest query may fill the table
    mount(results, loading());
    try {
      const rows = await api.get("/api/reports/adherence", query());
      if (mine !== ticket) return;
      if (!Array.isArray(rows)) {
        large = true; // 202: an export job, not rows
        mount(results);
        follow(rows);
        return;
      }
      mount(
        results,
        table(
          t("Weekly adherence, {from} to {to}", { from: formatDay(from.value), to: formatDay(to.value) }),
          [
            { label: t("Patient"), value: (r) => r.patient_name },
            { label: t("Therapist"), value: (r) => r.therapist_name || "–" },
            { label: t("Week of"), value: (r) => formatDay(r.week_start) },
            {
              label: t("Sessions"),
              value: (r) => t("{done} of {due}", { done: r.sessions_done, due: r.sessions_due }),
              numeric: true,
            },
            {
              label: t("Adherence"),
              value: (r) =>
                r.adherence_pct === null || r.adherence_pct === undefined
                  ? "–"
                  : percent(Math.round(r.adherence_pct) / 100),
              numeric: true,
            },
            { label: t("Pain (avg)"), value: (r) => number(r.pain_mean), numeric: true },
            { label: t("Pain (worst)"), value: (r) => number(r.pain_max, 0), numeric: true },
            { label: t("Check-ins"), value: (r) => r.pain_logs, numeric: true },
          ],
          rows,
          { empty: t("No patients had a programme in this period.") },
        ),
      );
    } catch (error) {
      if (mine !== ticket) return;
      mount(results);
      say(message, error.offline ? t("You are offline.") : error.message, "error");
    }
  }

  for (const input of [from, to, therapist]) input.addEventListener("change", updateLink);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  updateLink();
  mount(
    view,
    heading(t("Adherence report")),
    h("p", { class: "lead" }, t("One row per patient per week (weeks start on Monday). The CSV has the same rows.")),
    form,
    message,
    jobArea,
    results,
  );
  if (user.role === "admin") {
    api.get("/api/staff").then((staff) => {
      for (const member of staff.filter((s) => s.role === "therapist"))
        therapist.append(h("option", { value: String(member.id) }, member.name));
    });
  }
  await show();
}
