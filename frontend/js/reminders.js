/** Reminders: the patient's settings card on Account (times, days, push on this
 * phone or one email a day, pause, stop), the page an email's stop link opens,
 * and the staff's view of them on a patient's page with "Send a reminder". */
import * as api from "./api.js";
import { addDays, clearErrors, formatDateTime, formatDay, h, heading, loading, mount, plural, say, showErrors, statusArea, todayIn, uid } from "./dom.js";
import * as push from "./push.js";

const MAX_TIMES = 3;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const CHANNELS = [
  ["push", "Notifications on this phone"],
  ["email", "One email a day"],
  ["off", "Off"],
];
const READY_TIMEOUT_MS = 10000;

/** The stop link of a reminder email: #/reminders/stop/<token>, signed in or not. */
export async function render(view, { params: [token], user }) {
  const answer = h("div", {}, loading("Stopping your reminders…"));
  mount(view, h("section", { class: "signin narrow" }, heading("Reminders"), answer));
  const onward = user ? h("a", { class: "button-link secondary", href: "#/account" }, "Go to Account") : h("a", { class: "button-link secondary", href: "#/signin" }, "Sign in");
  try {
    await api.post("/api/reminders/stop", { token });
    mount(answer, h("p", { class: "message", role: "status", "data-tone": "success" }, "Reminders are stopped. You can turn them on again under Account."), onward);
  } catch (error) {
    const text = error.offline
      ? "You are offline. Open the link again when you have the internet."
      : error.status === 404
        ? "This link does not work: it may be cut short or out of date. Sign in and turn reminders off under Account."
        : error.message;
    mount(answer, h("p", { class: "message", role: "alert", "data-tone": "error" }, text), onward);
  }
}

/* ---- words shared by the patient's card and the staff's page ---------------- */

function listWords(items) {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function daysWords(days) {
  const sorted = [...days].sort((a, b) => a - b);
  const key = sorted.join("");
  if (key === "0123456") return "every day";
  if (key === "01234") return "on weekdays";
  if (key === "56") return "at weekends";
  return `on ${listWords(sorted.map((day) => WEEKDAY_NAMES[day]))}`;
}

function whenWords(settings) {
  return `${listWords([...settings.times].sort())}, ${daysWords(settings.days_of_week)}`;
}

/** Paused today (paused_until is the last day without reminders). */
function paused(settings) {
  return settings.channel !== "off" && Boolean(settings.paused_until) && settings.paused_until >= todayIn(settings.timezone);
}

function quietWords(settings) {
  return `${settings.quiet_hours.start} to ${settings.quiet_hours.end}`;
}

/** "08:00" in the patient's timezone (a nudge held for quiet hours). */
function clock(iso, timeZone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso)); // a zone this browser does not know
  }
}

const OUTCOMES = {
  sent: (channel) => `sent by ${channel === "push" ? "push" : "email"}`,
  failed: () => "could not be delivered",
  "no-device": () => "not sent: no phone set up",
  skipped: () => "skipped",
};

function lastSentWords(last) {
  if (!last) return "Nothing sent yet";
  const what = last.kind === "nudge" ? "Reminder from the clinic" : "Daily reminder";
  const outcome = (OUTCOMES[last.outcome] || (() => last.outcome))(last.channel);
  return `${what} ${outcome} · ${formatDateTime(last.at)}`;
}

/* ---- the patient's card on Account ------------------------------------------- */

/** A problem turning notifications on, said to the patient as it is. */
class PushProblem extends Error {}

/** The "Reminders" card: loads the settings, then shows them as a form. */
export function remindersCard(user) {
  const body = h("div", {}, loading());
  const card = h("section", { class: "card reminders", "aria-labelledby": "reminders-title" }, h("h2", { id: "reminders-title" }, "Reminders"), body);
  Promise.all([api.get(`/api/patients/${user.id}/reminders`), push.currentSubscription().catch(() => null)])
    .then(([settings, here]) => settingsForm(body, user, settings, Boolean(here)))
    .catch((error) => mount(body, h("p", { class: "hint" }, error.offline ? "You are offline: your reminders need the internet." : error.message)));
  return card;
}

function statusWords(settings, pushHere) {
  if (settings.channel === "off") return "Reminders are off.";
  const where =
    settings.channel === "email"
      ? "by email"
      : pushHere
        ? "on this phone"
        : settings.push_devices
          ? `as notifications on ${plural(settings.push_devices, "other device")}`
          : "as notifications, but no phone is set up for them: choose Notifications on this phone and save";
  const when = `${whenWords(settings)}, ${where}.`;
  if (paused(settings)) return `Reminders paused. They start again on ${formatDay(addDays(settings.paused_until, 1), "long")}: ${when}`;
  return `Reminders on: ${when}`;
}

function settingsForm(area, user, settings, pushHere) {
  const path = `/api/patients/${user.id}/reminders`;
  const status = h("p", { class: "reminder-status", "aria-live": "polite", tabindex: "-1" });
  const message = statusArea("alert");
  say(message, "");
  const offer = h("div", { class: "notice reminder-offer", role: "alert", hidden: true });
  const times = h("div", { class: "time-list" });
  const addTime = h("button", { type: "button", class: "secondary small", onclick: () => addRow("") }, "Add a time");
  const saveButton = h("button", { type: "submit" }, "Save reminders");
  const quick = h("div", { class: "actions" });

  const timesGroup = h(
    "fieldset",
    { class: "field", name: "times", id: uid("times"), tabindex: "-1" },
    h("legend", {}, "Times"),
    h("p", { class: "hint" }, `Up to three a day. Nothing is sent during quiet hours, ${quietWords(settings)} (${settings.timezone}).`),
    times,
    h("div", { class: "actions" }, addTime),
  );
  const daysGroup = h(
    "fieldset",
    { class: "field weekdays" },
    h("legend", {}, "Days"),
    WEEKDAYS.map((label, day) => {
      const id = uid("reminder-day");
      return h("span", { class: "weekday" }, h("input", { type: "checkbox", id, name: "days_of_week", value: String(day), "aria-label": WEEKDAY_NAMES[day] }), h("label", { for: id, "aria-hidden": "true" }, label));
    }),
  );
  const channelGroup = h(
    "fieldset",
    { class: "field channel-choice" },
    h("legend", {}, "How to remind you"),
    CHANNELS.map(([value, label]) => {
      const id = uid("channel");
      const unavailable = (value === "push" && !settings.push_available) || (value === "email" && !settings.email_available);
      const why = value === "push" ? "Not available on this server." : "Not set up on this server.";
      return h(
        "div",
        { class: "check" },
        h("input", { type: "radio", id, name: "channel", value, disabled: unavailable && settings.channel !== value }),
        h("label", { for: id }, label, unavailable ? h("span", { class: "sub" }, why) : null),
      );
    }),
  );
  const form = h("form", { class: "reminder-form", novalidate: true }, channelGroup, timesGroup, daysGroup, message, h("div", { class: "actions" }, saveButton));

  function addRow(value, focus = !value) {
    const input = h("input", { type: "time", id: uid("time"), step: "60", value });
    const row = h("div", { class: "field time-row" }, h("label", { for: input.id }), h("div", { class: "time-input" }, input, h("button", { type: "button", class: "secondary small", onclick: () => removeRow(row) })));
    times.append(row);
    renumber();
    if (focus) input.focus();
  }

  function removeRow(row) {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (!times.children.length) addRow("");
    renumber();
    (next?.querySelector("input") || addTime).focus();
  }

  /** Labels "Time 1…3", names times.0… (where the server's errors go). */
  function renumber() {
    [...times.children].forEach((row, i) => {
      row.querySelector("label").textContent = `Time ${i + 1}`;
      row.querySelector("input").name = `times.${i}`;
      const remove = row.querySelector("button");
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove time ${i + 1}`);
      remove.hidden = times.children.length === 1;
    });
    addTime.disabled = times.children.length >= MAX_TIMES;
  }

  function chosen() {
    return {
      times: [...times.querySelectorAll("input")].map((input) => input.value).filter(Boolean),
      days_of_week: [...daysGroup.querySelectorAll("input:checked")].map((box) => Number(box.value)),
      channel: channelGroup.querySelector("input:checked")?.value || "off",
      paused_until: settings.paused_until,
    };
  }

  function draw() {
    status.textContent = statusWords(settings, pushHere);
    const on = settings.channel !== "off";
    const resting = paused(settings);
    mount(
      quick,
      on && !resting ? h("button", { type: "button", class: "secondary", onclick: () => quickSave({ paused_until: addDays(todayIn(settings.timezone), 6) }, "Paused for a week.") }, "Pause for a week") : null,
      resting ? h("button", { type: "button", class: "secondary", onclick: () => quickSave({ paused_until: null }, "Reminders are back on.") }, "Resume now") : null,
      on ? h("button", { type: "button", class: "danger", onclick: () => quickSave({ channel: "off", paused_until: null }, "All reminders are stopped.") }, "Stop all reminders") : null,
    );
    quick.hidden = !on;
  }

  /** The form as the server has the settings. */
  function fill() {
    times.replaceChildren();
    for (const time of settings.times.length ? settings.times : [""]) addRow(time, false);
    for (const box of daysGroup.querySelectorAll("input")) box.checked = settings.days_of_week.includes(Number(box.value));
    for (const radio of channelGroup.querySelectorAll("input")) radio.checked = radio.value === settings.channel;
  }

  function saved(answer, text) {
    settings = answer;
    fill();
    draw();
    say(message, text, "success");
  }

  /** One tap: the saved settings with one change (not the form's edits). */
  async function quickSave(change, text) {
    clearErrors(form);
    offer.hidden = true;
    const { times: savedTimes, days_of_week, channel, paused_until } = settings;
    try {
      saved(await api.put(path, { times: savedTimes, days_of_week, channel, paused_until, ...change }), text);
      status.focus();
    } catch (error) {
      showErrors(form, placed(error), message);
    }
  }

  async function save(body) {
    clearErrors(form);
    offer.hidden = true;
    saveButton.disabled = true;
    say(message, body.channel === "push" ? "Setting up notifications…" : "Saving…", "info");
    let fresh = null; // this phone's subscription, made by this save: undone if the save fails
    try {
      if (body.channel === "push") {
        const { subscription, isNew } = await turnPushOn();
        if (isNew) fresh = subscription;
      }
      const answer = await api.put(path, body);
      if (body.channel === "push") pushHere = true;
      saved(answer, "Saved.");
    } catch (error) {
      if (fresh) await undoSubscription(fresh);
      if (error instanceof PushProblem) offerEmail(error.message);
      else showErrors(form, placed(error), message);
    } finally {
      saveButton.disabled = false;
    }
  }

  function offerEmail(problem) {
    say(message, "");
    for (const radio of channelGroup.querySelectorAll("input")) radio.checked = radio.value === settings.channel;
    const useEmail = () => {
      for (const radio of channelGroup.querySelectorAll("input")) radio.checked = radio.value === "email";
      return save({ ...chosen(), channel: "email" });
    };
    mount(
      offer,
      h("p", {}, `${problem} Your reminders are as they were.`),
      settings.email_available
        ? h("div", { class: "actions" }, h("button", { type: "button", onclick: useEmail }, "Send me an email instead"))
        : h("p", {}, "Email reminders are not set up on this server either: ask your clinic."),
    );
    offer.hidden = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(chosen());
  });

  fill();
  if (!settings.days_of_week.length) for (const box of daysGroup.querySelectorAll("input")) box.checked = true;
  draw();
  mount(area, status, quick, offer, form);
}

/** The server's errors where showErrors finds them: one time's own error goes
 * to its input (times.0…), one about the list to the Times group. */
function placed(error) {
  const fieldErrors = {};
  for (const [name, messages] of Object.entries(error.fieldErrors || {})) {
    if (name === "times" && messages && !Array.isArray(messages)) {
      for (const [index, inner] of Object.entries(messages)) fieldErrors[`times.${index}`] = inner;
    } else fieldErrors[name] = messages;
  }
  return { fieldErrors, message: error.message };
}

/** Asks for permission (first, while the patient's tap still counts, and never
 * before it), subscribes this phone and tells the server: {subscription, isNew}.
 * Any refusal is a PushProblem, and nothing new is kept. */
async function turnPushOn() {
  if (!("serviceWorker" in navigator) || typeof PushManager === "undefined" || typeof Notification === "undefined") {
    throw new PushProblem("This browser cannot show notifications from Homeward.");
  }
  const permission = await Notification.requestPermission();
  if (permission === "denied") throw new PushProblem("Notifications are blocked for Homeward on this phone (you can allow them in the browser's settings for this site).");
  if (permission !== "granted") throw new PushProblem("Notifications were not allowed.");
  let key;
  try {
    key = (await api.get(push.PUBLIC_KEY)).public_key;
  } catch (error) {
    throw new PushProblem(error.offline ? "You are offline: notifications need the internet to be set up." : error.message);
  }
  const registration = await Promise.race([navigator.serviceWorker.ready, new Promise((resolve) => setTimeout(resolve, READY_TIMEOUT_MS))]);
  if (!registration) throw new PushProblem("This phone could not set up notifications: Homeward is not installed for offline use yet. Reload and try again.");
  let subscription, isNew;
  try {
    const before = await registration.pushManager.getSubscription();
    subscription = await push.subscribe(registration.pushManager, key);
    isNew = subscription.endpoint !== before?.endpoint;
  } catch {
    throw new PushProblem("This phone could not sign up for notifications.");
  }
  try {
    await api.post(push.SUBSCRIPTIONS, push.subscriptionBody(subscription));
  } catch (error) {
    if (isNew) await subscription.unsubscribe().catch(() => {});
    throw new PushProblem(error.offline ? "You are offline: notifications need the internet to be set up." : `Notifications could not be set up: ${error.message}`);
  }
  return { subscription, isNew };
}

async function undoSubscription(subscription) {
  await api.del(push.SUBSCRIPTIONS, { endpoint: subscription.endpoint }).catch(() => {});
  await subscription.unsubscribe().catch(() => {});
}

/* ---- the staff's view on a patient's page --------------------------------------- */

const CHANNEL_NAMES = { push: "Notifications", email: "Email", off: "Off" };

/** A patient's reminders for their therapist or the clinic admin, and the nudge. */
export function remindersSection(patient) {
  const facts = h("div", {}, loading());
  const message = statusArea();
  say(message, "");
  const send = h("button", { type: "button", class: "secondary", disabled: true, onclick: nudge }, "Send a reminder");
  const section = h(
    "section",
    { class: "card reminders-staff", "aria-labelledby": "reminders-title" },
    h("div", { class: "section-head" }, h("h2", { id: "reminders-title" }, "Reminders"), send),
    facts,
    message,
  );
  let settings = null;

  async function load() {
    try {
      settings = await api.get(`/api/patients/${patient.id}/reminders`);
    } catch (error) {
      mount(facts, h("p", { class: "hint" }, error.message));
      return;
    }
    mount(
      facts,
      h(
        "dl",
        { class: "facts" },
        h("div", {}, h("dt", {}, "Channel"), h("dd", {}, CHANNEL_NAMES[settings.channel] || settings.channel, paused(settings) ? ` (paused, back on ${formatDay(addDays(settings.paused_until, 1), "short")})` : "")),
        h("div", {}, h("dt", {}, "Times"), h("dd", {}, settings.channel === "off" ? "–" : whenWords(settings))),
        h("div", {}, h("dt", {}, "Devices"), h("dd", {}, settings.push_devices ? plural(settings.push_devices, "phone") : "None")),
        h("div", {}, h("dt", {}, "Last sent"), h("dd", {}, lastSentWords(settings.last_sent))),
      ),
      settings.channel === "off" ? h("p", { class: "hint" }, `${patient.name} has reminders off, so none can be sent.`) : null,
    );
    send.disabled = settings.channel === "off";
  }

  async function nudge() {
    send.disabled = true;
    say(message, "Sending…", "info");
    try {
      const answer = await api.post(`/api/patients/${patient.id}/nudge`);
      const how = answer.channel === "push" ? "push" : "email";
      say(message, answer.held_for_quiet_hours ? `Held until ${clock(answer.deliver_at, settings?.timezone)} (quiet hours).` : `Sent by ${how}.`, "success");
    } catch (error) {
      say(message, error.offline ? "You are offline." : error.message, "error");
    }
    await load();
  }

  load();
  return section;
}
