/** Signing in (password, then a code for staff and those who chose two-step
 * sign-in), "Forgot password?", the reset link's page, and the invitation
 * page where a new patient or staff member sets a password. */
import * as api from "../core/api.js";
import { codeInput, setUp } from "./authenticator.js";
import { field, h, heading, mount, say, showErrors, statusArea, submitForm } from "../core/dom.js";
import { t } from "../core/i18n.js";

const MIN_PASSWORD = 10;
const MAX_PASSWORD = 128;

export function render(view, ctx) {
  const screens = { invite: renderInvite, forgot: renderForgot, reset: renderReset };
  return (screens[ctx.view] || renderSignIn)(view, ctx);
}

function page(view, title, lead, ...content) {
  mount(
    view,
    h("section", { class: "signin" }, heading(title), lead ? h("p", { class: "lead" }, lead) : null, ...content),
  );
}

/** Where a finished sign-in goes: the page asked for, or the person's home. */
function onward(navigate) {
  const hash = location.hash;
  const away = ["#/invite/", "#/reset/", "#/forgot"].some((prefix) => hash.startsWith(prefix));
  navigate(away ? "#/signin" : hash || "#/signin");
}

function renderSignIn(view, { notice, navigate }) {
  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "username",
    required: true,
    inputmode: "email",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, t("Sign in"));
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field(t("Email"), email),
    field(t("Password"), password),
    message,
    submit,
  );
  say(message, "");
  submitForm(form, {
    button: submit,
    check() {
      if (email.value.trim() && password.value) return true;
      say(message, t("Enter your email and password."), "error");
      (email.value.trim() ? password : email).focus();
      return false;
    },
    async send() {
      say(message, t("Signing in…"), "info");
      const result = await api.signIn(email.value.trim(), password.value);
      say(message, "");
      if (result.step) nextStep(view, result.step, navigate);
      else onward(navigate);
    },
    failed(error) {
      password.value = "";
      if (error.offline) say(message, t("You are offline. Connect to the internet to sign in."), "error");
      else if (error.status === 429)
        say(
          message,
          error.payload.message?.startsWith("Too many attempts on this account")
            ? error.payload.message
            : t("Too many attempts. Please wait a few minutes and try again."),
          "error",
        );
      else if (error.status === 401) say(message, t("Wrong email or password."), "error");
      else showErrors(form, error, message);
      password.focus();
    },
  });
  page(
    view,
    t("Sign in to Homeward"),
    t("Your home exercises, your pain diary and your progress — on your phone, even offline."),
    notice ? h("p", { class: "notice", role: "alert" }, notice) : null,
    form,
    h("p", { class: "center" }, h("a", { href: "#/forgot" }, t("Forgot password?"))),
    h("p", { class: "hint" }, t("New patient? Open the invitation link your therapist sent you to set a password.")),
  );
}

/** The second step of a sign-in: a code, or setting up the app first. */
function nextStep(view, step, navigate) {
  if (step === "enrol") {
    const area = h("div");
    page(
      view,
      t("One more step"),
      t("Staff sign in with a password and a code from an authenticator app. Set it up now: it takes a minute."),
      area,
    );
    setUp(area, { done: () => onward(navigate) });
    return;
  }
  const code = codeInput();
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, t("Sign in"));
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field(
      t("6-digit code"),
      code,
      t(
        "Open your authenticator app and enter the code it shows for Homeward. Lost your phone? Enter one of your recovery codes instead.",
      ),
    ),
    message,
    submit,
  );
  say(message, "");
  submitForm(form, {
    button: submit,
    check() {
      if (code.value.trim()) return true;
      showErrors(form, { fieldErrors: { code: [t("Enter the code from the app.")] } }, message);
      return false;
    },
    async send() {
      await api.secondStep(code.value.replace(/\s/g, ""));
      onward(navigate);
    },
    failed(error) {
      code.value = "";
      if (error.status === 401 && error.payload.message === "Sign in first.")
        say(message, t("This sign-in took too long. Start again with your email and password."), "error");
      else if (error.status === 401)
        say(message, t("That code is wrong or was used already. Wait for the next code and try again."), "error");
      else if (error.status === 429)
        say(message, t("Too many wrong codes. Wait a few minutes, then sign in again."), "error");
      else showErrors(form, error, message);
      code.focus();
    },
  });
  page(
    view,
    t("Enter your code"),
    null,
    form,
    h("p", { class: "center" }, h("a", { href: "#/signin", onclick: () => location.reload() }, t("Start again"))),
  );
  code.focus();
}

function newPasswordFields() {
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "new-password",
    required: true,
    minlength: MIN_PASSWORD,
    maxlength: MAX_PASSWORD,
  });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true });
  const fields = [
    field(
      t("New password"),
      password,
      t("At least {count} characters. A few unusual words are strong and easy to remember.", { count: MIN_PASSWORD }),
    ),
    field(t("Repeat the password"), repeat),
  ];
  /** Errors we can tell before asking the server (it also judges how guessable). */
  function problems() {
    if (password.value.length < MIN_PASSWORD)
      return { password: [t("Use at least {count} characters.", { count: MIN_PASSWORD })] };
    if (password.value.length > MAX_PASSWORD)
      return { password: [t("Use at most {count} characters.", { count: MAX_PASSWORD })] };
    if (password.value !== repeat.value) return { repeat: [t("The two passwords are not the same.")] };
    return null;
  }
  return { password, fields, problems };
}

/** The form that sets a password from an emailed link (an invitation or a
 * password reset): `send(password)` stores it and shows what follows; when the
 * server refuses the link itself, `spent` says so. */
function newPasswordForm(submitLabel, { send, offline, spent }) {
  const choose = newPasswordFields();
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { class: "card narrow", novalidate: true }, ...choose.fields, message, submit);
  say(message, "");
  submitForm(form, {
    button: submit,
    check() {
      const problems = choose.problems();
      if (problems) showErrors(form, { fieldErrors: problems }, message);
      return !problems;
    },
    send: () => send(choose.password.value),
    failed(error) {
      if (error.offline) say(message, offline, "error");
      else if (error.status === 400 && !Object.keys(error.fieldErrors).length) say(message, spent, "error");
      else showErrors(form, error, message);
    },
  });
  return form;
}

function renderInvite(view, { params: [token], navigate }) {
  if (api.currentUser()) {
    page(
      view,
      t("Welcome"),
      null,
      h("p", {}, t("You are already signed in.")),
      h("p", {}, h("a", { href: "#/signin" }, t("Continue"))),
    );
    return;
  }
  const form = newPasswordForm(t("Set password and sign in"), {
    async send(password) {
      const result = await api.acceptInvite(token, password);
      if (result.step) nextStep(view, result.step, navigate);
      else navigate("#/today");
    },
    offline: t("You are offline. Connect to the internet to finish setting up."),
    spent: t("This invitation link has been used, has expired or is not valid. Ask for a new one."),
  });
  page(view, t("Welcome to Homeward"), t("Choose a password to get started."), form);
}

function renderForgot(view) {
  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "username",
    required: true,
    inputmode: "email",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, t("Send me a link"));
  const form = h("form", { class: "card narrow", novalidate: true }, field(t("Email"), email), message, submit);
  say(message, "");
  submitForm(form, {
    button: submit,
    check() {
      if (email.value.trim()) return true;
      showErrors(form, { fieldErrors: { email: [t("Enter the email you sign in with.")] } }, message);
      return false;
    },
    async send() {
      await api.post("/api/auth/password-reset", { email: email.value.trim() });
      mount(
        form,
        h(
          "p",
          { role: "status" },
          t(
            "If {email} belongs to a Homeward account, an email with a link is on its way. The link works once, for an hour.",
            { email: email.value.trim() },
          ),
        ),
        h("p", {}, h("a", { href: "#/signin" }, t("Back to sign in"))),
      );
    },
    failed(error) {
      if (error.offline) say(message, t("You are offline. Connect to the internet and try again."), "error");
      else if (error.status === 429) say(message, t("Too many requests. Please wait a while and try again."), "error");
      else showErrors(form, error, message);
    },
  });
  page(
    view,
    t("Forgot your password?"),
    t("Enter your email and we will send you a link to choose a new one."),
    form,
    h("p", { class: "center" }, h("a", { href: "#/signin" }, t("Back to sign in"))),
  );
}

function renderReset(view, { params: [token] }) {
  const form = newPasswordForm(t("Save the new password"), {
    async send(password) {
      await api.post("/api/auth/password-reset/confirm", { token, password });
      await api.signedOutHere();
      mount(
        form,
        h("p", { role: "status" }, t("Your new password is saved. Every device was signed out.")),
        h("p", {}, h("a", { href: "#/signin", class: "button-link" }, t("Sign in"))),
      );
    },
    offline: t("You are offline. Connect to the internet and try again."),
    spent: t("This link has been used or has expired. Ask for a new one from the sign-in page."),
  });
  page(
    view,
    t("Choose a new password"),
    t("You will be signed out everywhere and can sign in with the new password."),
    form,
  );
}
