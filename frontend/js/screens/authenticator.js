/** Setting up an authenticator app (TOTP): the QR code to scan, the secret to
 * type instead, a code to confirm, then the ten recovery codes, shown once.
 * Used during sign-in (staff enrol at their first sign-in) and from Account. */
import * as api from "../core/api.js";
import { copyButton, field, h, heading, mount, say, showErrors, statusArea, submitForm } from "../core/dom.js";
import { t } from "../core/i18n.js";

/** A one-time code input: digits on phones, the OS's code autofill. */
export function codeInput(name = "code") {
  return h("input", {
    name,
    inputmode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9 ]*",
    maxlength: "32",
    required: true,
    spellcheck: "false",
    autocapitalize: "none",
  });
}

/** Renders the set-up steps into `container`; `done()` runs when the person
 * has seen their recovery codes. Replacing an authenticator sends `proof`
 * ({password, code}); `refused(error)` runs when the server turns it down. */
export async function setUp(container, { done, intro, proof, refused }) {
  const message = statusArea("alert");
  say(message, t("Preparing…"), "info");
  mount(container, message);
  let enrolment;
  try {
    enrolment = await api.post("/api/auth/totp/enrol", proof);
  } catch (error) {
    if (refused && (error.status === 422 || error.status === 429)) return refused(error);
    say(message, error.offline ? t("You are offline. Connect to set up two-step sign-in.") : error.message, "error");
    return;
  }
  const qr = h("img", {
    class: "qr",
    width: "200",
    height: "200",
    alt: t("QR code to scan with your authenticator app"),
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`,
  });
  const secret = h("input", {
    type: "text",
    readonly: true,
    class: "mono",
    value: grouped(enrolment.secret),
    id: "totp-secret",
  });
  const copied = statusArea();
  say(copied, "");
  const code = codeInput();
  const submit = h("button", { type: "submit" }, t("Confirm"));
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(t("6-digit code from the app"), code),
    message,
    submit,
  );
  say(message, "");
  mount(
    container,
    h(
      "div",
      { class: "card narrow enrol" },
      heading(t("Set up two-step sign-in"), 2),
      h(
        "p",
        {},
        intro ||
          t(
            "Homeward asks for a code from an authenticator app (for example Google Authenticator, Microsoft Authenticator or 1Password) each time you sign in.",
          ),
      ),
      h(
        "ol",
        { class: "steps" },
        h("li", {}, t("Open the app and add an account.")),
        h("li", {}, t("Scan this QR code, or type the key below.")),
        h("li", {}, t("Enter the 6-digit code the app shows.")),
      ),
      h("div", { class: "qr-wrap" }, qr),
      h("label", { for: "totp-secret" }, t("Key, if you cannot scan")),
      h("div", { class: "copy-row" }, secret, copyButton(secret, copied, t("Copy key"))),
      copied,
      form,
    ),
  );
  code.focus();
  submitForm(form, {
    button: submit,
    check() {
      if (code.value.trim()) return true;
      showErrors(form, { fieldErrors: { code: [t("Enter the code the app shows.")] } }, message);
      return false;
    },
    async send() {
      const codes = await api.confirmAuthenticator(code.value.replace(/\s/g, ""));
      showRecoveryCodes(container, codes, done);
    },
    failed(error) {
      code.value = "";
      if (error.status === 401)
        say(message, t("That code does not match. Check the app's code for Homeward and try again."), "error");
      else if (error.status === 429) say(message, t("Too many attempts. Wait a few minutes and try again."), "error");
      else showErrors(form, error, message);
      code.focus();
    },
  });
}

function grouped(secret) {
  return secret.replace(/(.{4})/g, "$1 ").trim();
}

function showRecoveryCodes(container, codes, done) {
  const list = h(
    "ol",
    { class: "recovery-codes mono" },
    codes.map((code) => h("li", {}, code)),
  );
  const all = h(
    "textarea",
    { readonly: true, class: "visually-hidden", "aria-hidden": "true", tabindex: "-1" },
    codes.join("\n"),
  );
  all.value = codes.join("\n");
  const copied = statusArea();
  say(copied, "");
  const saved = h("input", { type: "checkbox", id: "codes-saved" });
  const next = h("button", { type: "button", disabled: true, onclick: () => done() }, t("Continue"));
  saved.addEventListener("change", () => {
    next.disabled = !saved.checked;
  });
  mount(
    container,
    h(
      "div",
      { class: "card narrow" },
      heading(t("Save your recovery codes"), 2),
      h(
        "p",
        {},
        t(
          "If you lose your phone, each of these codes signs you in once instead of the app's code. Keep them somewhere safe: they are shown only now.",
        ),
      ),
      list,
      all,
      h("div", { class: "actions" }, copyButton(all, copied, t("Copy codes"))),
      copied,
      h("div", { class: "check" }, saved, h("label", { for: "codes-saved" }, t("I have saved my recovery codes"))),
      h("div", { class: "actions" }, next),
    ),
  );
  container.querySelector("h2").setAttribute("tabindex", "-1");
  container.querySelector("h2").focus();
}
