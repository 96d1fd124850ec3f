/** Today: the patient's due exercises with a Done button each, undo, and the
 * pain check-in. Every write goes to the outbox first and shows at once. */
import * as api from "./api.js";
import * as bounds from "./bounds.js";
import { routineCacheKey } from "./outbox.js";
import * as store from "./store.js";
import { deviceToday, field, holdText, formatDay, formatTime, h, heading, loading, mount, plural, say, statusArea } from "./dom.js";

export async function render(view, { user }) {
  // fetchFailed: the server could not be asked, so what shows is this phone's copy
  const state = { user, routine: null, fresh: false, fetchFailed: false, outbox: [], undoing: new Set() };
  const title = heading("Today");
  const dateLine = h("p", { class: "lead" }, formatDay(deviceToday(), "long"));
  const freshness = h("p", { class: "notice", hidden: true });
  const announcer = statusArea(); // for screen readers: the cards show the same visually
  announcer.classList.add("visually-hidden");
  const routineSection = h("section", { "aria-labelledby": "routine-title" }, h("h2", { id: "routine-title" }, "Your exercises"), loading());
  const painSection = h("section", { "aria-labelledby": "pain-title", class: "card", hidden: true });
  mount(view, title, dateLine, freshness, announcer, routineSection, painSection);
  say(announcer, "");

  const refresh = async () => {
    state.outbox = await api.queuedRecords();
    const cached = await store.cached(routineCacheKey(user.id));
    if (cached) state.routine = cached.value;
    draw();
  };

  /** This phone's copy first (instant, and all there is offline), then the server's. */
  async function load() {
    await refresh();
    state.fetchFailed = !navigator.onLine;
    if (navigator.onLine) {
      try {
        const routine = await api.get(`/api/patients/${user.id}/routine`);
        await store.cache(routineCacheKey(user.id), { ...routine, fetched_at: new Date().toISOString() });
        state.fresh = true;
      } catch (error) {
        if (!error.offline && error.status < 500) throw error;
        state.fetchFailed = true;
      }
    }
    await refresh();
  }

  const today = () => store.patientTodayFrom(state.routine);

  function draw() {
    const day = today();
    const routine = state.routine;
    dateLine.textContent = formatDay(day, "long");
    if (!routine) {
      if (state.fetchFailed) mount(routineSection, h("h2", { id: "routine-title" }, "Your exercises"), h("p", { class: "empty" }, "Connect to the internet once to load your programme."));
      painSection.hidden = true;
      return;
    }
    painSection.hidden = false;
    const stale = routine.date !== day;
    // only once the server could not be asked: a notice that comes and goes would shift the page
    freshness.hidden = state.fresh || !state.fetchFailed;
    freshness.textContent = stale
      ? `You are offline. This is your programme as of ${formatDay(routine.date)}; it may have changed since.`
      : state.fresh
        ? ""
        : `${navigator.onLine ? "Homeward cannot be reached right now." : "You are offline."} Ticks are kept on this phone and sent later.`;
    const items = dayItems(routine, state.outbox, day, state.undoing);
    const focused = routineSection.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
    drawRoutine(items, day);
    if (focused) [...routineSection.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === focused && !b.disabled)?.focus();
    drawPain(painToday(routine, state.outbox, day));
  }

  function drawRoutine(items, day) {
    const due = items.reduce((sum, item) => sum + item.due, 0);
    const done = items.reduce((sum, item) => sum + item.done, 0);
    const list = h(
      "ol",
      { class: "exercise-list" },
      items.map((item) => exerciseCard(item, day)),
    );
    mount(
      routineSection,
      h("h2", { id: "routine-title" }, "Your exercises"),
      items.length
        ? [
            h("p", { class: "day-progress" }, `${done} of ${plural(due, "session")} done today`),
            h("progress", { max: String(due || 1), value: String(done), "aria-label": "Sessions done today" }),
            list,
          ]
        : h("p", { class: "empty" }, "Nothing is due today. Rest well — gentle walking is still good for your back."),
    );
  }

  function exerciseCard(item, day) {
    const { exercise } = item;
    const complete = item.done >= item.due;
    return h(
      "li",
      { class: `exercise-card${complete ? " complete" : ""}`, dataset: { exerciseId: item.exercise_id } },
      h("div", { class: "exercise-head" }, h("h3", {}, exercise.name), h("span", { class: `tag tag-${exercise.category}` }, exercise.category)),
      h("p", { class: "dose" }, dose(item)),
      item.notes ? h("p", { class: "therapist-note" }, h("strong", {}, "From your therapist: "), item.notes) : null,
      h("details", {}, h("summary", {}, "How to do it"), h("p", {}, exercise.instructions)),
      h(
        "div",
        { class: "exercise-actions" },
        h("p", { class: "count" }, `${item.done} of ${item.due}`, complete ? h("span", { class: "visually-hidden" }, " — done for today") : null),
        item.ticks.length
          ? h("button", { type: "button", class: "secondary", "aria-label": `Undo: ${exercise.name}`, onclick: () => undo(item) }, "Undo")
          : null,
        h("button", { type: "button", class: "done", "aria-label": `Done: ${exercise.name}`, disabled: complete, onclick: (event) => tick(item, day, event) }, complete ? "✓ Done" : "Done"),
      ),
    );
  }

  async function tick(item, day, event) {
    const button = event.currentTarget;
    button.disabled = true; // one tap, one session
    const body = { id: api.uuid(), exercise_id: item.exercise_id, performed_on: day };
    const found = bounds.problems("exercise_log", body, today());
    if (Object.keys(found).length) {
      button.disabled = false;
      say(announcer, `Not saved: ${bounds.describe(found)}`, "error");
      return;
    }
    try {
      await api.record("exercise_log", body);
    } catch (error) {
      button.disabled = false;
      say(announcer, `Could not save this on the phone: ${error.message}`, "error");
      return;
    }
    await refresh();
    say(announcer, `${item.exercise.name}: ${Math.min(item.done + 1, item.due)} of ${item.due} done.`);
    focusCard(item.exercise_id, "button.done");
  }

  async function undo(item) {
    const latest = item.ticks[item.ticks.length - 1];
    if (!latest) return;
    state.undoing.add(latest.id); // shown at once, even while a sync holds the outbox
    draw();
    try {
      await api.undoTick(latest.id);
    } finally {
      await refresh();
      state.undoing.delete(latest.id);
    }
    say(announcer, `Undone: one session of ${item.exercise.name}.`);
    focusCard(item.exercise_id, "button.done");
  }

  function focusCard(exerciseId, selector) {
    const card = routineSection.querySelector(`[data-exercise-id="${exerciseId}"]`);
    const target = card?.querySelector(`${selector}:not([disabled])`) || card?.querySelector("button:not([disabled])");
    target?.focus();
  }

  const pain = painForm();
  painSection.append(h("h2", { id: "pain-title" }, "Pain check-in"), h("p", { class: "hint" }, "How is your back right now? You can check in more than once a day."), pain.form, pain.entries);

  function painForm() {
    const score = h("input", { type: "range", id: "pain-score", name: "score", min: "0", max: "10", step: "1", value: "0", "aria-describedby": "pain-scale" });
    const shown = h("output", { class: "pain-value", for: "pain-score", "aria-hidden": "true" }, "0");
    score.addEventListener("input", () => {
      shown.textContent = score.value;
      score.dataset.touched = "true";
    });
    // the bounds are the server's (bounds.js); the browser's own checks are off (novalidate)
    const spasmsRule = bounds.rule("pain_log", "spasms");
    const spasms = h("input", { type: "number", name: "spasms", min: spasmsRule?.minimum, max: spasmsRule?.maximum, step: "1", inputmode: "numeric" });
    const note = h("textarea", { name: "note", rows: "2", maxlength: bounds.rule("pain_log", "note")?.maxLength });
    const inputs = { score, spasms, note };
    const message = statusArea();
    say(message, "");
    const form = h(
      "form",
      { class: "pain-form", novalidate: true },
      h(
        "div",
        { class: "field" },
        h("label", { for: "pain-score" }, "Pain (0-10)"),
        h("div", { class: "range-row" }, score, shown),
        h("p", { class: "hint scale", id: "pain-scale" }, h("span", {}, "0 = no pain"), h("span", {}, "10 = worst imaginable")),
      ),
      field("Spasms today (optional)", spasms),
      field("Note (optional)", note),
      message,
      h("button", { type: "submit" }, "Save pain"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
      const count = spasms.value === "" ? null : Number(spasms.value);
      const body = { id: api.uuid(), logged_on: today(), score: Number(score.value), spasms: count, note: note.value.trim() || null };
      // the same bounds as the server's: "Saved" only for what it will take
      const found = bounds.problems("pain_log", body, today());
      if (spasms.validity.badInput) found.spasms = "must be a whole number.";
      const invalid = Object.keys(found);
      if (invalid.length) {
        say(message, `Not saved: ${bounds.describe(found)}`, "error");
        for (const name of invalid) inputs[name]?.setAttribute("aria-invalid", "true");
        inputs[invalid[0]]?.focus();
        return;
      }
      await api.record("pain_log", body);
      spasms.value = "";
      note.value = "";
      say(message, `Saved: pain ${body.score} out of 10.`, "success");
      await refresh();
    });
    const entries = h("div", { class: "pain-today" });
    /** Lists today's check-ins; the slider starts at the latest score until touched. */
    const update = (list) => {
      if (list.length && !score.dataset.touched) {
        score.value = String(list[list.length - 1].score);
        shown.textContent = score.value;
      }
      mount(
        entries,
        list.length
          ? [
              h("h3", {}, "Earlier today"),
              h(
                "ul",
                { class: "pain-entries" },
                list.map((entry) =>
                  h(
                    "li",
                    {},
                    h("span", { class: "pain-badge", dataset: { level: painLevel(entry.score) }, "aria-hidden": "true" }, String(entry.score)),
                    h(
                      "span",
                      {},
                      `${formatTime(entry.created_at || entry.queued_at)} · pain ${entry.score}/10`,
                      entry.spasms ? ` · ${plural(entry.spasms, "spasm")}` : "",
                      entry.note ? ` · ${entry.note}` : "",
                      entry.queued ? h("span", { class: "queued" }, " · not sent yet") : "",
                    ),
                  ),
                ),
              ),
            ]
          : null,
      );
    };
    return { form, entries, update };
  }

  function drawPain(entries) {
    pain.update(entries);
  }

  const onOutbox = () => refresh();
  const onOnline = () => load().catch(() => {});
  api.events.addEventListener("outbox", onOutbox);
  window.addEventListener("online", onOnline);
  try {
    await load();
  } catch (error) {
    mount(routineSection, h("h2", { id: "routine-title" }, "Your exercises"), h("p", { role: "alert" }, error.message));
  }
  return () => {
    api.events.removeEventListener("outbox", onOutbox);
    window.removeEventListener("online", onOnline);
  };
}

/** The routine's items with today's ticks: those the server has, minus queued
 * undos, plus those still in the outbox. */
export function dayItems(routine, outbox, day, undoing = new Set()) {
  const undone = new Set(outbox.filter((r) => r.kind === "deleted_exercise_log").map((r) => r.id));
  const ticks = new Map();
  if (routine.date === day) {
    for (const log of routine.exercise_logs || []) {
      if (!log.deleted_at && !undone.has(log.id)) ticks.set(log.id, { id: log.id, exercise_id: log.exercise_id, at: log.created_at });
    }
  }
  for (const record of outbox) {
    if (record.kind === "exercise_log" && record.body.performed_on === day) {
      ticks.set(record.id, { id: record.id, exercise_id: record.body.exercise_id, at: record.queued_at, queued: true });
    }
  }
  for (const id of undoing) ticks.delete(id);
  const sorted = [...ticks.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return routine.items.map((item) => {
    const mine = sorted.filter((tick) => tick.exercise_id === item.exercise_id);
    const due = item.sessions_due ?? item.times_per_day;
    return { ...item, due, ticks: mine, done: Math.min(mine.length, due) };
  });
}

function painToday(routine, outbox, day) {
  const entries = routine.date === day ? [...(routine.pain || [])] : [];
  for (const record of outbox) {
    if (record.kind === "pain_log" && record.body.logged_on === day && !entries.some((e) => e.id === record.id)) {
      entries.push({ ...record.body, queued_at: record.queued_at, queued: true });
    }
  }
  return entries.sort((a, b) => ((a.created_at || a.queued_at) < (b.created_at || b.queued_at) ? -1 : 1));
}

function dose(item) {
  const parts = [`${plural(item.sets, "set")} × ${plural(item.reps, "rep")}`];
  if (item.hold_seconds) parts.push(`hold ${holdText(item.hold_seconds)}`);
  parts.push(item.times_per_day === 1 ? "once a day" : item.times_per_day === 2 ? "twice a day" : `${item.times_per_day} times a day`);
  return parts.join(" · ");
}

export function painLevel(score) {
  return score >= 7 ? "high" : score >= 4 ? "mid" : "low";
}
