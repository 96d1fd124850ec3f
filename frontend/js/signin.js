/** Signing in, and the invitation page where a new patient sets a password. */
import * as api from "./api.js";
import { clearErrors, field, h, heading, mount, say, showErrors, statusArea } from "./dom.js";

const MIN_PASSWORD = 10;

export function render(view, ctx) {
  return ctx.view === "invite" ? renderInvite(view, ctx) : renderSignIn(view, ctx);
}

function renderSignIn(view, { notice, navigate }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email", autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card narrow", novalidate: true }, field("Email", email), field("Password", password), message, submit);
  say(message, "");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!email.value.trim() || !password.value) {
      say(message, "Enter your email and password.", "error");
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    say(message, "Signing in…", "info");
    try {
      await api.signIn(email.value.trim(), password.value);
      say(message, "");
      navigate(location.hash.startsWith("#/invite/") ? "#/signin" : location.hash || "#/signin");
    } catch (error) {
      submit.disabled = false;
      password.value = "";
      if (error.offline) say(message, "You are offline. Connect to the internet to sign in.", "error");
      else if (error.status === 429) say(message, "Too many attempts. Please wait a few minutes and try again.", "error");
      else if (error.status === 401) say(message, "Wrong email or password.", "error");
      else showErrors(form, error, message);
      password.focus();
    }
  });
  mount(
    view,
    h(
      "section",
      { class: "signin" },
      heading("Sign in to Homeward"),
      h("p", { class: "lead" }, "Your home exercises, your pain diary and your progress — on your phone, even offline."),
      notice ? h("p", { class: "notice", role: "alert" }, notice) : null,
      form,
      h("p", { class: "hint" }, "New patient? Open the invitation link your therapist sent you to set a password."),
    ),
  );
}

function renderInvite(view, { params: [token], navigate }) {
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: MIN_PASSWORD });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true, minlength: MIN_PASSWORD });
  const message = statusArea("alert");
  const submit = h("button", { type: "submit" }, "Set password and sign in");
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field("New password", password, `At least ${MIN_PASSWORD} characters. A short sentence is easy to remember.`),
    field("Repeat the password", repeat),
    message,
    submit,
  );
  say(message, "");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (password.value.length < MIN_PASSWORD) {
      showErrors(form, { fieldErrors: { password: [`Must be at least ${MIN_PASSWORD} characters.`] } }, message);
      return;
    }
    if (password.value !== repeat.value) {
      showErrors(form, { fieldErrors: { repeat: ["The two passwords are not the same."] } }, message);
      return;
    }
    submit.disabled = true;
    try {
      await api.acceptInvite(token, password.value);
      navigate("#/today");
    } catch (error) {
      submit.disabled = false;
      if (error.offline) say(message, "You are offline. Connect to the internet to finish setting up.", "error");
      else if (error.status === 400 && !Object.keys(error.fieldErrors).length)
        say(message, "This invitation link has been used, has expired or is not valid. Ask your therapist for a new one.", "error");
      else showErrors(form, error, message);
    }
  });
  if (api.currentUser()) {
    mount(view, heading("Welcome"), h("p", {}, "You are already signed in."), h("p", {}, h("a", { href: "#/signin" }, "Continue")));
    return;
  }
  mount(
    view,
    h(
      "section",
      { class: "signin" },
      heading("Welcome to Homeward"),
      h("p", { class: "lead" }, "Your therapist has set up your home exercise programme. Choose a password to get started."),
      form,
    ),
  );
}
