/** Reminders: the patient's settings card on Account (times, days, push on this
 * phone or one email a day, pause, stop), the page an email's stop link opens,
 * and the staff's view of them on a patient's page with "Send a reminder". */
import * as api from "../core/api.js";
import {
  addDays,
  clearErrors,
  formatDateTime,
  formatDay,
  h,
  heading,
  loading,
  mount,
  say,
  showErrors,
  statusArea,
  todayIn,
  uid,
  weekdayName,
} from "../core/dom.js";
import { N_, t, tn } from "../core/i18n.js";
import * as push from "../core/push.js";

const MAX_TIMES = 3;
const CHANNELS = [
  ["push", N_("Notifications on this phone")],
  ["email", N_("One email a day")],
  ["off", N_("Off")],
];
const READY_TIMEOUT_MS = 10000;

/** The stop link of a reminder email: #/reminders/stop/<token>, signed in or not. */
export async function render(view, { params: [token], user }) {
  const answer = h("div", {}, loading(t("Stopping your reminders…")));
  mount(view, h("section", { class: "signin narrow" }, heading(t("Reminders")), answer));
  const onward = user
    ? h("a", { class: "button-link secondary", href: "#/account" }, t("Go to Account"))
    : h("a", { class: "button-link secondary", href: "#/signin" }, t("Sign in"));
  try {
    await api.post("/api/reminders/stop", { token });
    mount(
      answer,
      h(
        "p",
        { class: "message", role: "status", "data-tone": "success" },
        t("Reminders are stopped. You can turn them on again under Account."),
      ),
      onward,
    );
  } catch (error) {
    const text = error.offline
      ? t("You are offline. Open the link again when you have the internet.")
      : error.status === 404
        ? t(
            "This link does not work: it may be cut short or out of date. Sign in and turn reminders off under Account.",
          )
        : error.message;
    mount(answer, h("p", { class: "message", role: "alert", "data-tone": "error" }, text), onward);
  }
}

/* ---- words shared by the patient's card and the staff's page ---------------- */

function listWords(items) {
  if (items.length <= 1) return items.join("");
  return t("{list} and {last}", { list: items.slice(0, -1).join(", "), last: items.at(-1) });
}

function daysWords(days) {
  const sorted = [...days].sort((a, b) => a - b);
  const key = sorted.join("");
  if (key === "0123456") return t("every day");
  if (key === "01234") return t("on weekdays");
  if (key === "56") return t("at weekends");
  return t("on {days}", { days: listWords(sorted.map((day) => weekdayName(day, "long"))) });
}

function whenWords(settings) {
  return `${listWords([...settings.times].sort())}, ${daysWords(settings.days_of_week)}`;
}

/** Paused today (paused_until is the last day without reminders). */
function paused(settings) {
  return (
    settings.channel !== "off" && Boolean(settings.paused_until) && settings.paused_until >= todayIn(settings.timezone)
  );
}

function quietWords(settings) {
  return t("{start} to {end}", { start: settings.quiet_hours.start, end: settings.quiet_hours.end });
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
  sent: (channel) => (channel === "push" ? t("sent by push") : t("sent by email")),
  failed: () => t("could not be delivered"),
  "no-device": () => t("not sent: no phone set up"),
  skipped: () => t("skipped"),
  missed: () => t("missed: not sent in time"),
};

function lastSentWords(last) {
  if (!last) return t("Nothing sent yet");
  const what = last.kind === "nudge" ? t("Reminder from the clinic") : t("Daily reminder");
  const outcome = (OUTCOMES[last.outcome] || (() => last.outcome))(last.channel);
  return `${what} ${outcome} · ${formatDateTime(last.at)}`;
}

/* ---- the patient's card on Account ------------------------------------------- */

/** A problem turning notifications on, said to the patient as it is. */
class PushProblem extends Error {}

/** The "Reminders" card: loads the settings, then shows them as a form. */
export function remindersCard(user) {
  const body = h("div", {}, loading());
  const card = h(
    "section",
    { class: "card reminders", "aria-labelledby": "reminders-title" },
    h("h2", { id: "reminders-title" }, t("Reminders")),
    body,
  );
  Promise.all([api.get(`/api/patients/${user.id}/reminders`), push.currentSubscription().catch(() => null)])
    .then(([settings, here]) => settingsForm(body, user, settings, Boolean(here)))
    .catch((error) =>
      mount(
        body,
        h(
          "p",
          { class: "hint" },
          error.offline ? t("You are offline: your reminders need the internet.") : error.message,
        ),
      ),
    );
  return card;
}

function statusWords(settings, pushHere) {
  if (settings.channel === "off") return t("Reminders are off.");
  const where =
    settings.channel === "email"
      ? t("by email")
      : pushHere
        ? t("on this phone")
        : settings.push_devices
          ? tn(
              settings.push_devices,
              "as notifications on {count} other device",
              "as notifications on {count} other devices",
            )
          : t("as notifications, but no phone is set up for them: choose Notifications on this phone and save");
  const when = `${whenWords(settings)}, ${where}.`;
  if (paused(settings))
    return t("Reminders paused. They start again on {day}: {when}", {
      day: formatDay(addDays(settings.paused_until, 1), "long"),
      when,
    });
  return t("Reminders on: {when}", { when });
}

function settingsForm(area, user, settings, pushHere) {
  const path = `/api/patients/${user.id}/reminders`;
  const status = h("p", { class: "reminder-status", "aria-live": "polite", tabindex: "-1" });
  const message = statusArea("alert");
  say(message, "");
  const offer = h("div", { class: "notice reminder-offer", role: "alert", hidden: true });
  const times = h("div", { class: "time-list" });
  const addTime = h("button", { type: "button", class: "secondary small", onclick: () => addRow("") }, t("Add a time"));
  const saveButton = h("button", { type: "submit" }, t("Save reminders"));
  const quick = h("div", { class: "actions" });

  const timesGroup = h(
    "fieldset",
    { class: "field", name: "times", id: uid("times"), tabindex: "-1" },
    h("legend", {}, t("Times")),
    h(
      "p",
      { class: "hint" },
      t("Up to three a day. Nothing is sent during quiet hours, {hours} ({timezone}).", {
        hours: quietWords(settings),
        timezone: settings.timezone,
      }),
    ),
    times,
    h("div", { class: "actions" }, addTime),
  );
  const daysGroup = h(
    "fieldset",
    { class: "field weekdays" },
    h("legend", {}, t("Days")),
    [0, 1, 2, 3, 4, 5, 6].map((day) => {
      const id = uid("reminder-day");
      return h(
        "span",
        { class: "weekday" },
        h("input", {
          type: "checkbox",
          id,
          name: "days_of_week",
          value: String(day),
          "aria-label": weekdayName(day, "long"),
        }),
        h("label", { for: id, "aria-hidden": "true" }, weekdayName(day)),
      );
    }),
  );
  const channelGroup = h(
    "fieldset",
    { class: "field channel-choice" },
    h("legend", {}, t("How to remind you")),
    CHANNELS.map(([value, label]) => {
      const id = uid("channel");
      const unavailable =
        (value === "push" && !settings.push_available) || (value === "email" && !settings.email_available);
      const why = value === "push" ? t("Not available on this server.") : t("Not set up on this server.");
      return h(
        "div",
        { class: "check" },
        h("input", { type: "radio", id, name: "channel", value, disabled: unavailable && settings.channel !== value }),
        h("label", { for: id }, t(label), unavailable ? h("span", { class: "sub" }, why) : null),
      );
    }),
  );
  const form = h(
    "form",
    { class: "reminder-form", novalidate: true },
    channelGroup,
    timesGroup,
    daysGroup,
    message,
    h("div", { class: "actions" }, saveButton),
  );

  function addRow(value, focus = !value) {
    const input = h("input", { type: "time", id: uid("time"), step: "60", value });
    const row = h(
      "div",
      { class: "field time-row" },
      h("label", { for: input.id }),
      h(
        "div",
        { class: "time-input" },
        input,
        h("button", { type: "button", class: "secondary small", onclick: () => removeRow(row) }),
      ),
    );
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
      row.querySelector("label").textContent = t("Time {number}", { number: i + 1 });
      row.querySelector("input").name = `times.${i}`;
      const remove = row.querySelector("button");
      remove.textContent = t("Remove");
      remove.setAttribute("aria-label", t("Remove time {number}", { number: i + 1 }));
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
      on && !resting
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () =>
                quickSave({ paused_until: addDays(todayIn(settings.timezone), 6) }, t("Paused for a week.")),
            },
            t("Pause for a week"),
          )
        : null,
      resting
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => quickSave({ paused_until: null }, t("Reminders are back on.")),
            },
            t("Resume now"),
          )
        : null,
      on
        ? h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: () => quickSave({ channel: "off", paused_until: null }, t("All reminders are stopped.")),
            },
            t("Stop all reminders"),
          )
        : null,
    );
    quick.hidden = !on;
  }

  /** The form as the server has the settings. */
  function fill() {
    times.replaceChildren();
    for (const time of settings.times.length ? settings.times : [""]) addRow(time, false);
    for (const box of daysGroup.querySelectorAll("input"))
      box.checked = settings.days_of_week.includes(Number(box.value));
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
    say(message, body.channel === "push" ? t("Setting up notifications…") : t("Saving…"), "info");
    let fresh = null; // this phone's subscription, made by this save: undone if the save fails
    try {
      if (body.channel === "push") {
        const { subscription, isNew } = await turnPushOn();
        if (isNew) fresh = subscription;
      }
      const answer = await api.put(path, body);
      if (body.channel === "push") pushHere = true;
      saved(answer, t("Saved."));
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
      h("p", {}, `${problem} ${t("Your reminders are as they were.")}`),
      settings.email_available
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", onclick: useEmail }, t("Send me an email instead")),
          )
        : h("p", {}, t("Email reminders are not set up on this server either: ask your clinic.")),
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
    throw new PushProblem(t("This browser cannot show notifications from Homeward."));
  }
  const permission = await Notification.requestPermission();
  if (permission === "denied")
    throw new PushProblem(
      t(
        "Notifications are blocked for Homeward on this phone (you can allow them in the browser's settings for this site).",
      ),
    );
  if (permission !== "granted") throw new PushProblem(t("Notifications were not allowed."));
  let key;
  try {
    key = (await api.get(push.PUBLIC_KEY)).public_key;
  } catch (error) {
    throw new PushProblem(
      error.offline ? t("You are offline: notifications need the internet to be set up.") : error.message,
    );
  }
  const registration = await Promise.race([
    navigator.serviceWorker.ready,
    new Promise((resolve) => setTimeout(resolve, READY_TIMEOUT_MS)),
  ]);
  if (!registration)
    throw new PushProblem(
      t(
        "This phone could not set up notifications: Homeward is not installed for offline use yet. Reload and try again.",
      ),
    );
  let subscription, isNew;
  try {
    const before = await registration.pushManager.getSubscription();
    subscription = await push.subscribe(registration.pushManager, key);
    isNew = subscription.endpoint !== before?.endpoint;
  } catch {
    throw new PushProblem(t("This phone could not sign up for notifications."));
  }
  try {
    await api.post(push.SUBSCRIPTIONS, push.subscriptionBody(subscription));
  } catch (error) {
    if (isNew) await subscription.unsubscribe().catch(() => {});
    throw new PushProblem(
      error.offline
        ? t("You are offline: notifications need the internet to be set up.")
        : t("Notifications could not be set up: {problem}", { problem: error.message }),
    );
  }
  return { subscription, isNew };
}

async function undoSubscription(subscription) {
  await api.del(push.SUBSCRIPTIONS, { endpoint: subscription.endpoint }).catch(() => {});
  await subscription.unsubscribe().catch(() => {});
}

/* ---- the staff's view on a patient's page --------------------------------------- */

const CHANNEL_NAMES = { push: N_("Notifications"), email: N_("Email"), off: N_("Off") };

/** A patient's reminders for their therapist or the clinic admin, and the nudge. */
export function remindersSection(patient) {
  const facts = h("div", {}, loading());
  const message = statusArea();
  say(message, "");
  const send = h(
    "button",
    { type: "button", class: "secondary", disabled: true, onclick: nudge },
    t("Send a reminder"),
  );
  const section = h(
    "section",
    { class: "card reminders-staff", "aria-labelledby": "reminders-title" },
    h("div", { class: "section-head" }, h("h2", { id: "reminders-title" }, t("Reminders")), send),
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
        h(
          "div",
          {},
          h("dt", {}, t("Channel")),
          h(
            "dd",
            {},
            CHANNEL_NAMES[settings.channel] ? t(CHANNEL_NAMES[settings.channel]) : settings.channel,
            paused(settings)
              ? ` ${t("(paused, back on {day})", { day: formatDay(addDays(settings.paused_until, 1), "short") })}`
              : "",
          ),
        ),
        h("div", {}, h("dt", {}, t("Times")), h("dd", {}, settings.channel === "off" ? "–" : whenWords(settings))),
        h(
          "div",
          {},
          h("dt", {}, t("Devices")),
          h("dd", {}, settings.push_devices ? tn(settings.push_devices, "{count} phone", "{count} phones") : t("None")),
        ),
        h("div", {}, h("dt", {}, t("Last sent")), h("dd", {}, lastSentWords(settings.last_sent))),
      ),
      settings.channel === "off"
        ? h("p", { class: "hint" }, t("{name} has reminders off, so none can be sent.", { name: patient.name }))
        : null,
    );
    send.disabled = settings.channel === "off";
  }

  async function nudge() {
    send.disabled = true;
    say(message, t("Sending…"), "info");
    try {
      const answer = await api.post(`/api/patients/${patient.id}/nudge`);
      const how = answer.channel === "push" ? "push" : "email";
      say(
        message,
        answer.held_for_quiet_hours
          ? t("Held until {time} (quiet hours).", { time: clock(answer.deliver_at, settings?.timezone) })
          : how === "push"
            ? t("Sent by push.")
            : t("Sent by email."),
        "success",
      );
    } catch (error) {
      say(message, error.offline ? t("You are offline.") : error.message, "error");
    }
    await load();
  }

  load();
  return section;
}
