/** The Patient-Specific Functional Scale ("Daily activities"): up to three
 * activities the patient finds hard, each rated 0–10, and their mean over
 * time. The names start from the latest questionnaire, so the same activities
 * are compared. Patients fill it in (#/psfs); staff can enter it for a patient
 * (#/patients/<id>/psfs). The server scores it. */
import * as api from "../../core/api.js";
import { chartFigure, dailyChart } from "../../core/charts.js";
import {
  formatDay,
  h,
  heading,
  loading,
  mount,
  number,
  say,
  showErrors,
  statusArea,
  table,
  uid,
} from "../../core/dom.js";
import { N_, t } from "../../core/i18n.js";

const ACTIVITIES = 3;

/** A mean as the server gives it (two decimals at most), without trailing zeros: 5.5, 6.67. */
const mean = (value) => number(Math.round(value * 100) / 100, 2);
const SCALE = N_("0 = unable to do it, 10 = as well as before the problem");

/** The history as a table, newest first: the activities with their scores and the mean. */
export function psfsTable(history, caption = t("Daily activities results")) {
  const rows = [...history].sort((a, b) =>
    a.taken_on < b.taken_on || (a.taken_on === b.taken_on && a.id < b.id) ? 1 : -1,
  );
  return table(
    caption,
    [
      { label: t("Date"), value: (r) => h("span", { "data-l10n-skip": "" }, formatDay(r.taken_on)) },
      {
        label: t("Activities (0–10)"),
        value: (r) => h("span", { "data-l10n-skip": "" }, r.activities.map((a) => `${a.name}: ${a.score}`).join(" · ")),
      },
      { label: t("Mean"), value: (r) => mean(r.mean), numeric: true },
    ],
    rows,
    { empty: t("No daily-activity ratings yet.") },
  );
}

/** The mean over time, as a small line (the table holds the same numbers). */
export function psfsChart(history) {
  if (history.length < 2) return { figure: null, draw: async () => null };
  const byDay = new Map();
  for (const row of history) byDay.set(row.taken_on, row.mean); // the day's last one
  const dates = [...byDay.keys()].sort();
  const figure = chartFigure(
    t("Daily activities: mean over time (0–10, higher is better)"),
    table(
      t("Daily activities means"),
      [
        { label: t("Date"), value: (d) => h("span", { "data-l10n-skip": "" }, formatDay(d)) },
        { label: t("Mean"), value: (d) => mean(byDay.get(d)), numeric: true },
      ],
      [...dates].reverse(),
    ),
  );
  return {
    figure: figure.figure,
    draw: () =>
      dailyChart(
        figure.area,
        dates,
        [
          {
            label: t("Mean"),
            values: dates.map((d) => byDay.get(d)),
            scale: "psfs",
            kind: "line",
            color: "--chart-adherence",
          },
        ],
        { height: 180 },
      ),
  };
}

export async function render(view, { user, params }) {
  const patientId = params[0] ? Number(params[0]) : user.id;
  const forSelf = patientId === user.id;
  mount(view, heading(t("Daily activities")), loading());
  const [patient, history] = await Promise.all([
    forSelf ? Promise.resolve(null) : api.get(`/api/patients/${patientId}`),
    api.get(`/api/patients/${patientId}/questionnaires/psfs`).catch((error) => {
      if (error.offline) return null;
      throw error;
    }),
  ]);
  let chart = null;
  const title = forSelf ? t("Daily activities") : t("Daily activities for {name}", { name: patient.name });
  const latest = history?.length ? history[history.length - 1] : null;
  const rows = Array.from({ length: ACTIVITIES }, (_, index) => activityRow(index, latest?.activities[index]));
  const message = statusArea("alert");
  say(message, "");
  const submit = h("button", { type: "submit" }, t("Save ratings"));
  const form = h(
    "form",
    { class: "psfs-form", novalidate: true },
    rows.map((row) => row.element),
    message,
    h("div", { class: "actions" }, submit),
  );
  const result = h("div", { class: "psfs-result", tabindex: "-1" });
  const historyArea = h("section", { "aria-labelledby": "psfs-history-title" });

  function drawHistory(list) {
    chart?.destroy();
    chart = null;
    const drawn = psfsChart(list);
    mount(
      historyArea,
      h("h2", { id: "psfs-history-title" }, forSelf ? t("Your ratings so far") : t("Ratings so far")),
      drawn.figure,
      psfsTable(list),
    );
    drawn
      .draw()
      .then((made) => {
        if (made && historyArea.isConnected) chart = made;
        else made?.destroy();
      })
      .catch(() => {});
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const activities = [];
    const problems = [];
    for (const row of rows) {
      row.name.removeAttribute("aria-invalid");
      const name = row.name.value.trim();
      const score = row.score();
      if (!name && score === null) continue;
      if (!name) {
        problems.push(t("Activity {number}: name the activity you rated.", { number: row.index + 1 }));
        row.name.setAttribute("aria-invalid", "true");
      } else if (score === null) {
        problems.push(
          t("Activity {number}: choose how well you can do “{name}”, 0 to 10.", { number: row.index + 1, name }),
        );
      } else activities.push({ name, score });
    }
    const names = activities.map((a) => a.name.toLocaleLowerCase());
    if (new Set(names).size !== names.length) problems.push(t("Name each activity once."));
    if (!activities.length && !problems.length) problems.push(t("Name at least one activity and rate it."));
    if (problems.length) {
      say(message, problems.join(" "), "error");
      (form.querySelector("[aria-invalid=true]") || rows[0].name).focus();
      return;
    }
    submit.disabled = true;
    say(message, "");
    try {
      const saved = await api.post(`/api/patients/${patientId}/questionnaires/psfs`, { activities });
      form.hidden = true;
      mount(
        result,
        h("h2", {}, t("Saved")),
        h(
          "p",
          { class: "odi-score" },
          h("strong", {}, t("{mean} out of 10", { mean: mean(saved.mean) })),
          ` ${t("on average")}`,
        ),
        h(
          "p",
          { class: "hint", "data-l10n-skip": "" },
          `${saved.activities.map((a) => `${a.name}: ${a.score}`).join(" · ")} — ${formatDay(saved.taken_on)}.`,
        ),
        forSelf
          ? h("p", {}, h("a", { href: "#/progress" }, t("See your progress")))
          : h("p", {}, h("a", { href: `#/patients/${patientId}` }, t("Back to {name}", { name: patient.name }))),
      );
      result.classList.add("card");
      result.focus();
      drawHistory([...(history || []), saved]);
    } catch (error) {
      if (error.offline)
        say(
          message,
          t("You are offline. Your ratings are still here; save them again when you are back online."),
          "error",
        );
      else showErrors(form, error, message);
    } finally {
      submit.disabled = false;
    }
  });

  mount(
    view,
    heading(title),
    h(
      "p",
      { class: "lead" },
      forSelf
        ? t(
            "Think of up to three everyday activities your back makes hard, such as putting on socks, lifting a bag or walking to the shop. Rate how well you can do each today.",
          )
        : t("Enter the activities the patient named and their ratings."),
    ),
    h("p", { class: "scale-note" }, h("strong", {}, `${t("Scale:")} `), t(SCALE)),
    latest
      ? h(
          "p",
          { class: "hint" },
          t("The activities are those of {day}, so the ratings can be compared. Change them if they no longer fit.", {
            day: formatDay(latest.taken_on),
          }),
        )
      : null,
    history === null
      ? h("p", { class: "notice" }, t("You are offline: the earlier ratings cannot be loaded now."))
      : null,
    result,
    form,
    historyArea,
  );
  drawHistory(history || []);
  return () => chart?.destroy();
}

/** One activity: its name and a 0–10 rating as eleven radio buttons. */
function activityRow(index, previous) {
  const name = h("input", {
    name: "name",
    maxlength: "100",
    autocomplete: "off",
    value: previous?.name ?? "",
    id: uid("psfs-name"),
  });
  const group = uid("psfs-score");
  const radios = Array.from({ length: 11 }, (_, score) =>
    h("input", { type: "radio", name: group, value: String(score) }),
  );
  const element = h(
    "fieldset",
    { class: "psfs-activity card" },
    h("legend", {}, `${t("Activity {number}", { number: index + 1 })}${index ? ` ${t("(optional)")}` : ""}`),
    h("div", { class: "field" }, h("label", { for: name.id }, t("What is it?")), name),
    h(
      "fieldset",
      { class: "score-scale", "aria-describedby": `${group}-hint` },
      h("legend", {}, t("How well can you do it today?")),
      h(
        "div",
        { class: "score-chips" },
        radios.map((radio) => h("label", { class: "score-chip" }, radio, h("span", {}, radio.value))),
      ),
      h(
        "p",
        { class: "hint", id: `${group}-hint` },
        t(SCALE),
        previous ? `. ${t("Last time: {score}.", { score: previous.score })}` : ".",
      ),
    ),
  );
  return {
    index,
    element,
    name,
    score: () => {
      const chosen = radios.find((radio) => radio.checked);
      return chosen ? Number(chosen.value) : null;
    },
  };
}
