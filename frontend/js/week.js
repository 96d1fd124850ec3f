/** This week: which exercises are due on which day, and for each past day
 * whether they were done or missed, at a glance. Kept on the device for
 * offline use, like Today. */
import * as api from "./api.js";
import * as store from "./store.js";
import { addDays, formatDay, h, heading, loading, mount } from "./dom.js";

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export async function render(view, { user }) {
  const body = h("div", { class: "week-body" }, loading());
  const nav = h("div", { class: "week-nav" });
  mount(view, heading("This week"), nav, body);
  let showing = null; // the week's Monday

  async function show(day) {
    const key = `week:${user.id}:${day || "now"}`;
    let week = null;
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
      note = week ? "You are offline: this is the week as this phone last saw it." : "Connect to the internet once to see your week.";
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
      h("button", { type: "button", class: "secondary small", onclick: () => show(addDays(showing, -7)) }, "← Previous week"),
      h("p", { class: "week-range" }, `${formatDay(week.start, "short")} – ${formatDay(addDays(week.start, 6), "short")}`),
      thisWeek ? h("span") : h("button", { type: "button", class: "secondary small", onclick: () => show(null) }, "This week →"),
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

const STATE_WORDS = { rest: "rest day", ahead: "to come", done: "all done", today: "today", partial: "partly done", missed: "missed" };

/** One line per day: the day's sessions, done or missed. */
function summary(week) {
  return h(
    "ol",
    { class: "week-days", "aria-label": "Days of the week" },
    week.days.map((day, index) => {
      const state = dayState(day, week.today);
      return h(
        "li",
        { class: `week-day ${state}`, "aria-current": day.date === week.today ? "date" : null },
        h("span", { class: "week-day-name" }, DAY_NAMES[index]),
        h("span", { class: "week-day-mark", "aria-hidden": "true" }, { done: "✓", missed: "✗", partial: "◐", today: "•", ahead: "·", rest: "–" }[state]),
        h("span", { class: "week-day-count" }, day.due ? `${day.done}/${day.due}` : ""),
        h("span", { class: "visually-hidden" }, `${formatDay(day.date, "long")}: ${STATE_WORDS[state]}${day.due ? `, ${day.done} of ${day.due} sessions` : ""}`),
      );
    }),
  );
}

/** Exercises × days: what is due on which day, and how it went. */
function grid(week) {
  if (!week.exercises.length) return h("p", { class: "empty" }, "No exercises this week.");
  const cell = (exercise, day) => {
    const item = day.items.find((i) => i.exercise_id === exercise.id);
    if (!item) return h("td", { class: "not-due" }, h("span", { class: "visually-hidden" }, "not due"));
    const past = day.date < week.today;
    const state = item.done >= item.due ? "done" : past ? (item.done ? "partial" : "missed") : day.date === week.today ? "today" : "ahead";
    const text = item.due > 1 ? `${item.done}/${item.due}` : { done: "✓", missed: "✗", partial: "◐", today: "•", ahead: "·" }[state];
    return h("td", { class: state }, h("span", { "aria-hidden": "true" }, text), h("span", { class: "visually-hidden" }, `${STATE_WORDS[state] === "all done" ? "done" : STATE_WORDS[state]}, ${item.done} of ${item.due}`));
  };
  return h(
    "div",
    { class: "table-wrap week-grid", role: "region", "aria-label": "Exercises by day", tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, "Your exercises by day: done, missed or to come"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Exercise"), week.days.map((day, index) => h("th", { scope: "col", class: day.date === week.today ? "today" : null }, h("abbr", { title: formatDay(day.date, "long") }, DAY_NAMES[index]))))),
      h("tbody", {}, week.exercises.map((exercise) => h("tr", {}, h("th", { scope: "row" }, exercise.name), week.days.map((day) => cell(exercise, day))))),
    ),
  );
}
