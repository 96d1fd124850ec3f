/** Small shared helpers: build elements without innerHTML (so no markup from
 * data ever reaches the page), show form errors, format dates and numbers. */
import { utcDate } from "./days.js";
import { N_, language, t } from "./i18n.js";

const PROPERTIES = new Set(["value", "checked", "selected", "indeterminate"]);

/** h("button", {type: "button", onclick}, "Save") → <button type="button">Save</button> */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (PROPERTIES.has(name)) el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: {label, input} where the label's `for` is the input's id. */
export function field(labelText, input, hint) {
  input.id ||= uid("field");
  const hintEl = hint ? h("p", { class: "hint", id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, labelText), input, hintEl);
}

/** A message area that screen readers announce when it changes. */
export function statusArea(kind = "status") {
  return h("div", {
    class: "message",
    role: kind === "alert" ? "alert" : "status",
    "aria-live": kind === "alert" ? "assertive" : "polite",
  });
}

export function say(area, text, tone = "info") {
  area.dataset.tone = tone;
  area.textContent = text || "";
  // a screen-reader-only live region stays in place, or its next message goes unheard
  area.hidden = !text && !area.classList.contains("visually-hidden");
}

/** Whether the `from` and `to` date inputs make a range (both chosen, the start
 * on or before the end); if not, `area` says so, else it is cleared. */
export function rangeChosen(from, to, area) {
  const chosen = Boolean(from.value && to.value && from.value <= to.value);
  say(area, chosen ? "" : t("Choose a start date on or before the end date."), chosen ? "info" : "error");
  return chosen;
}

/** Shows an API error next to the form fields it names (by their `name`). */
export function showErrors(form, error, area) {
  clearErrors(form);
  const fieldErrors = error.fieldErrors || {};
  let unplaced = [];
  for (const [name, messages] of Object.entries(fieldErrors)) {
    const text = flattenMessages(messages).join(" ");
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) {
      unplaced.push(name === "_schema" ? text : `${name}: ${text}`);
      continue;
    }
    const note = h("p", { class: "field-error", id: `${input.id}-error` }, text);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "));
    (input.closest(".field") || input.parentElement).append(note);
  }
  const summary = unplaced.length
    ? unplaced.join(" ")
    : Object.keys(fieldErrors).length
      ? t("Please check the highlighted fields.")
      : error.message;
  if (area) say(area, summary, "error");
  form.querySelector("[aria-invalid=true]")?.focus();
}

/** A form's submit, one way for all: the page stays, old errors go, `check()`
 * (optional) says whether the form may be sent (when not, it has shown why),
 * then `button` is disabled while `send()` runs, so one tap sends once. On a
 * failure the button is enabled again and `failed(error)` shows it (by default
 * next to the fields it names, the rest in `area`); after a success it stays
 * disabled (the screen moves on) unless `again` is set. */
export function submitForm(form, { button, area, check, send, failed, again = false }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (check && !check()) return;
    if (button) button.disabled = true;
    try {
      await send();
    } catch (error) {
      if (button) button.disabled = false;
      if (failed) failed(error);
      else showErrors(form, error, area);
      return;
    }
    if (button && again) button.disabled = false;
  });
}

export function clearErrors(form) {
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

function flattenMessages(messages) {
  if (Array.isArray(messages)) return messages.flatMap(flattenMessages);
  if (messages && typeof messages === "object") return Object.values(messages).flatMap(flattenMessages);
  return [String(messages)];
}

/* ---- dates: ISO "YYYY-MM-DD" strings are calendar days (days.js) ---- */

export { addDays, daysBetween, deviceToday, isoDay, todayIn } from "./days.js";

export function formatDay(iso, style = "medium") {
  if (!iso) return "–";
  const options =
    style === "long"
      ? { weekday: "long", day: "numeric", month: "long" }
      : style === "short"
        ? { day: "numeric", month: "short" }
        : { day: "numeric", month: "short", year: "numeric" };
  return new Intl.DateTimeFormat(language(), { ...options, timeZone: "UTC" }).format(utcDate(iso));
}

export function formatTime(timestamp) {
  if (!timestamp) return "";
  return new Intl.DateTimeFormat(language(), { hour: "2-digit", minute: "2-digit" }).format(new Date(timestamp));
}

export function formatDateTime(timestamp) {
  if (!timestamp) return "–";
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(timestamp));
}

export function percent(fraction) {
  if (fraction === null || fraction === undefined) return "–";
  return new Intl.NumberFormat(language(), { style: "percent", maximumFractionDigits: 0 }).format(fraction);
}

export function number(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(language(), { maximumFractionDigits: digits, useGrouping: false }).format(Number(value));
}

/** A weekday's name (0 = Monday) in the language in use: "Mon", or "Monday" when long. */
export function weekdayName(day, style = "short") {
  return new Intl.DateTimeFormat(language(), { weekday: style, timeZone: "UTC" }).format(
    new Date(Date.UTC(2024, 0, 1 + day)),
  );
}

/** A hold time as a person says it: "30 s", "15 min". */
export function holdText(seconds) {
  if (seconds >= 60 && seconds % 60 === 0) return t("{minutes} min", { minutes: seconds / 60 });
  return t("{seconds} s", { seconds });
}

/** The start of a long text for a list line (the whole stays stored): a note of
 * a megabyte would otherwise take the page seconds to lay out. */
export function excerpt(text, max = 280) {
  return text.length > max ? `${text.slice(0, max).trimEnd()}…` : text;
}

/** A screen's heading, focusable so the router can move focus to it. */
export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: level === 1 ? "-1" : null, class: level === 1 ? "page-title" : null }, text);
}

/** "Loading…" placeholder, announced politely. */
export function loading(text = t("Loading…")) {
  return h("p", { class: "loading", role: "status" }, text);
}

/** A labelled table; `columns` = [{label, value(row) → text/Node, numeric?}]. */
export function table(caption, columns, rows, { empty = t("Nothing yet."), className = "", hideCaption = false } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: `table-wrap ${className}`, role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: hideCaption ? "visually-hidden" : null }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            {},
            columns.map((c, i) =>
              i === 0 && c.rowHeader !== false
                ? h("th", { scope: "row" }, c.value(row))
                : h("td", { class: c.numeric ? "num" : null }, c.value(row)),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A button that copies `input`'s value, saying so in `area`. */
export function copyButton(input, area, label) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(input.value);
          say(area, t("Copied."), "success");
        } catch {
          input.select();
          say(area, t("Select the text and copy it."), "info");
        }
      },
    },
    label,
  );
}

const CATEGORIES = {
  stretch: N_("stretch"),
  core: N_("core"),
  mobility: N_("mobility"),
  strength: N_("strength"),
  modality: N_("modality"),
};

/** An exercise category ("stretch", "core", ...) in the language in use. */
export function categoryName(category) {
  return category in CATEGORIES ? t(CATEGORIES[category]) : category;
}
