/** This week: which exercises are due on which day, and for each past day
 * whether they were done or missed, at a glance. Kept on the device for
 * offline use, like Today. */
import * as api from "../../core/api.js";
import * as store from "../../core/store.js";
import { addDays, formatDay, h, heading, loading, mount, weekdayName } from "../../core/dom.js";
import { N_, t } from "../../core/i18n.js";

export async function render(view, { user }) {
  const body = h("div", { class: "week-body" }, loading());
  const nav = h("div", { class: "week-nav" });
  mount(view, heading(t("This week")), nav, body);
  let showing = null; // the week's Monday

  async function show(day) {
    const key = `week:${user.id}:${day || "now"}`;
    let week;
    let note = null;
    try {
      week = await api.get(`/api/patients/${user.id}/week`, day ? { date: day } : undefined);
      await store.cache(key, week);
    } catch (error) {
      if (!error.offline && error.status < 500) {
        mount(body, h("p", { role: "alert" }, error.message));
        return;
      }
      week = (await store.cached(key))?.value;
      note = week
        ? t("You are offline: this is the week as this phone last saw it.")
        : t("Connect to the internet once to see your week.");
    }
    if (!week) {
      mount(body, h("p", { class: "empty" }, note));
      return;
    }
    showing = week.start;
    drawNav(week);
    mount(body, note ? h("p", { class: "notice" }, note) : null, summary(week), grid(week));
  }

  function drawNav(week) {
    const thisWeek = week.today >= week.start && week.today <= addDays(week.start, 6);
    mount(
      nav,
      h(
        "button",
        { type: "button", class: "secondary small", onclick: () => show(addDays(showing, -7)) },
        `← ${t("Previous week")}`,
      ),
      h(
        "p",
        { class: "week-range", "data-l10n-skip": "" },
        `${formatDay(week.start, "short")} – ${formatDay(addDays(week.start, 6), "short")}`,
      ),
      thisWeek
        ? h("span")
        : h("button", { type: "button", class: "secondary small", onclick: () => show(null) }, `${t("This week")} →`),
    );
  }

  await show(null);
}

function dayState(day, today) {
  if (!day.due) return "rest";
  if (day.date > today) return "ahead";
  if (day.done >= day.due) return "done";
  if (day.date === today) return "today";
  return day.done ? "partial" : "missed";
}

const STATE_WORDS = {
  rest: N_("rest day"),
  ahead: N_("to come"),
  done: N_("all done"),
  today: N_("today"),
  partial: N_("partly done"),
  missed: N_("missed"),
};

/** One line per day: the day's sessions, done or missed. */
function summary(week) {
  return h(
    "ol",
    { class: "week-days", "aria-label": t("Days of the week") },
    week.days.map((day, index) => {
      const state = dayState(day, week.today);
      return h(
        "li",
        { class: `week-day ${state}`, "aria-current": day.date === week.today ? "date" : null },
        h("span", { class: "week-day-name" }, weekdayName(index)),
        h(
          "span",
          { class: "week-day-mark", "aria-hidden": "true" },
          { done: "✓", missed: "✗", partial: "◐", today: "•", ahead: "·", rest: "–" }[state],
        ),
        h("span", { class: "week-day-count" }, day.due ? `${day.done}/${day.due}` : ""),
        h(
          "span",
          { class: "visually-hidden", "data-l10n-skip": "" },
          `${formatDay(day.date, "long")}: ${t(STATE_WORDS[state])}${day.due ? `, ${t("{done} of {due} sessions", { done: day.done, due: day.due })}` : ""}`,
        ),
      );
    }),
  );
}

/** Exercises × days: what is due on which day, and how it went. */
function grid(week) {
  if (!week.exercises.length) return h("p", { class: "empty" }, t("No exercises this week."));
  const cell = (exercise, day) => {
    const item = day.items.find((i) => i.exercise_id === exercise.id);
    if (!item) return h("td", { class: "not-due" }, h("span", { class: "visually-hidden" }, t("not due")));
    const past = day.date < week.today;
    const state =
      item.done >= item.due
        ? "done"
        : past
          ? item.done
            ? "partial"
            : "missed"
          : day.date === week.today
            ? "today"
            : "ahead";
    const text =
      item.due > 1
        ? `${item.done}/${item.due}`
        : { done: "✓", missed: "✗", partial: "◐", today: "•", ahead: "·" }[state];
    return h(
      "td",
      { class: state },
      h("span", { "aria-hidden": "true" }, text),
      h(
        "span",
        { class: "visually-hidden" },
        t("{state}, {done} of {due}", {
          state: state === "done" ? t("done") : t(STATE_WORDS[state]),
          done: item.done,
          due: item.due,
        }),
      ),
    );
  };
  return h(
    "div",
    { class: "table-wrap week-grid", role: "region", "aria-label": t("Exercises by day"), tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, t("Your exercises by day: done, missed or to come")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("Exercise")),
          week.days.map((day, index) =>
            h(
              "th",
              { scope: "col", class: day.date === week.today ? "today" : null },
              h("abbr", { title: formatDay(day.date, "long") }, weekdayName(index)),
            ),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        week.exercises.map((exercise) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", "data-l10n-skip": "" }, exercise.name),
            week.days.map((day) => cell(exercise, day)),
          ),
        ),
      ),
    ),
  );
}
