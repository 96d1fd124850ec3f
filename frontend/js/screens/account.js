/** Account: the signed-in person's password, the devices they are signed in
 * on (each can be signed out), their two-step sign-in and, for a patient,
 * their reminders and their programme as a handout to print. */
import * as api from "../core/api.js";
import { codeInput, setUp } from "./authenticator.js";
import {
  clearErrors,
  field,
  formatDateTime,
  h,
  heading,
  loading,
  mount,
  say,
  showErrors,
  statusArea,
  submitForm,
} from "../core/dom.js";
import { LANGUAGES, fromBrowser, setLanguage, t } from "../core/i18n.js";
import { remindersCard } from "./reminders.js";

export async function render(view, { user, navigate }) {
  const devices = h("div", {}, loading());
  const devicesMessage = statusArea("alert");
  say(devicesMessage, "");
  const twoStep = h("div");
  mount(
    view,
    heading(t("Account")),
    h("p", { class: "lead", "data-l10n-skip": "" }, `${user.name} · ${user.email}`),
    languageCard(user, navigate),
    user.role === "patient" ? remindersCard(user) : null,
    user.role === "patient" ? handoutCard(user) : null,
    h(
      "section",
      { class: "card", "aria-labelledby": "devices-title" },
      h("h2", { id: "devices-title" }, t("Signed-in devices")),
      devices,
      devicesMessage,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "password-title" },
      h("h2", { id: "password-title" }, t("Change password")),
      passwordForm(),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "two-step-title" },
      h("h2", { id: "two-step-title" }, t("Two-step sign-in")),
      twoStep,
    ),
  );
  showTwoStep(twoStep, user);
  await showDevices(devices, devicesMessage, navigate);
}

/** The language Homeward speaks to this person, stored on their account (so
 * emails, reminders and the handout follow it); the app changes at once. */
function languageCard(user, navigate) {
  const select = h(
    "select",
    { name: "language" },
    h("option", { value: "" }, t("Same as this device")),
    Object.entries(LANGUAGES).map(([code, name]) =>
      h("option", { value: code, lang: code, "data-l10n-skip": "" }, name),
    ),
  );
  select.value = user.language ?? "";
  const message = statusArea("alert");
  say(message, "");
  const save = h("button", { type: "submit" }, t("Save language"));
  const form = h(
    "form",
    { class: "stack narrow-form", novalidate: true },
    field(t("Language"), select),
    message,
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!navigator.onLine) {
      say(message, t("You are offline: the language can be changed once you are back online."), "error");
      return;
    }
    const chosen = select.value || null;
    save.disabled = true;
    try {
      const now = await api.chooseLanguage(chosen);
      await setLanguage(now || chosen || fromBrowser());
    } catch (error) {
      save.disabled = false;
      say(
        message,
        error.offline ? t("You are offline: the language can be changed once you are back online.") : error.message,
        "error",
      );
      return;
    }
    navigate(location.hash); // every screen and the menu, in the new language
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "language-title" },
    h("h2", { id: "language-title" }, t("Language")),
    form,
  );
}

function handoutCard(user) {
  const area = h("div", {}, loading());
  api
    .get(`/api/patients/${user.id}/programme`)
    .then(() =>
      mount(
        area,
        h(
          "a",
          {
            class: "button-link secondary",
            href: `/api/patients/${user.id}/programme.pdf`,
            target: "_blank",
            rel: "noopener",
          },
          t("Print handout"),
        ),
      ),
    )
    .catch((error) =>
      mount(
        area,
        h(
          "p",
          { class: "hint" },
          error.status === 404
            ? t("Your therapist has not set your programme yet.")
            : error.offline
              ? t("You are offline: the handout needs the internet.")
              : error.message,
        ),
      ),
    );
  return h(
    "section",
    { class: "card", "aria-labelledby": "handout-title" },
    h("h2", { id: "handout-title" }, t("Your programme on paper")),
    h("p", { class: "hint" }, t("Your exercises with their pictures and doses, to print and keep by your mat.")),
    area,
  );
}

async function showDevices(area, message, navigate) {
  let sessions;
  try {
    sessions = await api.get("/api/auth/sessions");
  } catch (error) {
    mount(
      area,
      h("p", { role: "alert" }, error.offline ? t("You are offline: the list needs the internet.") : error.message),
    );
    return;
  }
  const endOne = async (session) => {
    try {
      if (session.current) await api.flushOutbox(); // what this phone holds, sent first
      await api.del(`/api/auth/sessions/${session.id}`);
      if (session.current) {
        await api.signedOutHere();
        navigate("#/signin");
        return;
      }
      await showDevices(area, message, navigate);
      say(message, t("{device} is signed out.", { device: session.device }), "success");
      area.querySelector("h3, button")?.focus();
    } catch (error) {
      say(message, error.message, "error");
    }
  };
  mount(
    area,
    h("p", { class: "hint" }, t("Sign out a phone or computer you no longer use, or that is not yours.")),
    h(
      "ul",
      { class: "device-list" },
      sessions.map((session) =>
        h(
          "li",
          { class: "device" },
          h(
            "div",
            {},
            h(
              "h3",
              {},
              h("span", { "data-l10n-skip": "" }, session.device),
              session.current ? h("span", { class: "status-pill on" }, t("This device")) : null,
            ),
            h(
              "p",
              { class: "hint", "data-l10n-skip": "" },
              `${t("Last used {when} · signed in {since}", { when: formatDateTime(session.last_seen_at), since: formatDateTime(session.created_at) })}${session.address ? ` · ${session.address}` : ""}`,
            ),
          ),
          h(
            "button",
            {
              type: "button",
              class: "secondary small",
              "aria-label": session.current
                ? t("Sign out {device} (this device)", { device: session.device })
                : t("Sign out {device}", { device: session.device }),
              onclick: () => endOne(session),
            },
            t("Sign out"),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: async () => {
            try {
              await api.flushOutbox(); // what this phone holds, sent first
              await api.post("/api/auth/logout-everywhere");
              await api.signedOutHere();
              navigate("#/signin");
            } catch (error) {
              say(message, error.message, "error");
            }
          },
        },
        t("Sign out everywhere"),
      ),
    ),
  );
}

function passwordForm() {
  const current = h("input", {
    type: "password",
    name: "current_password",
    autocomplete: "current-password",
    required: true,
  });
  const next = h("input", {
    type: "password",
    name: "new_password",
    autocomplete: "new-password",
    required: true,
    minlength: "10",
    maxlength: "128",
  });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true });
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "stack narrow-form", novalidate: true },
    field(t("Current password"), current),
    field(t("New password"), next, t("At least 10 characters. A few unusual words are strong and easy to remember.")),
    field(t("Repeat the new password"), repeat),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Change password"))),
  );
  submitForm(form, {
    area: message,
    check() {
      if (next.value.length < 10)
        showErrors(form, { fieldErrors: { new_password: [t("Use at least 10 characters.")] } }, message);
      else if (next.value !== repeat.value)
        showErrors(form, { fieldErrors: { repeat: [t("The two passwords are not the same.")] } }, message);
      else return true;
      return false;
    },
    async send() {
      await api.post("/api/auth/password", { current_password: current.value, new_password: next.value });
      form.reset();
      say(message, t("Password changed. Your other devices were signed out."), "success");
    },
  });
  return form;
}

function showTwoStep(area, user) {
  const staff = user.role !== "patient";
  const on = Boolean(user.second_factor);
  const explain = on
    ? t(
        "On: you sign in with your password and a code from your authenticator app. If you get a new phone, set it up again here: the app you have now keeps working until the new one is confirmed.",
      )
    : staff
      ? t("You will set it up at your next sign-in.")
      : t(
          "Off. Optional: also ask for a code from an authenticator app when you sign in, so that a stolen password alone cannot open your account.",
        );
  mount(
    area,
    h("p", {}, explain),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "button", class: "secondary", onclick: () => (on ? askProof(area, user) : replace(area, user)) },
        on ? t("Set up on a new phone") : t("Set up two-step sign-in"),
      ),
    ),
  );
}

/** Sets up an authenticator; `proof` ({password, code}) when one is in force. */
function replace(area, user, proof) {
  setUp(area, {
    proof,
    done: () => showTwoStep(area, { ...user, second_factor: true }),
    refused: (error) => askProof(area, user, error),
    intro: t("Scan this with the authenticator app on your phone."),
  });
}

/** Replacing an authenticator asks who it is first: the password and a code
 * from the app in use (or a recovery code, when that phone is lost). */
function askProof(area, user, refusal) {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = codeInput();
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h(
      "p",
      {},
      t(
        "To set up a new phone, confirm it is you: your password and a code from the app you use now (or one of your recovery codes).",
      ),
    ),
    field(t("Current password"), password),
    field(t("Code from your app or a recovery code"), code),
    message,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, t("Continue")),
      h("button", { type: "button", class: "secondary", onclick: () => showTwoStep(area, user) }, t("Cancel")),
    ),
  );
  mount(area, form);
  if (refusal) showErrors(form, refusal, message);
  password.focus();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    replace(area, user, { password: password.value, code: code.value.trim() });
  });
}
