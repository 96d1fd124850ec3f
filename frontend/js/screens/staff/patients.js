/** The therapist's patient list (a page at a time as you scroll, searched and
 * filtered on the server; the loaded rows sortable, with the adherence/pain
 * summary, unread messages and open alerts) and the form that enrols a patient
 * and shows their invitation link. */
import * as api from "../../core/api.js";
import {
  copyButton,
  field,
  formatDateTime,
  formatDay,
  h,
  heading,
  loading,
  mount,
  percent,
  say,
  statusArea,
  submitForm,
} from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

const PAGE_SIZE = 100;
const SEARCH_DELAY_MS = 300;

const COLUMNS = [
  { key: "name", label: N_("Name"), sort: (p) => p.name.toLowerCase() },
  // open alerts weigh more than unread messages; nothing waiting sorts last
  {
    key: "waiting",
    label: N_("Inbox"),
    sort: (p) => (p.open_alerts || 0) * 10000 + (p.unread_messages || 0) || null,
    numeric: true,
  },
  { key: "therapist_name", label: N_("Therapist"), sort: (p) => (p.therapist_name || "").toLowerCase() || null },
  { key: "adherence_7d", label: N_("Adherence (7 d)"), sort: (p) => p.adherence_7d, numeric: true },
  { key: "pain_latest", label: N_("Latest pain"), sort: (p) => p.pain_latest, numeric: true },
  { key: "last_activity", label: N_("Last activity"), sort: (p) => p.last_activity },
  { key: "flags", label: N_("Flags"), sort: (p) => flagsOf(p).length || null },
];

const FLAG_TEXT = {
  pain_rising: N_("Pain rising"),
  low_adherence: N_("Low adherence"),
  inactive: N_("Inactive"),
  invite_pending: N_("Invitation not accepted"),
};

function flagsOf(patient) {
  return [...(patient.flags || []), ...(patient.invite_pending ? ["invite_pending"] : [])];
}

/** One page of GET /api/patients: {patients, next} (`next`: the cursor of the
 * page after, from X-Next-Cursor, or null). */
async function patientPage(query) {
  const { items, next } = await api.getPage("/api/patients", query);
  return { patients: items, next };
}

export async function render(view, { user }) {
  const sort = {
    key: sessionStorage.getItem("patients-sort") || "name",
    direction: sessionStorage.getItem("patients-dir") || "ascending",
  };
  let patients = [];
  let next = null; // the cursor of the next page, null when all are loaded
  let loadingPage = false;
  let generation = 0; // a new search discards the answers to the old one
  const search = h("input", { type: "search", name: "q", autocomplete: "off" });
  const flag = h(
    "select",
    { name: "flag" },
    h("option", { value: "" }, t("Any")),
    Object.entries(FLAG_TEXT).map(([value, text]) => h("option", { value }, t(text))),
  );
  const alertsOnly = h("input", { type: "checkbox", name: "alert" });
  const tableArea = h("div", {}, loading());
  const count = h("p", { class: "hint", role: "status" });
  const more = h("button", { type: "button", class: "secondary load-more", hidden: true }, t("Load more patients"));
  // on a phone the patients are cards (CSS), sorted by these two in place of the table's column buttons
  const sortChoice = h(
    "select",
    { name: "sort" },
    COLUMNS.map((c) => h("option", { value: c.key }, t(c.label))),
  );
  const order = h(
    "select",
    { name: "order" },
    h("option", { value: "ascending" }, t("Ascending")),
    h("option", { value: "descending" }, t("Descending")),
  );
  const sortOnPhone = h(
    "div",
    { class: "toolbar card-sort" },
    field(t("Sort by"), sortChoice),
    field(t("Order"), order),
  );
  const enrol = enrolSection(user, (created) => {
    patients = [created, ...patients.filter((p) => p.id !== created.id)];
    draw();
  });
  mount(
    view,
    h("div", { class: "page-head" }, heading(t("Patients"))),
    enrol,
    h(
      "div",
      { class: "toolbar" },
      field(t("Search patients"), search, t("Part of a name or an email.")),
      field(t("Flag"), flag),
      h("label", { class: "check" }, alertsOnly, ` ${t("Only with open alerts")}`),
    ),
    count,
    sortOnPhone,
    tableArea,
    more,
  );
  const chooseSort = () => {
    sort.key = sortChoice.value;
    sort.direction = order.value;
    sessionStorage.setItem("patients-sort", sort.key);
    sessionStorage.setItem("patients-dir", sort.direction);
    draw();
  };
  sortChoice.addEventListener("change", chooseSort);
  order.addEventListener("change", chooseSort);

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(reload, SEARCH_DELAY_MS);
  });
  flag.addEventListener("change", reload);
  alertsOnly.addEventListener("change", reload);
  more.addEventListener("click", () => loadPage());
  // the next page comes as the button scrolls into view; a tap works too
  const observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadPage(), {
          rootMargin: "200px",
        })
      : null;
  observer?.observe(more);

  function query() {
    const asked = { limit: PAGE_SIZE };
    if (search.value.trim()) asked.q = search.value.trim();
    if (flag.value) asked.flag = flag.value;
    if (alertsOnly.checked) asked.alert = "open";
    if (next) asked.after = next;
    return asked;
  }

  function reload() {
    generation += 1;
    patients = [];
    next = null;
    loadingPage = false;
    loadPage(true);
  }

  async function loadPage(first = false) {
    if (loadingPage || (!first && !next) || !view.isConnected) return;
    loadingPage = true;
    const mine = generation;
    more.disabled = true;
    try {
      const page = await patientPage(query());
      if (mine !== generation) return;
      patients = [...patients, ...page.patients];
      next = page.next;
      draw();
    } catch (error) {
      if (mine !== generation) return;
      const text = error.offline ? t("You are offline. The patient list needs a connection.") : error.message;
      if (patients.length) say(count, text);
      else mount(tableArea, h("p", { role: "alert" }, text));
    } finally {
      if (mine === generation) {
        loadingPage = false;
        more.disabled = false;
        more.hidden = !next;
        // still in view after a short page: observing again reports it at once
        observer?.unobserve(more);
        if (next) observer?.observe(more);
      }
    }
  }

  function draw() {
    const shown = [...patients];
    const column = COLUMNS.find((c) => c.key === sort.key) || COLUMNS[0];
    const factor = sort.direction === "ascending" ? 1 : -1;
    shown.sort((a, b) => {
      const x = column.sort(a);
      const y = column.sort(b);
      if (x === y) return a.name.localeCompare(b.name);
      if (x === null || x === undefined) return 1; // blanks last either way
      if (y === null || y === undefined) return -1;
      return x < y ? -factor : factor;
    });
    count.textContent = next
      ? tn(patients.length, "{count} patient shown, more below", "{count} patients shown, more below")
      : tn(patients.length, "{count} patient", "{count} patients");
    more.hidden = !next;
    if (!patients.length) {
      const filtered = search.value.trim() || flag.value || alertsOnly.checked;
      mount(
        tableArea,
        h(
          "p",
          { class: "empty" },
          next
            ? t("None of the patients read so far match.")
            : filtered
              ? t("No patients match.")
              : t("No patients yet. Enrol your first patient above."),
        ),
      );
      return;
    }
    mount(
      tableArea,
      h(
        "div",
        { class: "table-wrap patients-table", role: "region", "aria-label": t("Patients"), tabindex: "0" },
        h(
          "table",
          { class: "patients" },
          h("caption", { class: "visually-hidden" }, t("Patients, sortable by each column")),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              COLUMNS.map((c) =>
                h(
                  "th",
                  {
                    scope: "col",
                    "aria-sort": c.key === sort.key ? sort.direction : null,
                    class: c.numeric ? "num" : null,
                  },
                  h(
                    "button",
                    { type: "button", class: "sort", onclick: () => sortBy(c.key) },
                    t(c.label),
                    h(
                      "span",
                      { class: "sort-mark", "aria-hidden": "true" },
                      c.key === sort.key ? (sort.direction === "ascending" ? " ▲" : " ▼") : " ↕",
                    ),
                  ),
                ),
              ),
            ),
          ),
          h("tbody", {}, shown.map(row)),
        ),
      ),
      h("ul", { class: "patient-cards", "aria-label": t("Patients") }, shown.map(patientCard)),
    );
    sortChoice.value = sort.key;
    order.value = sort.direction;
  }

  function sortBy(key) {
    sort.direction = sort.key === key && sort.direction === "ascending" ? "descending" : "ascending";
    sort.key = key;
    sessionStorage.setItem("patients-sort", sort.key);
    sessionStorage.setItem("patients-dir", sort.direction);
    draw();
    tableArea.querySelector(`th[aria-sort] button`)?.focus();
  }

  await loadPage(true);
}

function row(patient) {
  const flags = flagsOf(patient);
  return h(
    "tr",
    {},
    h(
      "th",
      { scope: "row" },
      h("a", { href: `#/patients/${patient.id}` }, patient.name),
      h("span", { class: "sub" }, patient.email),
    ),
    h("td", { class: "num inbox" }, inboxCell(patient)),
    h("td", {}, patient.therapist_name || "–"),
    h("td", { class: "num" }, adherenceCell(patient.adherence_7d)),
    h("td", { class: "num" }, patient.pain_latest ?? "–"),
    h("td", {}, patient.last_activity ? formatDay(patient.last_activity) : "–"),
    h("td", {}, flags.length ? flagList(flags) : "–"),
  );
}

/** A patient as a card, for a phone: the table's row without its columns. */
function patientCard(patient) {
  const flags = flagsOf(patient);
  const fact = (key, value) =>
    h("div", {}, h("dt", {}, t(COLUMNS.find((c) => c.key === key).label)), h("dd", {}, value));
  return h(
    "li",
    { class: "patient-card" },
    h("h2", {}, h("a", { href: `#/patients/${patient.id}` }, patient.name)),
    h("p", { class: "sub" }, patient.email),
    flags.length ? flagList(flags) : null,
    h(
      "dl",
      { class: "patient-facts" },
      fact("adherence_7d", adherenceCell(patient.adherence_7d)),
      fact("pain_latest", patient.pain_latest ?? "–"),
      fact("waiting", inboxCell(patient)),
      fact("last_activity", patient.last_activity ? formatDay(patient.last_activity) : "–"),
      fact("therapist_name", patient.therapist_name || "–"),
    ),
  );
}

function flagList(flags) {
  return h(
    "ul",
    { class: "flags" },
    flags.map((flag) =>
      h("li", { class: `flag flag-${flag}` }, FLAG_TEXT[flag] ? t(FLAG_TEXT[flag]) : flag.replaceAll("_", " ")),
    ),
  );
}

/** Unread messages and open alerts as two small counts, read out in words. */
function inboxCell(patient) {
  const unread = patient.unread_messages || 0;
  const alerts = patient.open_alerts || 0;
  if (!unread && !alerts)
    return h("span", { class: "hint" }, "–", h("span", { class: "visually-hidden" }, t("nothing waiting")));
  return h(
    "span",
    { class: "counts" },
    unread
      ? h(
          "span",
          { class: "count-badge messages" },
          h("span", { "aria-hidden": "true" }, `✉ ${unread}`),
          h("span", { class: "visually-hidden" }, tn(unread, "{count} unread message", "{count} unread messages")),
        )
      : null,
    alerts
      ? h(
          "span",
          { class: "count-badge alerts" },
          h("span", { "aria-hidden": "true" }, `⚠ ${alerts}`),
          h(
            "span",
            { class: "visually-hidden" },
            `${unread ? ", " : ""}${tn(alerts, "{count} open alert", "{count} open alerts")}`,
          ),
        )
      : null,
  );
}

function adherenceCell(value) {
  if (value === null || value === undefined) return "–";
  return h("span", { class: `adherence ${value < 0.5 ? "low" : value < 0.8 ? "mid" : "good"}` }, percent(value));
}

function enrolSection(user, onCreated) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const timezone = h("input", {
    name: "timezone",
    required: true,
    list: "timezones",
    value: Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/London",
    autocomplete: "off",
  });
  const condition = h("textarea", { name: "condition", rows: "2" });
  const therapist = h("select", { name: "therapist_id" }, h("option", { value: "" }, t("No therapist yet")));
  const message = statusArea("alert");
  say(message, "");
  const result = h("div", { class: "invite-result" });
  const submit = h("button", { type: "submit" }, t("Enrol patient"));
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    field(t("Full name"), name),
    field(t("Email"), email),
    field(t("Timezone"), timezone, t("The patient's own timezone decides what “today” is for them.")),
    h(
      "datalist",
      { id: "timezones" },
      zones.map((zone) => h("option", { value: zone })),
    ),
    user.role === "admin" ? field(t("Therapist"), therapist) : null,
    field(t("Condition (optional)"), condition),
    message,
    h("div", { class: "actions" }, submit),
  );
  if (user.role === "admin") {
    api.get("/api/staff").then((staff) => {
      for (const member of staff.filter((s) => s.role === "therapist" && s.active !== false))
        therapist.append(h("option", { value: String(member.id) }, member.name));
    });
  }
  submitForm(form, {
    button: submit,
    area: message,
    again: true,
    async send() {
      const body = {
        name: name.value.trim(),
        email: email.value.trim(),
        timezone: timezone.value.trim(),
        condition: condition.value.trim() || null,
      };
      if (user.role === "admin" && therapist.value) body.therapist_id = Number(therapist.value);
      const created = await api.post("/api/patients", body);
      form.reset();
      timezone.value = body.timezone;
      say(message, "");
      showInvite(result, created);
      onCreated(created);
    },
  });
  return h("details", { class: "card enrol" }, h("summary", {}, t("Enrol a patient")), form, result);
}

/** The invitation link, shown once, with a copy button. */
export function showInvite(area, enrolled) {
  const link = h("input", {
    type: "text",
    readonly: true,
    value: enrolled.invite_url,
    class: "mono",
    id: `invite-${enrolled.id}`,
  });
  const copied = statusArea();
  say(copied, "");
  mount(
    area,
    h(
      "div",
      { class: "card success", role: "status" },
      h("h3", {}, t("Invitation for {name}", { name: enrolled.name })),
      h(
        "p",
        {},
        t("Send this link to the patient. It works once and expires {when}.", {
          when: formatDateTime(enrolled.invite_expires_at),
        }),
      ),
      h("label", { for: link.id }, t("Invitation link")),
      h("div", { class: "copy-row" }, link, copyButton(link, copied, t("Copy link"))),
      copied,
    ),
  );
  link.addEventListener("focus", () => link.select());
}
