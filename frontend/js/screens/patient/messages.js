/** Messages between a patient and their care team: the patient's own screen
 * (#/messages) and the same thread on the staff's patient page. The patient's
 * messages go through the outbox (a UUID each, so a message sent offline
 * arrives once); a therapist's are posted at once with their UUID, so a retry
 * after a lost answer is harmless. Showing the thread marks the other side's
 * messages read, except for an admin, who reads for oversight only. */
import * as api from "../../core/api.js";
import * as badges from "../../core/badges.js";
import * as bounds from "../../core/bounds.js";
import * as store from "../../core/store.js";
import { formatDateTime, formatTime, h, heading, isoDay, mount, say, statusArea, uid } from "../../core/dom.js";
import { t } from "../../core/i18n.js";

const POLL_MS = 30000;
const FALLBACK_LENGTH = 2000;

export async function render(view, { user }) {
  const thread = messageThread({ patientId: user.id, user });
  mount(
    view,
    heading(t("Messages")),
    h(
      "p",
      { class: "lead" },
      t("Write to your care team about your exercises or your back. They read messages during clinic hours."),
    ),
    h(
      "p",
      { class: "notice urgent-note" },
      t(
        "Not for emergencies: if you lose control of your bladder or bowels, feel numb around the groin, or your legs become weak, get urgent medical help now.",
      ),
    ),
    thread.element,
  );
  await thread.start();
  return thread.stop;
}

/** Today's messages by their time, older ones with their day too. */
function when(timestamp) {
  return isoDay(new Date(timestamp)) === isoDay(new Date())
    ? t("today {time}", { time: formatTime(timestamp) })
    : formatDateTime(timestamp);
}

/** The thread of patient `patientId` as `user` sees it: {element, start(),
 * stop()}. `patientName` names the patient for staff. */
export function messageThread({ patientId, user, patientName = t("the patient") }) {
  const isPatient = user.role === "patient";
  const canWrite = user.role !== "admin";
  const cacheKey = `messages:${user.id}`;
  const state = { server: null, queued: [], failed: false, left: false };
  const list = h("ol", { class: "thread-list" });
  const box = h(
    "div",
    { class: "thread", role: "region", "aria-label": t("Messages, oldest first"), tabindex: "0" },
    list,
  );
  const offlineNote = h("p", { class: "notice", hidden: true });
  const composer = canWrite ? composeForm({ patientId, isPatient, patientName, sent: () => load() }) : null;
  const element = h(
    "div",
    { class: "messages" },
    offlineNote,
    box,
    composer?.form ??
      h(
        "p",
        { class: "hint" },
        t(
          "Admins read this thread for oversight: only the patient and their therapist write in it, and reading it here marks nothing as read.",
        ),
      ),
  );

  /** The other side's messages: the staff's for the patient, the patient's for staff. */
  const fromOtherSide = (message) => (isPatient ? message.author.id !== user.id : message.author.id === patientId);
  const ourSide = (message) => (isPatient ? message.author.id === user.id : message.author.id !== patientId);

  function draw() {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const shown = [...(state.server || [])];
    const known = new Set(shown.map((m) => m.id));
    for (const record of state.queued) {
      if (!known.has(record.id))
        shown.push({
          id: record.id,
          author: user,
          body: record.body.body,
          sent_at: record.queued_at,
          read_at: null,
          queued: true,
        });
    }
    offlineNote.hidden = !state.failed;
    offlineNote.textContent = state.server
      ? t("You are offline: these are the messages saved on this phone.")
      : t("Connect to the internet to load the messages.");
    if (!state.server && !shown.length) {
      mount(list);
      return;
    }
    mount(
      list,
      shown.length
        ? shown.map((message) => bubble(message, { user, isPatient, ourSide }))
        : h(
            "li",
            { class: "empty" },
            isPatient ? t("No messages yet. Write the first one below.") : t("No messages yet."),
          ),
    );
    if (atBottom || !box.dataset.drawn) box.scrollTop = box.scrollHeight;
    box.dataset.drawn = "true";
  }

  /** This phone's copy (the patient's, for offline use), then the server's. */
  async function load() {
    if (isPatient) {
      state.queued = (await api.queuedRecords()).filter((r) => r.kind === "message");
      if (!state.server) state.server = (await store.cached(cacheKey))?.value ?? null;
    }
    draw();
    try {
      state.server = await api.get(`/api/patients/${patientId}/messages`);
      state.failed = false;
      if (isPatient) await store.cache(cacheKey, state.server);
    } catch (error) {
      if (!error.offline && error.status < 500) throw error;
      state.failed = true;
    }
    if (state.left) return;
    draw();
    markRead();
  }

  let seen = false; // the thread is on screen (not just on the page)
  const watcher =
    "IntersectionObserver" in window
      ? new IntersectionObserver((entries) => {
          seen = entries.some((entry) => entry.isIntersecting);
          markRead();
        })
      : null;
  if (!watcher) seen = true;

  let marking = false;
  /** The other side's unread messages, once shown, are read up to the last. */
  async function markRead() {
    if (user.role === "admin" || !seen || marking || !state.server?.length || document.visibilityState !== "visible")
      return;
    const unread = state.server.filter((m) => fromOtherSide(m) && !m.read_at);
    if (!unread.length) return;
    marking = true;
    try {
      await api.post(`/api/patients/${patientId}/messages/read`, { up_to: state.server[state.server.length - 1].id });
      const now = new Date().toISOString();
      for (const message of unread) message.read_at = now;
      if (isPatient) {
        await store.cache(cacheKey, state.server);
        badges.set({ messages: 0 });
      }
    } catch {
      // offline: they stay unread until the thread is shown again
    } finally {
      marking = false;
    }
  }

  /** After a flush: what left the outbox is on the server now. */
  async function onOutbox() {
    const queued = (await api.queuedRecords()).filter((r) => r.kind === "message");
    const sent = state.queued.some((record) => !queued.some((q) => q.id === record.id));
    state.queued = queued;
    if (sent) await load().catch(() => {});
    else draw();
  }
  const onConnection = () => (navigator.onLine ? load().catch(() => {}) : draw());
  const onVisible = () => markRead();
  let timer = null;

  return {
    element,
    async start() {
      if (isPatient) api.events.addEventListener("outbox", onOutbox);
      window.addEventListener("online", onConnection);
      window.addEventListener("offline", onConnection);
      document.addEventListener("visibilitychange", onVisible);
      watcher?.observe(box);
      timer = setInterval(() => {
        if (document.visibilityState === "visible" && navigator.onLine) load().catch(() => {});
      }, POLL_MS);
      try {
        await load();
      } catch (error) {
        mount(list, h("li", { role: "alert" }, error.message));
      }
    },
    stop() {
      state.left = true;
      clearInterval(timer);
      watcher?.disconnect();
      api.events.removeEventListener("outbox", onOutbox);
      window.removeEventListener("online", onConnection);
      window.removeEventListener("offline", onConnection);
      document.removeEventListener("visibilitychange", onVisible);
    },
  };
}

/** One message as a bubble: ours on one side, theirs on the other, ours with
 * whether it was sent and read. `viewer`: {user, isPatient, ourSide}. */
function bubble(message, { user, isPatient, ourSide }) {
  const mine = ourSide(message);
  const who =
    message.author.id === user.id
      ? t("You")
      : isPatient
        ? t("{name} (care team)", { name: message.author.name })
        : message.author.name;
  return h(
    "li",
    { class: `message-bubble ${mine ? "ours" : "theirs"}`, dataset: { id: message.id } },
    h(
      "p",
      { class: "message-meta" },
      h("strong", { "data-l10n-skip": message.author.id === user.id ? null : "" }, who),
      " · ",
      h("time", { datetime: message.sent_at, "data-l10n-skip": "" }, when(message.sent_at)),
    ),
    h("p", { class: "message-body", "data-l10n-skip": "" }, message.body),
    mine ? h("p", { class: `message-state${message.queued ? " queued" : ""}` }, deliveryText(message)) : null,
  );
}

function deliveryText(message) {
  if (message.queued)
    return navigator.onLine ? t("Sending…") : t("Saved on this phone: it is sent when you are back online.");
  return message.read_at ? t("Read") : t("Sent");
}

/** The form that writes to the thread: the patient's message goes to the
 * outbox, staff's is posted at once; `sent()` shows the thread again. */
function composeForm({ patientId, isPatient, patientName, sent }) {
  const maxLength = bounds.rule("message", "body")?.maxLength ?? FALLBACK_LENGTH;
  const textarea = h("textarea", { name: "body", rows: "3", maxlength: String(maxLength), id: uid("message") });
  const counter = h("p", { class: "hint counter", id: `${textarea.id}-count` });
  textarea.setAttribute("aria-describedby", counter.id);
  const message = statusArea();
  say(message, "");
  const send = h("button", { type: "submit" }, t("Send"));
  const form = h(
    "form",
    { class: "message-form", novalidate: true },
    h(
      "div",
      { class: "field" },
      h(
        "label",
        { for: textarea.id },
        isPatient ? t("Message to your care team") : t("Message to {name}", { name: patientName }),
      ),
      textarea,
      counter,
    ),
    message,
    h("div", { class: "actions" }, send),
  );
  // a therapist's retry of the same words keeps their id: the server stores it once
  let pending = null;
  const count = () => {
    const used = [...textarea.value].length;
    counter.textContent = t("{used} of {max} characters", { used, max: maxLength });
    counter.dataset.near = String(used > maxLength * 0.9);
  };
  textarea.addEventListener("input", count);
  count();
  // Ctrl/⌘+Enter sends, as in most chat apps; Enter alone is a new line
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value;
    textarea.removeAttribute("aria-invalid");
    if (!text.trim()) {
      say(message, t("Write a message first."), "error");
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    if (pending?.body !== text) pending = { id: api.uuid(), body: text };
    const found = bounds.problems("message", pending);
    if (Object.keys(found).length) {
      say(message, t("Not sent: {problems}", { problems: bounds.describe(found) }), "error");
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    send.disabled = true;
    try {
      if (isPatient) {
        await api.record("message", pending);
        say(message, navigator.onLine ? "" : t("Saved on this phone. It is sent when you are back online."), "info");
      } else {
        await api.post(`/api/patients/${patientId}/messages`, pending);
        say(message, t("Sent."), "success");
      }
      pending = null;
      textarea.value = "";
      count();
      await sent();
    } catch (error) {
      say(
        message,
        error.offline
          ? t("You are offline. Your message is still here: send it again when you are back online.")
          : error.message,
        "error",
      );
    } finally {
      send.disabled = false;
    }
  });
  return { form };
}
