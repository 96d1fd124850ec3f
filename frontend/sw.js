/* Homeward's service worker (a module worker): the app shell offline, the
 * outbox flushed by Background Sync when the page is gone, with the very module
 * the page uses (outbox.js), and reminders by Web Push (push.js, shared with the
 * page too). API data is cached per user by the page, never here. */
import { SYNC_TAG, flush } from "__ASSETS__js/core/outbox.js";
import { PUBLIC_KEY, SUBSCRIPTIONS, subscribe, subscriptionBody } from "__ASSETS__js/core/push.js";

const VERSION = "__ASSET_VERSION__";
const SHELL_CACHE = `homeward-shell-${VERSION}`;
const PRECACHE = "__PRECACHE__";
const ASSETS = "__ASSETS__"; // this version's prefix of every asset's URL
const REVISIONS = "__REVISIONS__"; // {file under ASSETS: a hash of its content}
const REVISIONS_KEY = `${ASSETS}.revisions`; // in each shell cache, stored last: it is complete
const NAVIGATION_TIMEOUT_MS = 4000;
const MEDIA_CACHE = "homeward-media"; // filled by the page (offline-media.js)

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

/** Fills this version's cache: a file whose revision the previous version's
 * cache holds is copied from it, only the others (and the page) are fetched,
 * so a deploy costs the phone only the files it changed. The revisions go in
 * last: a cache without them (an install that failed half-way) is never
 * copied from. */
async function precache() {
  const cache = await caches.open(SHELL_CACHE);
  const previous = await previousShell();
  const fetched = [];
  for (const url of PRECACHE) {
    const file = url.startsWith(ASSETS) ? url.slice(ASSETS.length) : null;
    const same = file && previous && previous.revisions[file] === REVISIONS[file];
    const kept = same ? await previous.cache.match(previous.assets + file) : undefined;
    if (kept) await cache.put(url, kept);
    else fetched.push(url);
  }
  await cache.addAll(fetched); // all or nothing
  const revisions = JSON.stringify({ assets: ASSETS, revisions: REVISIONS });
  await cache.put(REVISIONS_KEY, new Response(revisions, { headers: { "Content-Type": "application/json" } }));
}

/** The shell cache of the version this phone has (complete, with its
 * revisions), or null: {cache, assets (its URL prefix), revisions}. */
async function previousShell() {
  for (const name of await caches.keys()) {
    if (!name.startsWith("homeward-shell-") || name === SHELL_CACHE) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (!new URL(request.url).pathname.endsWith("/.revisions")) continue;
      const stored = await (await cache.match(request)).json();
      return { cache, assets: stored.assets, revisions: stored.revisions };
    }
  }
  return null;
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("homeward-") && name !== SHELL_CACHE && name !== MEDIA_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

// A waiting version takes over only when the page asks (the user chose to reload),
// so an open page never runs modules from two versions.
self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname.startsWith("/media/")) event.respondWith(media(request));
  else if (request.mode === "navigate" && url.pathname === "/") event.respondWith(navigation(request));
  else if (url.pathname.startsWith("/assets/")) event.respondWith(cacheFirst(request));
  else event.respondWith(networkFirst(request));
});

/** The page itself: the network when it answers soon, else the shell precached
 * with this version's assets (a newer page is never cached: its assets may not be). */
async function navigation(request) {
  const network = fetch(request);
  network.catch(() => {}); // offline is handled below
  const timeout = new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT_MS));
  try {
    const response = await Promise.race([network, timeout]);
    if (response) return response;
  } catch {
    // offline: fall through to the shell
  }
  const shell = await caches.match("/", { cacheName: SHELL_CACHE });
  return shell || network;
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    const cache = await caches.open(SHELL_CACHE);
    cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      const cache = await caches.open(SHELL_CACHE);
      cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request);
    if (cached) return cached;
    throw error;
  }
}

/** Exercise pictures and saved videos: this phone's copy when it has one (a
 * video player's byte ranges cut from it), else the network, never stored
 * here: the page decides what is kept. */
async function media(request) {
  const cached = await (await caches.open(MEDIA_CACHE)).match(request.url);
  if (!cached) return fetch(request);
  const range = request.headers.get("Range");
  return range ? partial(cached, range) : cached;
}

async function partial(response, range) {
  const blob = await response.blob();
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = match && match[1] !== "" ? Number(match[1]) : null;
  let end = match && match[2] !== "" ? Number(match[2]) : size - 1;
  if (match && start === null && match[2] !== "") [start, end] = [Math.max(0, size - Number(match[2])), size - 1];
  if (start === null || start > end || start >= size) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  end = Math.min(end, size - 1);
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": response.headers.get("Content-Type") || "application/octet-stream",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

/* ---- Background Sync: send the outbox of whoever is signed in --------------- */

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(flushOutbox());
});

async function session() {
  const response = await fetch("/api/auth/me", { credentials: "same-origin" });
  if (response.status === 401) return null; // signed out: the records wait for the next sign-in
  if (!response.ok) throw new Error(`me answered ${response.status}`);
  return response.json();
}

async function flushOutbox() {
  // a throw rejects the sync event, and the browser retries it later
  let current = await session();
  if (!current) return;
  const result = await flush(current.user.id, {
    csrf: () => current.csrf_token,
    refreshCsrf: async () => {
      current = (await session()) || current;
    },
    signedIn: () => true,
  });
  if (result === "later") throw new Error("the outbox could not be sent yet");
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "outbox-flushed" });
}

/* ---- Web Push: reminders ---------------------------------------------------- */

const ICON = "__ASSETS__icons/icon-192.png"; // the manifest's
const REMINDER = { title: "Homeward", body: "Time for your exercises.", url: "/#/today", tag: "homeward-reminder" };

self.addEventListener("push", (event) => {
  const reminder = reminderOf(event.data);
  event.waitUntil(
    self.registration.showNotification(reminder.title, {
      body: reminder.body,
      tag: reminder.tag,
      icon: ICON,
      data: { url: reminder.url },
    }),
  );
});

/** The payload's title, body, tag and (same-origin) url; what is missing or
 * unreadable is the generic reminder's. */
function reminderOf(data) {
  let sent = null;
  try {
    sent = data?.json();
  } catch {
    // not JSON: the generic reminder
  }
  if (!sent || typeof sent !== "object") sent = {};
  const text = (value, fallback) => (typeof value === "string" && value.trim() ? value : fallback);
  return {
    title: text(sent.title, REMINDER.title),
    body: text(sent.body, REMINDER.body),
    tag: text(sent.tag, REMINDER.tag),
    url: ownUrl(sent.url) || ownUrl(REMINDER.url),
  };
}

/** `url` resolved against this origin, or null when it points elsewhere. */
function ownUrl(url) {
  if (typeof url !== "string") return null;
  try {
    const target = new URL(url, self.location.origin);
    return target.origin === self.location.origin ? target.href : null;
  } catch {
    return null;
  }
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const opening = openApp(ownUrl(event.notification.data?.url) || ownUrl(REMINDER.url));
  event.waitUntil(opening);
});

/** An open Homeward window, focused and sent to `url`; else a new one. */
async function openApp(url) {
  const windows = await self.clients.matchAll({ type: "window" });
  const open = windows.find((client) => client.focused) || windows[0];
  if (!open) return self.clients.openWindow(url);
  await open.focus().catch(() => {}); // allowed only while handling a real click
  return open.navigate(url);
}

// The browser replaced this device's subscription (expired, or keys rotated):
// the server gets the new one, under the same session, in place of the old.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renewSubscription(event.oldSubscription, event.newSubscription));
});

async function renewSubscription(old, renewed) {
  const key = old?.options?.applicationServerKey || (await serverKey());
  if (!renewed && !key) return; // push is off on the server now
  const subscription = renewed || (await subscribe(self.registration.pushManager, key));
  const csrf = await fetch("/api/auth/csrf", { credentials: "same-origin" }).then((response) => response.json());
  const send = (method, body) =>
    fetch(SUBSCRIPTIONS, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf.csrf_token },
      body: JSON.stringify(body),
    });
  const saved = await send("POST", subscriptionBody(subscription));
  if (saved.status === 401) return subscription.unsubscribe(); // signed out: nobody to remind
  if (!saved.ok) throw new Error(`push-subscriptions answered ${saved.status}`);
  if (old && old.endpoint !== subscription.endpoint) await send("DELETE", { endpoint: old.endpoint });
}

async function serverKey() {
  const response = await fetch(PUBLIC_KEY, { credentials: "same-origin" });
  return response.ok ? (await response.json()).public_key : null;
}
