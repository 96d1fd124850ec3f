/** The weekly adherence report (admin: the clinic; therapist: their patients)
 * as a table, with a CSV download of exactly the same query. An admin's report
 * too big to answer at once (the server says 202 with an export job) becomes a
 * file: a progress bar, then a Download link. */
import * as api from "./api.js";
import { addDays, deviceToday, field, formatDay, h, heading, mount, number, say, statusArea, table } from "./dom.js";

function mondayOf(iso) {
  const weekday = (new Date(`${iso}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  return addDays(iso, -weekday);
}

export async function render(view, { user }) {
  const today = deviceToday();
  const from = h("input", { type: "date", name: "from", value: addDays(mondayOf(today), -21), required: true });
  const to = h("input", { type: "date", name: "to", value: today, required: true });
  const therapist = h("select", { name: "therapist_id" }, h("option", { value: "" }, "All therapists"));
  const download = h("a", { class: "button-link secondary", download: "adherence.csv" }, "Download CSV");
  const message = statusArea("alert");
  say(message, "");
  const results = h("div", { class: "report-results" });
  const jobArea = h("div", { class: "report-job" });
  let large = false; // the last query was answered with a job: the CSV is one too
  let following = 0;
  const form = h(
    "form",
    { class: "toolbar report-form", novalidate: true },
    field("From", from),
    field("To", to),
    user.role === "admin" ? field("Therapist", therapist) : null,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show report"), download),
  );

  function query() {
    const params = new URLSearchParams({ from: from.value, to: to.value });
    if (therapist.value) params.set("therapist_id", therapist.value);
    return params;
  }

  /** A progress bar for the export job, polled every 2 s, then its file. */
  function follow(job) {
    const mine = ++following;
    const bar = h("progress", { max: "1", value: String(job.progress || 0), "aria-label": "Preparing the report" });
    const status = statusArea();
    const kind = job.kind === "json" ? "JSON" : "CSV";
    const intro = `This report is large, so Homeward prepares it as a ${kind} file.${job.mail ? " An email will also tell you when it is ready." : ""}`;
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
        mount(jobArea, h("p", { role: "status" }, `Your ${kind} file is ready.`), h("a", { class: "button-link", href: current.file_url, download: name }, `Download the report (${kind})`));
        return;
      }
      if (current.state === "failed") {
        say(status, `The report could not be prepared${current.error ? `: ${current.error}` : "."}`, "error");
        return;
      }
      say(status, current.state === "queued" ? "Waiting for its turn…" : `Preparing… ${Math.round(current.progress * 100)}%`);
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
      say(message, error.offline ? "You are offline." : error.message, "error");
    }
  });

  function updateLink() {
    large = false;
    download.href = `/api/reports/adherence.csv?${query()}`;
    download.setAttribute("download", `adherence-${from.value}-to-${to.value}.csv`);
  }

  let ticket = 0;

  async function show() {
    const mine = ++ticket; // only the latest query may fill the table
    if (!from.value || !to.value || from.value > to.value) {
      say(message, "Choose a start date on or before the end date.", "error");
      return;
    }
    say(message, "");
    mount(results, h("p", { class: "loading", role: "status" }, "Loading…"));
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
          `Weekly adherence, ${formatDay(from.value)} to ${formatDay(to.value)}`,
          [
            { label: "Patient", value: (r) => r.patient_name },
            { label: "Therapist", value: (r) => r.therapist_name || "–" },
            { label: "Week of", value: (r) => formatDay(r.week_start) },
            { label: "Sessions", value: (r) => `${r.sessions_done} of ${r.sessions_due}`, numeric: true },
            { label: "Adherence", value: (r) => (r.adherence_pct === null || r.adherence_pct === undefined ? "–" : `${Math.round(r.adherence_pct)}%`), numeric: true },
            { label: "Pain (avg)", value: (r) => number(r.pain_mean), numeric: true },
            { label: "Pain (worst)", value: (r) => number(r.pain_max, 0), numeric: true },
            { label: "Check-ins", value: (r) => r.pain_logs, numeric: true },
          ],
          rows,
          { empty: "No patients had a programme in this period." },
        ),
      );
    } catch (error) {
      if (mine !== ticket) return;
      mount(results);
      say(message, error.offline ? "You are offline." : error.message, "error");
    }
  }

  for (const input of [from, to, therapist]) input.addEventListener("change", updateLink);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  updateLink();
  mount(view, heading("Adherence report"), h("p", { class: "lead" }, "One row per patient per week (weeks start on Monday). The CSV has the same rows."), form, message, jobArea, results);
  if (user.role === "admin") {
    api.get("/api/staff").then((staff) => {
      for (const member of staff.filter((s) => s.role === "therapist")) therapist.append(h("option", { value: String(member.id) }, member.name));
    });
  }
  await show();
}
