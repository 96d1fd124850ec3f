/** Today: the patient's due exercises with a picture, "How to do it" (the
 * larger picture, the clinic's video, which can be kept for offline) and a Done
 * button each, undo, a Start button that guides the sets (guide.js, loaded on
 * first use), a note when the programme changed, the pain check-in and the
 * flare-up report (flare-up.js). Every write goes to the outbox first and
 * shows at once. */
import * as api from "../../core/api.js";
import * as bounds from "../../core/bounds.js";
import * as changes from "./changes.js";
import { dayItems, painToday } from "./day.js";
import { flareUpReport, painValueText } from "./flare-up.js";
import * as offlineMedia from "../../core/offline-media.js";
import { picture } from "../../core/pictures.js";
import { routineCacheKey } from "../../core/outbox.js";
import * as store from "../../core/store.js";
import {
  categoryName,
  deviceToday,
  excerpt,
  field,
  holdText,
  formatDay,
  formatTime,
  h,
  heading,
  loading,
  mount,
  say,
  statusArea,
} from "../../core/dom.js";
import { t, tn } from "../../core/i18n.js";

export async function render(view, { user }) {
  // fetchFailed: the server could not be asked, so what shows is this phone's copy
  const state = { user, routine: null, fresh: false, fetchFailed: false, outbox: [], undoing: new Set() };
  let guide = null; // the guided sets on screen (or being loaded), if any
  let left = false; // the patient has moved to another screen
  const title = heading(t("Today"));
  const dateLine = h("p", { class: "lead", "data-l10n-skip": "" }, formatDay(deviceToday(), "long"));
  const freshness = h("p", { class: "notice", hidden: true });
  const announcer = statusArea(); // for screen readers: the cards show the same visually
  announcer.classList.add("visually-hidden");
  const changeArea = h("div");
  const routineSection = h(
    "section",
    { "aria-labelledby": "routine-title" },
    h("h2", { id: "routine-title" }, t("Your exercises")),
    loading(),
  );
  const painSection = h("section", { "aria-labelledby": "pain-title", class: "card", hidden: true });
  const weekLink = h("p", { class: "week-link" }, h("a", { href: "#/week" }, t("See your week ahead")));
  const flareUp = flareUpReport({ today: () => today() });
  // shown once this phone's copy is drawn: a note about a changed programme
  // appearing above a painted list would make the page jump
  const show = () =>
    view.contains(title) ||
    mount(
      view,
      title,
      dateLine,
      flareUp.element,
      freshness,
      changeArea,
      announcer,
      routineSection,
      weekLink,
      painSection,
    );
  say(announcer, "");
  // an exercise's picture and "How to do it" are made once and moved on each
  // redraw: a tick elsewhere must not close the instructions or stop the video
  const shown = new Map();

  const refresh = async () => {
    state.outbox = await api.queuedRecords();
    const cached = await store.cached(routineCacheKey(user.id));
    if (cached) state.routine = cached.value;
    await drawChange(); // in the same frame as the routine: nothing jumps
    draw();
  };

  /** This phone's copy first (instant, and all there is offline), then the server's. */
  async function load() {
    await refresh();
    show();
    state.fetchFailed = !navigator.onLine;
    if (navigator.onLine) {
      try {
        const routine = await api.get(`/api/patients/${user.id}/routine`);
        await store.cache(routineCacheKey(user.id), { ...routine, fetched_at: new Date().toISOString() });
        state.fresh = true;
        offlineMedia.keep(routine.items).catch(() => {}); // pictures for "How to do it" offline
      } catch (error) {
        if (!error.offline && error.status < 500) throw error;
        state.fetchFailed = true;
      }
    }
    await refresh();
  }

  /** "Your programme changed", until the patient says "Got it" (made again
   * only when the change is another one). */
  let changeShown = null;
  async function drawChange() {
    const change = state.routine?.programme_change ?? null;
    if ((change?.version ?? null) === changeShown) return;
    changeShown = change?.version ?? null;
    mount(
      changeArea,
      await changes.notice(user, change, () => {
        mount(changeArea);
        const next = routineSection.querySelector("h2"); // focus does not fall to the page
        next.tabIndex = -1;
        next.focus();
      }),
    );
  }

  const today = () => store.patientTodayFrom(state.routine);

  function draw() {
    const day = today();
    const routine = state.routine;
    dateLine.textContent = formatDay(day, "long");
    if (!routine) {
      if (state.fetchFailed)
        mount(
          routineSection,
          h("h2", { id: "routine-title" }, t("Your exercises")),
          h("p", { class: "empty" }, t("Connect to the internet once to load your programme.")),
        );
      painSection.hidden = true;
      return;
    }
    painSection.hidden = false;
    const stale = routine.date !== day;
    // only once the server could not be asked: a notice that comes and goes would shift the page
    freshness.hidden = state.fresh || !state.fetchFailed;
    freshness.textContent = stale
      ? t("You are offline. This is your programme as of {day}; it may have changed since.", {
          day: formatDay(routine.date),
        })
      : state.fresh
        ? ""
        : `${navigator.onLine ? t("Homeward cannot be reached right now.") : t("You are offline.")} ${t("Ticks are kept on this phone and sent later.")}`;
    const items = dayItems(routine, state.outbox, day, state.undoing);
    const focused = routineSection.contains(document.activeElement)
      ? document.activeElement.getAttribute("aria-label")
      : null;
    drawRoutine(items, day);
    if (focused)
      [...routineSection.querySelectorAll("button")]
        .find((b) => b.getAttribute("aria-label") === focused && !b.disabled)
        ?.focus();
    drawPain(painToday(routine, state.outbox, day));
  }

  function drawRoutine(items, day) {
    const due = items.reduce((sum, item) => sum + item.due, 0);
    const done = items.reduce((sum, item) => sum + item.done, 0);
    const list = h(
      "ol",
      { class: "exercise-list" },
      items.map((item) =>
        exerciseCard(item, pictureAndHowTo(item.exercise), {
          start: () => startGuide(item, day),
          undo: () => undo(item),
          done: (event) => tick(item, day, event),
        }),
      ),
    );
    mount(
      routineSection,
      h("h2", { id: "routine-title" }, t("Your exercises")),
      items.length
        ? [
            h(
              "p",
              { class: "day-progress" },
              tn(due, "{done} of {count} session done today", "{done} of {count} sessions done today", { done }),
            ),
            h("progress", { max: String(due || 1), value: String(done), "aria-label": t("Sessions done today") }),
            list,
          ]
        : h(
            "p",
            { class: "empty" },
            t("Nothing is due today. Rest well — gentle walking is still good for your back."),
          ),
    );
  }

  /** The card's picture and its "How to do it", made once per exercise (and
   * again only when the exercise's media changed). */
  function pictureAndHowTo(exercise) {
    const key = JSON.stringify([
      exercise.instructions,
      exercise.illustration?.url,
      (exercise.media || []).map((m) => m.url),
    ]);
    const known = shown.get(exercise.id);
    if (known?.key === key) return known;
    const made = {
      key,
      picture: picture(exercise, "small", { class: "exercise-picture card-picture" }),
      howTo: howToDoIt(exercise),
    };
    shown.set(exercise.id, made);
    return made;
  }

  async function tick(item, day, event) {
    const button = event.currentTarget;
    button.disabled = true; // one tap, one session
    const problem = await saveTick(item, day);
    if (problem) {
      button.disabled = false;
      say(announcer, problem, "error");
      return;
    }
    sayDone(item);
    focusCard(item.exercise_id, "button.done");
  }

  /** Queues one session of `item` (checked against the server's bounds first);
   * resolves to what went wrong, or null once it is saved on the phone. */
  async function saveTick(item, day) {
    const body = { id: api.uuid(), exercise_id: item.exercise_id, performed_on: day };
    const found = bounds.problems("exercise_log", body, today());
    if (Object.keys(found).length) return t("Not saved: {problems}", { problems: bounds.describe(found) });
    try {
      await api.record("exercise_log", body);
    } catch (error) {
      return t("Could not save this on the phone: {problem}", { problem: error.message });
    }
    await refresh();
    return null;
  }

  function sayDone(item) {
    say(
      announcer,
      t("{name}: {done} of {due} done.", {
        name: item.exercise.name,
        done: Math.min(item.done + 1, item.due),
        due: item.due,
      }),
    );
  }

  /** Guides the item's sets; finishing the last one saves the session, exactly
   * as Done does. Stopping, or leaving the screen, saves nothing. */
  async function startGuide(item, day) {
    if (guide) return;
    guide = {};
    const audio = tapAudio();
    let openGuide;
    try {
      ({ openGuide } = await import("./guide.js"));
    } catch (error) {
      guide = null;
      audio?.close().catch(() => {});
      say(announcer, t("Could not open the guide: {problem}", { problem: error.message }), "error");
      return;
    }
    if (left) {
      audio?.close().catch(() => {});
      return;
    }
    const dose = { name: item.exercise.name, sets: item.sets, reps: item.reps, holdSeconds: item.hold_seconds || 0 };
    guide = openGuide(view, dose, {
      audio,
      finish: () => saveTick(item, day),
      close: ({ saved }) => {
        guide = null;
        if (saved) sayDone(item);
        focusCard(item.exercise_id, "button.start");
      },
    });
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
    say(announcer, t("Undone: one session of {name}.", { name: item.exercise.name }));
    focusCard(item.exercise_id, "button.done");
  }

  function focusCard(exerciseId, selector) {
    const card = routineSection.querySelector(`[data-exercise-id="${exerciseId}"]`);
    const target = card?.querySelector(`${selector}:not([disabled])`) || card?.querySelector("button:not([disabled])");
    target?.focus();
  }

  const pain = painForm({ today, refresh });
  painSection.append(
    h("h2", { id: "pain-title" }, t("Pain check-in")),
    h("p", { class: "hint" }, t("How is your back right now? You can check in more than once a day.")),
    pain.form,
    pain.entries,
  );

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
    show();
    mount(
      routineSection,
      h("h2", { id: "routine-title" }, t("Your exercises")),
      h("p", { role: "alert" }, error.message),
    );
  }
  return () => {
    left = true;
    guide?.destroy?.();
    api.events.removeEventListener("outbox", onOutbox);
    window.removeEventListener("online", onOnline);
  };
}

/** One exercise of the day: its picture, dose, the therapist's note, "How to
 * do it" (`media`, made once per exercise) and its Start, Undo and Done
 * buttons, which call `actions` (each gets the click event). */
function exerciseCard(item, media, actions) {
  const { exercise } = item;
  const complete = item.done >= item.due;
  return h(
    "li",
    { class: `exercise-card${complete ? " complete" : ""}`, dataset: { exerciseId: item.exercise_id } },
    h(
      "div",
      { class: "exercise-head" },
      h("h3", { "data-l10n-skip": "" }, exercise.name),
      h("span", { class: `tag tag-${exercise.category}` }, categoryName(exercise.category)),
    ),
    media.picture,
    h(
      "div",
      { class: "dose-row" },
      h("p", { class: "dose" }, dose(item)),
      h(
        "button",
        {
          type: "button",
          class: "secondary start",
          "aria-label": t("Start: {name}", { name: exercise.name }),
          disabled: complete,
          onclick: actions.start,
        },
        t("Start"),
      ),
    ),
    item.notes
      ? h(
          "p",
          { class: "therapist-note" },
          h("strong", {}, `${t("From your therapist:")} `),
          h("span", { "data-l10n-skip": "" }, item.notes),
        )
      : null,
    media.howTo,
    h(
      "div",
      { class: "exercise-actions" },
      h(
        "p",
        { class: "count" },
        t("{done} of {due}", { done: item.done, due: item.due }),
        complete ? h("span", { class: "visually-hidden" }, ` — ${t("done for today")}`) : null,
      ),
      item.ticks.length
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              "aria-label": t("Undo: {name}", { name: exercise.name }),
              onclick: actions.undo,
            },
            t("Undo"),
          )
        : null,
      h(
        "button",
        {
          type: "button",
          class: "done",
          "aria-label": t("Done: {name}", { name: exercise.name }),
          disabled: complete,
          onclick: actions.done,
        },
        complete ? `✓ ${t("Done")}` : t("Done"),
      ),
    ),
  );
}

/** The pain check-in: a 0-10 slider, spasms and a note, checked against the
 * server's bounds and queued in the outbox; `update(list)` shows the day's
 * check-ins. `today()` is the patient's day, `refresh()` redraws the screen. */
function painForm({ today, refresh }) {
  const score = h("input", {
    type: "range",
    id: "pain-score",
    name: "score",
    min: "0",
    max: "10",
    step: "1",
    value: "0",
    "aria-describedby": "pain-scale",
  });
  const shown = h("output", { class: "pain-value", for: "pain-score", "aria-hidden": "true" }, "0");
  const sayScore = () => score.setAttribute("aria-valuetext", painValueText(Number(score.value)));
  sayScore();
  score.addEventListener("input", () => {
    shown.textContent = score.value;
    sayScore();
    score.dataset.touched = "true";
  });
  // the bounds are the server's (bounds.js); the browser's own checks are off (novalidate)
  const spasmsRule = bounds.rule("pain_log", "spasms");
  const spasms = h("input", {
    type: "number",
    name: "spasms",
    min: spasmsRule?.minimum,
    max: spasmsRule?.maximum,
    step: "1",
    inputmode: "numeric",
  });
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
      h("label", { for: "pain-score" }, t("Pain (0-10)")),
      h("div", { class: "range-row" }, score, shown),
      h(
        "p",
        { class: "hint scale", id: "pain-scale" },
        h("span", {}, t("0 = no pain")),
        h("span", {}, t("10 = worst imaginable")),
      ),
    ),
    field(t("Spasms today (optional)"), spasms),
    field(t("Note (optional)"), note),
    message,
    h("button", { type: "submit" }, t("Save pain")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
    const count = spasms.value === "" ? null : Number(spasms.value);
    const body = {
      id: api.uuid(),
      logged_on: today(),
      score: Number(score.value),
      spasms: count,
      note: note.value.trim() || null,
    };
    // the same bounds as the server's: "Saved" only for what it will take
    const found = bounds.problems("pain_log", body, today());
    if (spasms.validity.badInput) found.spasms = t("must be a whole number.");
    if (bounds.refused(found, inputs, message)) return;
    await api.record("pain_log", body);
    spasms.value = "";
    note.value = "";
    say(message, t("Saved: pain {score} out of 10.", { score: body.score }), "success");
    await refresh();
  });
  const entries = h("div", { class: "pain-today" });
  /** Lists today's check-ins; the slider starts at the latest score until touched. */
  const update = (list) => {
    if (list.length && !score.dataset.touched) {
      score.value = String(list[list.length - 1].score);
      shown.textContent = score.value;
      sayScore();
    }
    mount(
      entries,
      list.length
        ? [
            h("h3", {}, t("Earlier today")),
            h(
              "ul",
              { class: "pain-entries" },
              list.map((entry) =>
                h(
                  "li",
                  {},
                  h(
                    "span",
                    { class: "pain-badge", dataset: { level: painLevel(entry.score) }, "aria-hidden": "true" },
                    String(entry.score),
                  ),
                  h(
                    "span",
                    {},
                    t("{time} · pain {score}/10", {
                      time: formatTime(entry.created_at || entry.queued_at),
                      score: entry.score,
                    }),
                    entry.spasms ? ` · ${tn(entry.spasms, "{count} spasm", "{count} spasms")}` : "",
                    entry.note ? [" · ", h("span", { "data-l10n-skip": "" }, excerpt(entry.note))] : "",
                    entry.queued ? h("span", { class: "queued" }, ` · ${t("not sent yet")}`) : "",
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

/** "How to do it": the larger picture, the instructions, the clinic's other
 * pictures and its video, which the patient can keep on the phone. */
function howToDoIt(exercise) {
  const images = (exercise.media || []).filter((m) => m.kind === "image");
  const video = (exercise.media || []).find((m) => m.kind === "video");
  const large = picture(exercise, "large", { loading: "lazy" });
  const others = images.slice(1);
  return h(
    "details",
    { class: "how-to" },
    // named for its exercise: every card has one, and a list of "How to do it" tells nothing apart
    h("summary", {}, t("How to do {name}", { name: exercise.name })),
    large,
    h("p", { "data-l10n-skip": "" }, exercise.instructions),
    others.length
      ? h(
          "div",
          { class: "clinic-pictures" },
          others.map((m) =>
            h("img", {
              src: m.thumb_url,
              alt: t("{name}, another view from your clinic", { name: exercise.name }),
              loading: "lazy",
              width: m.width,
              height: m.height,
            }),
          ),
        )
      : null,
    video ? videoBlock(exercise, video) : null,
  );
}

function videoBlock(exercise, video) {
  const status = h("p", { class: "hint video-status", role: "status" });
  const button = h("button", { type: "button", class: "secondary small" });
  const player = h("video", {
    controls: true,
    preload: "none",
    playsinline: true,
    src: video.url,
    "aria-label": t("Video: {name}", { name: exercise.name }),
  });

  async function show() {
    const saved = await offlineMedia.isSaved(video.url);
    button.disabled = false;
    button.textContent = saved
      ? t("Remove the video from this phone")
      : t("Save video for offline ({size})", { size: offlineMedia.megabytes(video.bytes) });
    // the exercise's name after the visible words: every card with a video has this button
    button.setAttribute("aria-label", `${button.textContent}: ${exercise.name}`);
    button.onclick = saved ? remove : save;
    status.textContent = saved
      ? t("Saved on this phone: it plays without the internet.")
      : navigator.onLine
        ? ""
        : t("You are offline: save the video while online to watch it offline.");
  }
  async function save() {
    button.disabled = true;
    status.textContent = t("Saving the video…");
    try {
      await offlineMedia.saveVideo(video.url);
    } catch (error) {
      status.textContent =
        error instanceof TypeError ? t("You are offline: try again when you are online.") : error.message;
      button.disabled = false;
      return;
    }
    await show();
  }
  async function remove() {
    button.disabled = true;
    await offlineMedia.removeVideo(video.url);
    await show();
  }
  show();
  return h("div", { class: "video" }, player, h("div", { class: "video-actions" }, button), status);
}

/** Sound for the guide's beeps, made during the tap on Start: browsers let
 * sound start only from one. None where the phone has no Web Audio. */
function tapAudio() {
  try {
    return window.AudioContext ? new AudioContext() : null;
  } catch {
    return null;
  }
}

function dose(item) {
  const parts = [`${tn(item.sets, "{count} set", "{count} sets")} × ${tn(item.reps, "{count} rep", "{count} reps")}`];
  if (item.hold_seconds) parts.push(t("hold {time}", { time: holdText(item.hold_seconds) }));
  parts.push(
    item.times_per_day === 1
      ? t("once a day")
      : item.times_per_day === 2
        ? t("twice a day")
        : t("{count} times a day", { count: item.times_per_day }),
  );
  return parts.join(" · ");
}

export function painLevel(score) {
  return score >= 7 ? "high" : score >= 4 ? "mid" : "low";
}
