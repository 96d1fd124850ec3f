/** The one way to talk to the server: fetch with the CSRF header, the session,
 * and the offline outbox (queue first, flush through POST /api/sync). */
import * as offlineMedia from "./offline-media.js";
import * as outbox from "./outbox.js";
import * as push from "./push.js";
import * as store from "./store.js";
import { t } from "./i18n.js";

/** Events: "session" (signed in/out), "outbox" (pending count changed),
 * "session-expired" (a 401 while we thought we were signed in). */
export const events = new EventTarget();

let csrfToken = null;
let user = null;
let language = null;
let flushing = null;
let flushAgain = false;

export class ApiError extends Error {
  constructor(status, payload = {}) {
    super(
      payload.message ||
        (status === 0 ? t("You are offline.") : t("The server answered {status}.", { status: String(status) })),
    );
    this.name = "ApiError";
    this.status = status;
    this.payload = payload;
  }

  /** No answer, or the server's "briefly unavailable" (503): the same for the
   * user, offline for now (writes stay in the outbox, "Saved on this phone"). */
  get offline() {
    return this.status === 0 || this.status === 503;
  }

  /** {field: [messages]} from the body or the query, whichever the server named. */
  get fieldErrors() {
    const errors = this.payload.errors || {};
    return { ...(errors.query || {}), ...(errors.json || {}) };
  }
}

export function currentUser() {
  return user;
}

/** The language the server says this session's user reads ("es"), if it says. */
export function sessionLanguage() {
  return language;
}

function setSession(session) {
  user = session?.user ?? null;
  language = session?.language ?? session?.user?.language ?? null;
  if (session?.csrf_token) csrfToken = session.csrf_token;
  events.dispatchEvent(new Event("session"));
}

async function refreshCsrf() {
  const response = await fetch("/api/auth/csrf", { credentials: "same-origin" });
  csrfToken = (await response.json()).csrf_token;
}

export async function request(method, path, body, { retryCsrf = true, headersToo = false } = {}) {
  const headers = { Accept: "application/json" };
  const form = body instanceof FormData; // a file upload: the browser sets the type
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    if (!csrfToken) await refreshCsrf().catch(() => {});
    headers["X-CSRF-Token"] = csrfToken || "";
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0);
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => ({}));
  if (response.ok) return headersToo ? { payload, headers: response.headers } : payload;
  if (response.status === 400 && method !== "GET" && retryCsrf && /csrf/i.test(payload.message || "")) {
    await refreshCsrf();
    return request(method, path, body, { retryCsrf: false });
  }
  if (response.status === 401 && user && !path.startsWith("/api/auth/")) {
    events.dispatchEvent(new Event("session-expired"));
  }
  throw new ApiError(response.status, payload);
}

export const get = (path, query) => request("GET", query ? `${path}?${new URLSearchParams(query)}` : path);
/** One page of a paginated list: {items, next} (next: the cursor for `after`, or null). */
export async function getPage(path, query) {
  const { payload, headers } = await request("GET", `${path}?${new URLSearchParams(query)}`, undefined, {
    headersToo: true,
  });
  return { items: payload, next: headers.get("X-Next-Cursor") };
}
export const post = (path, body = {}) => request("POST", path, body);
export const put = (path, body) => request("PUT", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path, body) => request("DELETE", path, body);

/** Sends one file as multipart `file` (exercise pictures and videos). */
export function upload(method, path, file) {
  const form = new FormData();
  form.append("file", file);
  return request(method, path, form);
}

/** Who is signed in: {user, offline}. Only a device that signed in before asks
 * the server (no needless 401 on a first visit). Offline, the last signed-in user
 * is assumed so their records can be shown and queued; the server decides later. */
export async function restoreSession() {
  const saved = await store.cached("session");
  if (!saved) {
    setSession(null);
    return { user: null, offline: !navigator.onLine };
  }
  try {
    setSession(await get("/api/auth/me"));
    await store.cache("session", user);
    return { user, offline: false };
  } catch (error) {
    if (!error.offline) {
      setSession(null);
      await store.uncache("session");
      await dropPush({ tellServer: false }); // the session it belonged to is over
      return { user: null, offline: false };
    }
    user = saved.value;
    events.dispatchEvent(new Event("session"));
    return { user, offline: true };
  }
}

async function startSession(session) {
  // a completed sign-in names the user and the language they read
  setSession(session);
  await store.cache("session", session.user);
  flushOutbox();
  return session.user;
}

/** A sign-in answer: {user} when signed in, or {step: "totp" | "enrol"} when a
 * second step must follow (the session can do nothing else until then). */
async function signedIn(answer) {
  if (answer.second_factor) {
    csrfToken = answer.csrf_token;
    return { step: answer.second_factor };
  }
  return { user: await startSession(answer) };
}

export async function signIn(email, password) {
  return signedIn(await post("/api/auth/login", { email, password }));
}

export async function acceptInvite(token, password) {
  return signedIn(await post("/api/auth/accept-invite", { token, password }));
}

/** The second step: a code from the authenticator app, or a recovery code. */
export async function secondStep(code) {
  return startSession(await post("/api/auth/totp", { code }));
}

/** Confirms a new authenticator; returns the ten recovery codes (shown once).
 * During sign-in this also completes it. */
export async function confirmAuthenticator(code) {
  const answer = await post("/api/auth/totp/enrol/confirm", { code });
  if (!user) await startSession(answer);
  else csrfToken = answer.csrf_token;
  return answer.recovery_codes;
}

/** Stores the user's language ("es", "en", or null: this device's); the answer
 * is the session again, with the language now in effect. */
export async function chooseLanguage(code) {
  setSession(await patch("/api/auth/me", { language: code }));
  await store.cache("session", user);
  return language;
}

/** Signs out: the server ends the session (its answer clears the cookie) and
 * this device forgets everything of this user: cached data, queued and refused
 * records, its reminders by push, so nothing of their health data stays on a
 * shared phone and no reminder of theirs reaches the next person (the caller
 * has said how many records that discards). */
export async function signOut() {
  const leaving = user;
  await dropPush({ tellServer: true });
  try {
    await post("/api/auth/logout");
  } finally {
    await forgetHere(leaving);
  }
}

/** After "sign out everywhere", ending this device from the devices list or a
 * password reset: the session is over; this device forgets the user. */
export async function signedOutHere() {
  await forgetHere(user);
}

async function forgetHere(leaving) {
  await dropPush({ tellServer: false }); // the server dropped it with the session
  if (leaving) await outbox.withLock(() => outbox.forgetUser(leaving.id));
  await offlineMedia.forgetAll();
  await store.uncache("session");
  csrfToken = null;
  setSession(null);
}

/** This device's push subscription goes with its session: the server is told
 * first (failures ignored: offline, it also forgets it at sign-out), then the
 * browser drops it. */
async function dropPush({ tellServer }) {
  try {
    const subscription = await push.currentSubscription();
    if (!subscription) return;
    if (tellServer) await del(push.SUBSCRIPTIONS, { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe();
  } catch {
    // no push here, or the browser refused: nothing is left to send to
  }
}

export function sessionExpired() {
  user = null;
  csrfToken = null;
  store.uncache("session");
  dropPush({ tellServer: false });
  events.dispatchEvent(new Event("session"));
}

/* ---- the outbox ---------------------------------------------------------- */

/** A new record id (a v4 UUID). */
export const uuid = outbox.uuid;

function outboxChanged() {
  events.dispatchEvent(new Event("outbox"));
}

/** Queues a record for the signed-in user, then tries to send it. */
export async function record(kind, body) {
  const queued = await outbox.enqueue({ kind, id: body.id, userId: user.id, body });
  outboxChanged();
  flushOutbox();
  askForBackgroundSync();
  return queued;
}

/** Undoes a tick: a tick still in the outbox simply leaves it; a sent one is
 * deleted on the server through a queued deletion. */
export async function undoTick(tickId) {
  const withdrawn = await outbox.withLock(() => outbox.withdraw("exercise_log", tickId));
  if (withdrawn) {
    outboxChanged();
    return;
  }
  await outbox.enqueue({ kind: "deleted_exercise_log", id: tickId, userId: user.id });
  outboxChanged();
  flushOutbox();
  askForBackgroundSync();
}

export function pendingCount() {
  return user ? outbox.pendingCount(user.id) : Promise.resolve(0);
}

/** The signed-in user's queued records, oldest first. */
export function queuedRecords() {
  return user ? outbox.queued(user.id) : Promise.resolve([]);
}

function askForBackgroundSync() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.ready.then((registration) => registration.sync?.register(outbox.SYNC_TAG)).catch(() => {}); // unsupported or refused: the page flushes on `online`
}

/** Sends the signed-in user's outbox; concurrent calls share one run. */
export function flushOutbox() {
  if (!user) return Promise.resolve();
  if (flushing) {
    flushAgain = true; // a record queued during this run is sent by the next one
    return flushing;
  }
  const owner = user;
  flushing = outbox
    .flush(owner.id, {
      csrf: () => csrfToken,
      refreshCsrf,
      signedIn: () => user?.id === owner.id,
      settled: outboxChanged,
    })
    .then((result) => {
      if (result === "signed-out") events.dispatchEvent(new Event("session-expired"));
    })
    .catch(() => {})
    .finally(() => {
      flushing = null;
      outboxChanged();
      if (flushAgain) {
        flushAgain = false;
        flushOutbox();
      }
    });
  return flushing;
}

/** The signed-in user's records the server refused, waiting for them. */
export function refusedRecords() {
  return user ? outbox.rejected(user.id) : Promise.resolve([]);
}

/** A refused record, corrected (or as it was, for a tick): sent again. */
export async function resendRefused(record, body) {
  await outbox.withLock(() => outbox.resubmit(record, body));
  outboxChanged();
  await flushOutbox();
}

export async function discardRefused(record) {
  await outbox.discardRejected(record.key);
  outboxChanged();
}
