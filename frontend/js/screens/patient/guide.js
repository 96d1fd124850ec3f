/** Guided sets: runs one exercise set by set on the Today screen, with a hold
 * timer (a countdown ring), relax pauses, rests between sets, a beep and a buzz
 * at the end of each hold, and the screen kept on. Loaded by today.js on first
 * use. It records nothing itself: finishing the last set calls `finish()`,
 * which ticks the exercise; Stop, Escape or leaving the screen record nothing. */
import { h, say, uid } from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

const READY_MS = 5000; // time to get down on the mat before the first hold
const RELAX_MS = 3000; // between reps
const REST_MS = 30000; // between sets
const DONE_MS = 2500; // "Done — well done" shows this long, then Today again
const TICK_MS = 200;
const HALFWAY_FROM_S = 20; // shorter holds are not told "Halfway"
const RING_RADIUS = 45;
const RING_LENGTH = 2 * Math.PI * RING_RADIUS;
const SVG = "http://www.w3.org/2000/svg";
const PHASES = { ready: N_("Get ready"), hold: N_("Hold"), relax: N_("Relax"), rest: N_("Rest"), set: N_("Do") };

/** The steps of a programme item's dose, in order. `ms` marks a timed step;
 * an untimed "set" waits for the patient's "Set done". */
export function plan({ sets, reps, holdSeconds }) {
  const steps = [];
  for (let set = 1; set <= sets; set++) {
    if (holdSeconds > 0) {
      if (set === 1) steps.push({ kind: "ready", set, rep: 1, ms: READY_MS });
      for (let rep = 1; rep <= reps; rep++) {
        steps.push({ kind: "hold", set, rep, ms: holdSeconds * 1000 });
        if (rep < reps) steps.push({ kind: "relax", set, rep: rep + 1, ms: RELAX_MS });
      }
    } else {
      steps.push({ kind: "set", set });
    }
    if (set < sets) steps.push({ kind: "rest", set: set + 1, ms: REST_MS });
  }
  return steps;
}

/**
 * Shows the guide in `host` (Today's view, whose other content hides meanwhile).
 * dose: {name, sets, reps, holdSeconds}; audio: an AudioContext made during the
 * tap on Start (or null); finish(): records the session, resolves to a problem
 * to show or null; close({saved}): the guide has gone.
 * Returns {destroy}: ends it silently (the screen is being left).
 */
export function openGuide(host, dose, { audio, finish, close }) {
  const steps = plan(dose);
  const ui = guideView(dose);
  const state = {
    index: 0,
    startedAt: performance.now(),
    pausedAt: null,
    ended: false,
    saved: false,
    halfwaySaid: false,
    message: "",
  };
  const screen = keepScreenOn();

  host.classList.add("guiding");
  host.append(ui.section);
  window.scrollTo(0, 0);
  ui.pause.addEventListener("click", togglePause);
  ui.skipRest.addEventListener("click", () => next(true));
  ui.setDone.addEventListener("click", () => next(true));
  ui.stop.addEventListener("click", leave);
  ui.back.addEventListener("click", leave);
  document.addEventListener("keydown", onKey);
  enter(steps[0], dose.holdSeconds > 0 ? "" : `${dose.name}. `);
  const timer = setInterval(update, TICK_MS);
  draw();
  primaryButton().focus();

  /** The clock: time is measured, never counted, so a throttled timer catches up. */
  function update() {
    if (!state.ended && state.pausedAt === null) {
      let step = steps[state.index];
      while (step?.ms && performance.now() - state.startedAt >= step.ms) {
        state.startedAt += step.ms; // the next step starts when this one ended
        next(false, performance.now() - state.startedAt > 1000);
        step = state.ended ? null : steps[state.index];
      }
      if (step?.kind === "hold") sayHalfway(step);
    }
    if (!state.ended) draw();
    flushMessage();
  }

  /** Ends the current step and starts the next; `tapped` when the patient chose
   * to, `late` when it ended a while ago (the page slept: no beep now). */
  function next(tapped, late = false) {
    if (state.ended) return; // the last set is done once
    const ending = steps[state.index];
    if (tapped) {
      state.startedAt = performance.now();
      state.pausedAt = null; // "Skip rest" while paused goes on
      audio?.resume?.().catch(() => {});
    }
    const released = ending.kind === "hold" ? `${t("Release.")} ` : "";
    if (ending.kind === "hold" && !late) endOfHold(audio);
    state.index += 1;
    if (state.index >= steps.length) {
      done(released);
      return;
    }
    enter(steps[state.index], released);
    draw();
    const focused = document.activeElement;
    // a tap goes on from the next control; a button that has just gone hands focus on
    if (tapped || !focused || focused === document.body || (ui.section.contains(focused) && focused.hidden))
      primaryButton().focus();
    if (tapped) flushMessage();
  }

  /** What a screen reader hears as a step starts: not every second, only changes. */
  function enter(step, before = "") {
    state.halfwaySaid = false;
    const newSet = step.rep === 1 && step.set > 1; // set 1 was said with "Get ready"
    const setText = t("Set {set} of {sets}.", { set: step.set, sets: dose.sets });
    const text = {
      ready: () => `${dose.name}. ${setText} ${t("Get ready.")}`,
      hold: () =>
        [
          newSet ? setText : "",
          t("Rep {rep} of {reps}.", { rep: step.rep, reps: dose.reps }),
          tn(dose.holdSeconds, "Hold {count} second.", "Hold {count} seconds."),
        ]
          .filter(Boolean)
          .join(" "),
      relax: () => t("Relax."),
      rest: () => t("Rest {seconds} seconds.", { seconds: REST_MS / 1000 }),
      set: () => `${setText} ${tn(dose.reps, "{count} rep, then Set done.", "{count} reps, then Set done.")}`,
    }[step.kind]();
    announce(before + text);
  }

  function sayHalfway(step) {
    const left = step.ms - (performance.now() - state.startedAt);
    if (!state.halfwaySaid && dose.holdSeconds >= HALFWAY_FROM_S && left <= step.ms / 2) {
      state.halfwaySaid = true;
      announce(t("Halfway."));
    }
  }

  function togglePause() {
    audio?.resume?.().catch(() => {});
    if (state.pausedAt === null) {
      state.pausedAt = performance.now();
      announce(t("Paused."));
    } else {
      state.startedAt += performance.now() - state.pausedAt;
      state.pausedAt = null;
      announce(t("Resumed."));
    }
    draw();
    flushMessage();
  }

  /** The last set is finished: the one moment a session is recorded. */
  async function done(released) {
    state.ended = true;
    clearInterval(timer);
    screen.release();
    ui.showDone(t("Saving…"));
    ui.back.focus();
    const problem = await finish();
    state.saved = !problem;
    if (!ui.section.isConnected) return;
    ui.showDone(problem ? t("Finished, but not saved") : t("Done — well done"), problem);
    announce(`${released}${problem ? `${t("Finished, but not saved.")} ${problem}` : t("Done — well done.")}`);
    flushMessage();
    if (!problem) setTimeout(leave, DONE_MS);
  }

  /** Closes the guide: Stop (nothing recorded) or after the finish. */
  function leave() {
    if (!ui.section.isConnected) return;
    destroy();
    close({ saved: state.saved });
  }

  function destroy() {
    state.ended = true;
    clearInterval(timer);
    screen.release();
    document.removeEventListener("keydown", onKey);
    audio?.close?.().catch(() => {});
    ui.section.remove();
    host.classList.remove("guiding");
  }

  function onKey(event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    leave();
  }

  function announce(text) {
    state.message = text;
  }

  /** Messages go out with the next tick (or the tap), so the live region is in
   * the page before its first message and only the latest of a tick is read. */
  function flushMessage() {
    if (state.message) say(ui.live, state.message);
    state.message = "";
  }

  function draw() {
    const step = steps[state.index];
    const now = state.pausedAt ?? performance.now();
    const left = step.ms ? Math.max(0, step.ms - (now - state.startedAt)) : 0;
    ui.show(step, left, state.pausedAt !== null);
  }

  function primaryButton() {
    return [ui.setDone, ui.skipRest, ui.pause].find((button) => !button.hidden) || ui.stop;
  }

  return { destroy };
}

/** The guide's elements and how a step looks in them. */
function guideView(dose) {
  const titleId = uid("guide-title");
  const progress = svg("circle", {
    class: "guide-ring-progress",
    cx: 50,
    cy: 50,
    r: RING_RADIUS,
    "stroke-dasharray": RING_LENGTH.toFixed(2),
  });
  const ring = svg("svg", { class: "guide-ring", viewBox: "0 0 100 100", "aria-hidden": "true", focusable: "false" });
  ring.append(svg("circle", { class: "guide-ring-track", cx: 50, cy: 50, r: RING_RADIUS }), progress);
  const setLine = h("p", { class: "guide-set" });
  const label = h("span", { class: "guide-label" });
  const digits = h("span", { class: "guide-digits" });
  const unit = h("span", { class: "guide-unit" });
  const readout = h("p", { class: "guide-readout" }, label, digits, unit);
  const repLine = h("p", { class: "guide-reps" });
  const problem = h("p", { class: "guide-problem", role: "alert", hidden: true });
  const live = h("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const button = (text, className) => h("button", { type: "button", class: className }, text);
  const pause = button(t("Pause"), "secondary");
  const skipRest = button(t("Skip rest"), "");
  const setDone = button(t("Set done"), "");
  const stop = button(t("Stop"), "danger");
  const back = button(t("Back to Today"), "");
  back.hidden = true;
  const dial = h("div", { class: "guide-dial" }, ring, readout);
  const section = h(
    "section",
    { class: "guide", "aria-labelledby": titleId },
    h("h1", { id: titleId, class: "page-title", tabindex: "-1", "data-l10n-skip": "" }, dose.name),
    setLine,
    dial,
    repLine,
    problem,
    live,
    h("div", { class: "guide-actions" }, setDone, skipRest, pause, back, stop),
  );

  /** Draws a step with `left` ms to go. */
  function show(step, left, paused) {
    const seconds = Math.ceil(left / 1000);
    const clock = seconds >= 100; // long holds read as minutes: "2:30"
    section.dataset.phase = step.kind;
    section.toggleAttribute("data-paused", paused);
    setLine.textContent =
      step.kind === "rest"
        ? t("Set {set} of {sets} done", { set: step.set - 1, sets: dose.sets })
        : t("Set {set} of {sets}", { set: step.set, sets: dose.sets });
    label.textContent = paused ? t("Paused") : t(PHASES[step.kind]);
    digits.textContent = !step.ms
      ? String(dose.reps)
      : clock
        ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
        : String(seconds);
    digits.toggleAttribute("data-long", Boolean(step.ms) && clock);
    unit.textContent = !step.ms
      ? tn(dose.reps, "rep", "reps")
      : clock
        ? t("minutes")
        : tn(seconds, "second", "seconds");
    if (step.ms) readout.setAttribute("role", "timer");
    else readout.removeAttribute("role");
    const spent = step.ms ? 1 - left / step.ms : 0;
    progress.setAttribute("stroke-dashoffset", (RING_LENGTH * spent).toFixed(2));
    repLine.textContent = repText(step, dose);
    pause.textContent = paused ? t("Resume") : t("Pause");
    pause.hidden = !step.ms;
    skipRest.hidden = step.kind !== "rest";
    setDone.hidden = step.kind !== "set";
  }

  /** The finish: the dial says it, only "Back to Today" (and Stop's Escape) remain. */
  function showDone(text, why) {
    section.dataset.phase = "done";
    section.removeAttribute("data-paused");
    setLine.textContent = tn(dose.sets, "{count} set finished", "{count} sets finished");
    label.textContent = "";
    digits.textContent = "✓";
    digits.removeAttribute("data-long");
    unit.textContent = text;
    readout.removeAttribute("role");
    progress.setAttribute("stroke-dashoffset", "0");
    repLine.textContent = "";
    problem.hidden = !why;
    problem.textContent = why || "";
    for (const control of [pause, skipRest, setDone, stop]) control.hidden = true;
    back.hidden = false;
  }

  return { section, live, pause, skipRest, setDone, stop, back, show, showDone };
}

function repText(step, dose) {
  if (step.kind === "set") return tn(dose.reps, "{count} rep, then tap Set done", "{count} reps, then tap Set done");
  if (step.kind === "rest") return t("Next: set {set} of {sets}", { set: step.set, sets: dose.sets });
  if (step.kind === "hold") return t("Rep {rep} of {reps}", { rep: step.rep, reps: dose.reps });
  return t("Next: rep {rep} of {reps}", { rep: step.rep, reps: dose.reps });
}

function svg(tag, attributes) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  return el;
}

/** A short beep and a buzz as a hold ends; either may be missing on a phone. */
function endOfHold(audio) {
  navigator.vibrate?.(200);
  if (!audio || audio.state === "closed") return;
  try {
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 880;
    volume.gain.value = 0.2;
    tone.connect(volume).connect(audio.destination);
    tone.start(audio.currentTime);
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // no sound this time; the buzz and the screen still say it
  }
}

/** Keeps the screen on while the guide runs (Screen Wake Lock, where there is
 * one); the browser drops the lock when the page is hidden, so it is taken
 * again when the page is visible. */
function keepScreenOn() {
  let lock = null;
  let wanted = true;
  const request = async () => {
    if (!wanted || !navigator.wakeLock || document.visibilityState !== "visible" || lock) return;
    try {
      const taken = await navigator.wakeLock.request("screen");
      if (wanted) lock = taken;
      else taken.release().catch(() => {});
      taken.addEventListener("release", () => {
        if (lock === taken) lock = null;
      });
    } catch {
      // refused (battery saver, no permission): the guide works without it
    }
  };
  const onVisibility = () => {
    if (document.visibilityState === "visible") request();
    else {
      lock?.release().catch(() => {});
      lock = null;
    }
  };
  document.addEventListener("visibilitychange", onVisibility);
  request();
  return {
    release() {
      wanted = false;
      document.removeEventListener("visibilitychange", onVisibility);
      lock?.release().catch(() => {});
      lock = null;
    },
  };
}
