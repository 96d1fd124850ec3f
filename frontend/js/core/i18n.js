/** The PWA's words in the user's language.
 *
 * Messages are keyed by their English text, gettext style: `t("Done")` shows
 * "Done" in English and the entry for "Done" in `frontend/locales/<lang>.json`
 * in another language. Placeholders are named: `t("Hello {name}", { name })`.
 * Plurals follow `Intl.PluralRules`: `tn(n, "{count} exercise", "{count} exercises")`
 * looks up the one-form as its key, whose catalog entry is an object of the
 * language's plural categories (`{"one": "…", "other": "…"}`).
 *
 * The catalogs are files of the app shell, so the service worker precaches them
 * and Spanish works offline. English needs no catalog. A missing or empty entry
 * falls back to English; `tests/test_i18n_catalog.py` fails on any of them.
 */

export const LANGUAGES = { en: "English", es: "Español" };
const STORED = "homeward-language";

let current = "en";
let messages = {};

/** The language in use ("en", "es"). */
export function language() {
  return current;
}

/** The first supported language among a browser's preferred ones, else English. */
export function fromBrowser(preferred = navigator.languages || [navigator.language]) {
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return "en";
}

/** What this device used last (before the account says otherwise), else the browser's. */
export function remembered() {
  try {
    const stored = localStorage.getItem(STORED);
    if (stored in LANGUAGES) return stored;
  } catch {
    // storage may be unavailable (private mode): the browser's language then
  }
  return fromBrowser();
}

/** Loads a language's catalog and makes it current; unknown codes mean English.
 * Keeps English if the catalog cannot be read, rather than showing nothing. */
export async function setLanguage(code) {
  const wanted = code in LANGUAGES ? code : "en";
  let loaded = {};
  if (wanted !== "en") {
    try {
      const response = await fetch(new URL(`../../locales/${wanted}.json`, import.meta.url));
      if (!response.ok) throw new Error(`catalog ${wanted}: ${response.status}`);
      loaded = await response.json();
    } catch (error) {
      console.warn("Homeward: keeping English;", error);
      return current;
    }
  }
  messages = loaded;
  current = wanted;
  document.documentElement.lang = wanted;
  try {
    localStorage.setItem(STORED, wanted);
  } catch {
    // not remembered on this device; the account still holds it
  }
  return current;
}

function formatValue(value) {
  // no thousands separators: counts and limits read as the English did ("2000")
  return typeof value === "number"
    ? new Intl.NumberFormat(current, { useGrouping: false, maximumFractionDigits: 2 }).format(value)
    : String(value ?? "");
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? formatValue(params[name]) : whole));
}

/** Marks an English text as a message without translating it (gettext's N_):
 * for tables of words made at import, translated with t() when shown, since the
 * language can change after import. The catalog test reads these keys too. */
export const N_ = (key) => key;

/** The message for `key` (its English text) in the current language. */
export function t(key, params = {}) {
  const entry = messages[key];
  return fill(typeof entry === "string" && entry ? entry : key, params);
}

/** A count in words: `tn(3, "{count} exercise", "{count} exercises")`. */
export function tn(count, one, other, params = {}) {
  const category = new Intl.PluralRules(current).select(count);
  const entry = messages[one];
  let text;
  if (entry && typeof entry === "object" && (entry[category] || entry.other)) {
    text = entry[category] || entry.other;
  } else {
    text = category === "one" ? one : other;
  }
  return fill(text, { count, ...params });
}
