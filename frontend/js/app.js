/** The shell: boots the session, routes #/… to one screen module at a time,
 * keeps the online / pending-records indicator and the service worker current. */
import * as api from "./core/api.js";
import * as badges from "./core/badges.js";
import * as bounds from "./core/bounds.js";
import { h, mount } from "./core/dom.js";
import { N_, language, remembered, setLanguage, t, tn } from "./core/i18n.js";

const STAFF = ["therapist", "admin"];
const BADGE_POLL_MS = 60000;
const HOME = { patient: "#/today", therapist: "#/patients", admin: "#/patients" };

const ROUTES = [
  { path: /^\/signin$/, public: true, title: N_("Sign in"), load: () => import("./screens/signin.js") },
  {
    path: /^\/invite\/([\w.~-]+)$/,
    public: true,
    title: N_("Welcome"),
    view: "invite",
    load: () => import("./screens/signin.js"),
  },
  {
    path: /^\/forgot$/,
    public: true,
    title: N_("Forgot password"),
    view: "forgot",
    load: () => import("./screens/signin.js"),
  },
  {
    path: /^\/reset\/([\w.~-]+)$/,
    public: true,
    title: N_("New password"),
    view: "reset",
    load: () => import("./screens/signin.js"),
  },
  {
    path: /^\/reminders\/stop\/([\w.~-]+)$/,
    public: true,
    title: N_("Reminders"),
    load: () => import("./screens/reminders.js"),
  },
  {
    path: /^\/account$/,
    roles: ["patient", "therapist", "admin"],
    title: N_("Account"),
    load: () => import("./screens/account.js"),
  },
  { path: /^\/today$/, roles: ["patient"], title: N_("Today"), load: () => import("./screens/patient/today.js") },
  { path: /^\/week$/, roles: ["patient"], title: N_("This week"), load: () => import("./screens/patient/week.js") },
  {
    path: /^\/progress$/,
    roles: ["patient"],
    title: N_("Progress"),
    load: () => import("./screens/patient/progress.js"),
  },
  {
    path: /^\/odi$/,
    roles: ["patient"],
    title: N_("Back-pain questionnaire"),
    load: () => import("./screens/patient/odi.js"),
  },
  {
    path: /^\/psfs$/,
    roles: ["patient"],
    title: N_("Daily activities"),
    load: () => import("./screens/patient/psfs.js"),
  },
  {
    path: /^\/messages$/,
    roles: ["patient"],
    title: N_("Messages"),
    load: () => import("./screens/patient/messages.js"),
  },
  { path: /^\/patients$/, roles: STAFF, title: N_("Patients"), load: () => import("./screens/staff/patients.js") },
  { path: /^\/patients\/(\d+)$/, roles: STAFF, title: N_("Patient"), load: () => import("./screens/staff/patient.js") },
  {
    path: /^\/patients\/(\d+)\/programme$/,
    roles: STAFF,
    title: N_("Edit programme"),
    load: () => import("./screens/staff/programme.js"),
  },
  {
    path: /^\/patients\/(\d+)\/odi$/,
    roles: STAFF,
    title: N_("Back-pain questionnaire"),
    load: () => import("./screens/patient/odi.js"),
  },
  {
    path: /^\/patients\/(\d+)\/psfs$/,
    roles: STAFF,
    title: N_("Daily activities"),
    load: () => import("./screens/patient/psfs.js"),
  },
  { path: /^\/alerts$/, roles: STAFF, title: N_("Alerts"), load: () => import("./screens/staff/alerts.js") },
  {
    path: /^\/reports$/,
    roles: STAFF,
    title: N_("Adherence report"),
    load: () => import("./screens/staff/reports.js"),
  },
  {
    path: /^\/library$/,
    roles: STAFF,
    title: N_("Exercise library"),
    load: () => import("./screens/staff/library.js"),
  },
  { path: /^\/library\/(\d+)$/, roles: STAFF, title: N_("Exercise"), load: () => import("./screens/staff/library.js") },
  {
    path: /^\/admin\/staff$/,
    roles: ["admin"],
    title: N_("Staff"),
    view: "staff",
    load: () => import("./screens/staff/admin.js"),
  },
  {
    path: /^\/admin\/tokens$/,
    roles: ["admin"],
    title: N_("API tokens"),
    view: "tokens",
    load: () => import("./screens/staff/admin.js"),
  },
  {
    path: /^\/admin\/audit$/,
    roles: ["admin"],
    title: N_("Audit log"),
    view: "audit",
    load: () => import("./screens/staff/admin.js"),
  },
];

// [href, label, the badge count it shows (badges.js), if any]
const NAV = {
  patient: [
    ["#/today", N_("Today")],
    ["#/week", N_("This week")],
    ["#/progress", N_("Progress")],
    ["#/odi", N_("Questionnaire")],
    ["#/messages", N_("Messages"), "messages"],
    ["#/account", N_("Account")],
  ],
  therapist: [
    ["#/patients", N_("Patients")],
    ["#/alerts", N_("Alerts"), "alerts"],
    ["#/reports", N_("Reports")],
    ["#/library", N_("Exercises")],
    ["#/account", N_("Account")],
  ],
  admin: [
    ["#/patients", N_("Patients")],
    ["#/alerts", N_("Alerts"), "alerts"],
    ["#/reports", N_("Reports")],
    ["#/library", N_("Exercises")],
    ["#/admin/staff", N_("Staff")],
    ["#/admin/tokens", N_("API tokens")],
    ["#/admin/audit", N_("Audit log")],
    ["#/account", N_("Account")],
  ],
};

const main = document.getElementById("main");
const nav = document.getElementById("main-nav");
const syncStatus = document.getElementById("sync-status");
const banner = document.getElementById("banner");
const signOutButton = document.getElementById("sign-out");

let cleanup = null;
let renderTicket = 0;
let signInNotice = "";
let firstRoute = true;
// the language's catalog, loaded before any screen draws (calls run in order)
let languageReady = Promise.resolve();

function useLanguage(code) {
  languageReady = languageReady.then(() => (code === language() ? code : setLanguage(code)));
  return languageReady;
}

function currentPath() {
  const hash = location.hash;
  return hash.startsWith("#/") ? hash.slice(1) : "/";
}

function match(path) {
  for (const route of ROUTES) {
    const found = route.path.exec(path);
    if (found) return { route, params: found.slice(1) };
  }
  return null;
}

async function route() {
  const ticket = ++renderTicket;
  await languageReady;
  if (ticket !== renderTicket) return;
  const user = api.currentUser();
  const path = currentPath();
  let found = match(path);

  if (!user && !found?.route.public) {
    found = { route: ROUTES[0], params: [] };
  } else if (
    user &&
    (!found || found.route.path === ROUTES[0].path || (found.route.roles && !found.route.roles.includes(user.role)))
  ) {
    location.replace(HOME[user.role]);
    return;
  }

  cleanup?.();
  cleanup = null;
  translateShell();
  renderNav(user, path);
  if (user) badges.refresh();
  const view = h("div", { class: "view" });
  // a new screen takes focus to its heading (screen readers announce it), except
  // on the first load, where the browser's own starting point is kept
  const moveFocus = !firstRoute;
  firstRoute = false;
  mount(main, view);
  document.title = `${t(found.route.title)} · Homeward`;
  try {
    const screen = await found.route.load();
    if (ticket !== renderTicket) return;
    const notice = signInNotice;
    signInNotice = "";
    const done = await screen.render(view, { user, params: found.params, view: found.route.view, notice, navigate });
    if (ticket !== renderTicket) {
      done?.(); // the user has moved on while this screen was loading
      return;
    }
    cleanup = done || null;
  } catch (error) {
    if (ticket !== renderTicket) return;
    mount(
      view,
      h("h1", { class: "page-title", tabindex: "-1" }, t("Something went wrong")),
      h("p", { role: "alert" }, error.message || String(error)),
    );
  }
  if (ticket === renderTicket && moveFocus && !view.contains(document.activeElement)) view.querySelector("h1")?.focus();
}

let shellLanguage = "en";

/** index.html's own words and the sync indicator, in the language in use. */
function translateShell() {
  document.querySelector(".skip-link").textContent = t("Skip to content");
  signOutButton.textContent = t("Sign out");
  nav.setAttribute("aria-label", t("Main"));
  if (shellLanguage !== language()) refreshStatus();
  shellLanguage = language();
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderNav(user, path) {
  const links = user ? NAV[user.role] || [] : [];
  nav.hidden = !links.length;
  signOutButton.hidden = !user;
  document.body.dataset.role = user?.role || "signed-out";
  mount(
    nav,
    h(
      "ul",
      { dataset: { items: String(links.length) } },
      links.map(([href, label, badge]) => {
        const active =
          path === href.slice(1) ||
          ((href === "#/patients" || href === "#/library") && path.startsWith(`${href.slice(1)}/`));
        return h(
          "li",
          {},
          h(
            "a",
            { href, "aria-current": active ? "page" : null, dataset: badge ? { badge } : null },
            t(label),
            badge ? h("span", { class: "nav-badge" }) : null,
          ),
        );
      }),
    ),
  );
  drawBadges();
}

const BADGE_WORDS = {
  messages: (count) => tn(count, "({count} unread)", "({count} unread)"),
  alerts: (count) => tn(count, "({count} new)", "({count} new)"),
};

/** The nav's counts: the number for the eye, its meaning for screen readers
 * ("Messages (2 unread)"). */
function drawBadges() {
  const counts = badges.current();
  for (const link of nav.querySelectorAll("a[data-badge]")) {
    const count = counts[link.dataset.badge] || 0;
    const badge = link.querySelector(".nav-badge");
    badge.hidden = !count;
    mount(
      badge,
      count
        ? [
            h("span", { "aria-hidden": "true" }, count > 99 ? "99+" : String(count)),
            h("span", { class: "visually-hidden" }, BADGE_WORDS[link.dataset.badge](count)),
          ]
        : null,
    );
  }
}

/* ---- the online / pending indicator and the banners ---------------------- */

async function refreshStatus() {
  const user = api.currentUser();
  const online = navigator.onLine;
  const pending = user?.role === "patient" ? await api.pendingCount() : 0;
  signOutButton.hidden = !user;
  syncStatus.dataset.pending = String(pending);
  syncStatus.dataset.online = String(online);
  syncStatus.hidden = !user;
  let text;
  if (pending)
    text = online
      ? tn(pending, "{count} not sent yet", "{count} not sent yet")
      : tn(pending, "Offline · {count} not sent yet", "Offline · {count} not sent yet");
  else text = online ? t("All changes saved") : t("Offline");
  if (user?.role !== "patient" && online) text = "";
  syncStatus.textContent = text;
  syncStatus.hidden = !text;
  await showRefused();
}

let refusedDrawn = Promise.resolve();

/** The records the server refused, above every screen: one draw at a time, and
 * only when the records change (a half-typed correction is kept). */
function showRefused() {
  refusedDrawn = refusedDrawn.then(drawRefused, drawRefused);
  return refusedDrawn;
}

async function drawRefused() {
  const refused = await api.refusedRecords();
  const existing = banner.querySelector("[data-banner=refused]");
  const shown = refused.map((record) => `${record.key}@${record.rejected_at}`).join(" ");
  if ((existing?.dataset.shown ?? "") === shown) return;
  const panel = refused.length ? (await import("./screens/patient/refused.js")).panel(refused) : null;
  if (panel) panel.dataset.shown = shown;
  if (existing && panel) existing.replaceWith(panel);
  else if (existing) existing.remove();
  else if (panel) banner.prepend(panel);
  banner.hidden = !banner.children.length;
}

function showBanner(name, text, actions) {
  banner.querySelector(`[data-banner=${name}]`)?.remove();
  const item = h(
    "div",
    { class: "banner-item", "data-banner": name, role: "status" },
    h("p", {}, text),
    h("div", { class: "actions" }, actions),
  );
  banner.append(item);
  banner.hidden = false;
  return item;
}

function hideBanner(name) {
  banner.querySelector(`[data-banner=${name}]`)?.remove();
  banner.hidden = !banner.children.length;
}

/* ---- signing out never silently drops unsent records ---------------------- */

async function signOut() {
  if (navigator.onLine) await api.flushOutbox();
  const unsent = (await api.pendingCount()) + (await api.refusedRecords()).length;
  if (unsent) {
    const item = showBanner(
      "sign-out",
      tn(
        unsent,
        "{count} record not saved on the server yet. Signing out deletes it from this device, so that the next person to use it cannot see it.",
        "{count} records not saved on the server yet. Signing out deletes them from this device, so that the next person to use it cannot see them.",
      ),
      [
        h(
          "button",
          { type: "button", class: "danger", onclick: () => finishSignOut() },
          tn(unsent, "Sign out and delete it", "Sign out and delete them"),
        ),
        h("button", { type: "button", class: "secondary", onclick: () => hideBanner("sign-out") }, t("Stay signed in")),
      ],
    );
    item.querySelector("button").focus();
    return;
  }
  await finishSignOut();
}

async function finishSignOut() {
  hideBanner("sign-out");
  try {
    await api.signOut();
  } catch {
    // offline: the server session ends by itself; this device forgets it now
  }
  location.hash = "#/signin";
  route();
}

/* ---- service worker: offline shell, background sync, updates ------------- */

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "outbox-flushed") api.events.dispatchEvent(new Event("outbox"));
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !updateRequested) return;
    reloading = true;
    location.reload();
  });
  navigator.serviceWorker
    .register("/sw.js", { scope: "/", type: "module" })
    .then((registration) => {
      if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
      registration.addEventListener("updatefound", () => {
        const worker = registration.installing;
        worker?.addEventListener("statechange", () => {
          if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
        });
      });
    })
    .catch(() => {}); // no offline support in this browser; everything else works
}

let updateRequested = false;

function offerUpdate(worker) {
  showBanner("update", t("A new version of Homeward is ready."), [
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          updateRequested = true;
          worker.postMessage({ type: "skip-waiting" });
        },
      },
      t("Reload now"),
    ),
  ]);
}

/* ---- boot ----------------------------------------------------------------- */

async function boot() {
  registerServiceWorker();
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  signOutButton.addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => {
    refreshStatus();
    api.flushOutbox();
    badges.refresh();
  });
  window.addEventListener("offline", refreshStatus);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) api.flushOutbox();
  });
  api.events.addEventListener("outbox", refreshStatus);
  api.events.addEventListener("session", refreshStatus);
  badges.events.addEventListener("change", drawBadges);
  api.events.addEventListener("session", () => badges.refresh());
  // the account's language (its own choice, else the browser's, else the clinic's)
  api.events.addEventListener("session", () => {
    const wanted = api.sessionLanguage();
    if (wanted) useLanguage(wanted);
  });
  // new messages and alerts arrive while the app is open: look now and then
  setInterval(() => {
    if (document.visibilityState === "visible" && api.currentUser()) badges.refresh();
  }, BADGE_POLL_MS);
  api.events.addEventListener("session-expired", async () => {
    if (!api.currentUser()) return;
    const pending = await api.pendingCount();
    api.sessionExpired();
    signInNotice = [
      t("Your session has ended. Please sign in again."),
      pending
        ? tn(
            pending,
            "{count} record on this device will be sent then.",
            "{count} records on this device will be sent then.",
          )
        : "",
    ]
      .join(" ")
      .trim();
    route();
  });

  useLanguage(remembered());
  await Promise.all([api.restoreSession(), bounds.load()]);
  await route();
  refreshStatus();
  if (navigator.onLine) api.flushOutbox();
}

boot();
