/** The programme editor: pick exercises from the library (search + category),
 * set each dose and weekdays, and save a new version (PUT). */
import * as api from "../../core/api.js";
import * as bounds from "../../core/bounds.js";
import {
  categoryName,
  clearErrors,
  field,
  formatDay,
  h,
  heading,
  loading,
  mount,
  say,
  statusArea,
  todayIn,
  uid,
  weekdayName,
} from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";

const CATEGORIES = ["stretch", "core", "mobility", "strength", "modality"];

export async function render(view, { params, navigate }) {
  const patientId = Number(params[0]);
  mount(view, heading(t("Edit programme")), loading());
  let patient;
  let current;
  try {
    patient = await api.get(`/api/patients/${patientId}`);
    current = await api.get(`/api/patients/${patientId}/programme`).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
  } catch (error) {
    mount(view, heading(t("Edit programme")), h("p", { role: "alert" }, error.message));
    return;
  }
  document.title = `${t("Programme for {name}", { name: patient.name })} · Homeward`;
  // the server's bounds for an item, from its OpenAPI document: most mistakes are caught here
  const itemRules = await api
    .get("/api/openapi.json")
    .then((spec) => spec.components?.schemas?.ItemIn ?? null)
    .catch(() => null);
  const today = todayIn(patient.timezone);

  const itemsList = h("ol", { class: "editor-items" });
  const emptyNote = h("p", { class: "empty" }, t("No exercises yet. Add some from the library."));
  const note = h("textarea", { name: "note", rows: "2", maxlength: "2000" });
  const startsOn = h("input", { type: "date", name: "starts_on", min: today, value: today, required: true });
  const message = statusArea("alert");
  say(message, "");
  const saveButton = h("button", { type: "submit" }, t("Save programme"));
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const form = h(
    "form",
    { class: "editor-form", novalidate: true },
    h("h2", { id: "items-title" }, t("Exercises in this programme")),
    summary,
    emptyNote,
    itemsList,
    h(
      "div",
      { class: "grid-form" },
      field(t("Note for this version (optional)"), note, t("Why it changed, e.g. “Spasms settled: adding core work.”")),
      field(t("Starts on"), startsOn, t("Not in the past. The current version ends the day before.")),
    ),
    message,
    h(
      "div",
      { class: "actions" },
      saveButton,
      h("a", { href: `#/patients/${patientId}`, class: "button-link secondary" }, t("Cancel")),
    ),
  );

  const library = librarySection((exercise) => {
    addItem(
      {
        exercise,
        exercise_id: exercise.id,
        sets: exercise.default_sets,
        reps: exercise.default_reps,
        hold_seconds: exercise.default_hold_seconds,
        times_per_day: 1,
        days_of_week: [0, 1, 2, 3, 4, 5, 6],
        notes: "",
      },
      true,
    );
  }, isChosen);

  mount(
    view,
    h("div", { class: "page-head" }, heading(t("Programme for {name}", { name: patient.name }))),
    h(
      "p",
      { class: "lead" },
      current
        ? t("Version {version} is in force since {day}. Saving makes a new version; the history is kept.", {
            version: current.version,
            day: formatDay(current.starts_on),
          })
        : t("No programme is in force yet."),
    ),
    h(
      "div",
      { class: "editor" },
      h("section", { class: "card", "aria-labelledby": "items-title" }, form),
      library.section,
    ),
  );

  for (const item of current?.items || []) addItem(item, false);
  refreshEmpty();

  function isChosen(exerciseId) {
    return Boolean(itemsList.querySelector(`[data-exercise-id="${exerciseId}"]`));
  }

  function refreshEmpty() {
    emptyNote.hidden = itemsList.children.length > 0;
    library.refresh();
  }

  function addItem(item, focus) {
    const editor = itemEditor(item, {
      remove: () => {
        const next = editor.nextElementSibling || editor.previousElementSibling;
        editor.remove();
        refreshEmpty();
        (next?.querySelector("input") || library.search).focus();
      },
      move: (step) => {
        const sibling = step < 0 ? editor.previousElementSibling : editor.nextElementSibling;
        if (!sibling) return;
        if (step < 0) sibling.before(editor);
        else sibling.after(editor);
        editor.querySelector(`button[data-move="${step}"]`)?.focus();
      },
    });
    for (const input of editor.querySelectorAll("input[type=number][data-field]")) {
      const rule = itemRules?.properties?.[input.dataset.field];
      if (rule?.minimum !== undefined) input.min = String(rule.minimum);
      if (rule?.maximum !== undefined) input.max = String(rule.maximum);
    }
    itemsList.append(editor);
    refreshEmpty();
    if (focus) editor.querySelector("input")?.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    summary.hidden = true;
    mount(summary);
    const editors = [...itemsList.children];
    if (!editors.length) {
      say(message, t("Add at least one exercise."), "error");
      library.search.focus();
      return;
    }
    const items = editors.map(readItem);
    const found = editors.flatMap((editor, index) => itemProblems(editor, items[index], itemRules));
    if (found.length) {
      say(message, "");
      showProblems(summary, found);
      return;
    }
    saveButton.disabled = true;
    say(message, t("Saving…"), "info");
    try {
      const saved = await api.put(`/api/patients/${patientId}/programme`, {
        items,
        starts_on: startsOn.value || today,
        note: note.value.trim(),
      });
      say(
        message,
        t("Saved version {version}, starting {day}.", { version: saved.version, day: formatDay(saved.starts_on) }),
        "success",
      );
      navigate(`#/patients/${patientId}`);
    } catch (error) {
      saveButton.disabled = false;
      const refused = serverProblems(form, editors, error);
      say(message, refused.length ? "" : error.message, "error");
      if (refused.length) showProblems(summary, refused);
    }
  });
}

// How an item's fields are called in an error: the editor's own labels
const ITEM_FIELDS = {
  exercise_id: N_("Exercise"),
  sets: N_("Sets"),
  reps: N_("Reps"),
  hold_seconds: N_("Hold (seconds)"),
  times_per_day: N_("Times a day"),
  days_of_week: N_("Days"),
  notes: N_("Notes for the patient"),
};
const PROGRAMME_FIELDS = { items: N_("Exercises"), starts_on: N_("Starts on"), note: N_("Note for this version") };

/** One problem: the field to mark (and focus), and what is wrong in plain words,
 * naming the exercise and the field: "Bird dog — Reps: must be between 1 and 100." */
function itemProblem(editor, name, problem) {
  const target = editor.querySelector(`[data-field="${CSS.escape(name)}"]`);
  const text = ITEM_FIELDS[name]
    ? t("{exercise} — {field}: {problem}", { exercise: editor.dataset.name, field: t(ITEM_FIELDS[name]), problem })
    : t("{exercise}: {problem}", { exercise: editor.dataset.name, problem });
  return { target, text };
}

/** What the browser can tell before asking the server: its schema's bounds, and a day. */
function itemProblems(editor, item, rules) {
  const found = rules ? bounds.againstSchema(rules, item) : {};
  for (const input of editor.querySelectorAll("input[type=number][data-field]")) {
    if (input.validity.badInput) found[input.dataset.field] = t("must be a whole number.");
    else if (input.value === "") found[input.dataset.field] = t("is needed.");
  }
  if (!item.days_of_week.length) found.days_of_week = t("pick at least one day.");
  return Object.keys(ITEM_FIELDS)
    .filter((name) => found[name])
    .map((name) => itemProblem(editor, name, found[name]));
}

/** A 422's {"items": {"2": {"reps": [...]}}, "note": [...]} as problems, in the same words. */
function serverProblems(form, editors, error) {
  const words = (messages) =>
    [messages]
      .flat(Infinity)
      .flatMap((m) => (m && typeof m === "object" ? Object.values(m).flat(Infinity) : [m]))
      .join(" ");
  const found = [];
  for (const [name, messages] of Object.entries(error.fieldErrors || {})) {
    if (name === "items" && messages && typeof messages === "object" && !Array.isArray(messages)) {
      for (const [index, fields] of Object.entries(messages)) {
        const editor = editors[Number(index)];
        if (editor && typeof fields === "object" && !Array.isArray(fields)) {
          for (const [field, text] of Object.entries(fields)) found.push(itemProblem(editor, field, words(text)));
        } else
          found.push({
            target: null,
            text: t("{field}: {problem}", { field: t(PROGRAMME_FIELDS.items), problem: words(fields) }),
          });
      }
    } else {
      const target = form.querySelector(`[name="${CSS.escape(name)}"]`);
      const field = PROGRAMME_FIELDS[name] ? t(PROGRAMME_FIELDS[name]) : name;
      found.push({
        target,
        text: name === "_schema" ? words(messages) : t("{field}: {problem}", { field, problem: words(messages) }),
      });
    }
  }
  return found;
}

/** All the problems at once: a summary at the top linking to each field, a
 * message under each (aria-invalid, aria-describedby), focus on the first. */
function showProblems(summary, found) {
  const focusable = (target) => (target.matches("fieldset") ? target.querySelector("input") : target);
  for (const { target, text } of found) {
    if (!target) continue;
    target.id ||= uid("field");
    const existing = document.getElementById(`${target.id}-error`);
    if (existing) {
      existing.append(` ${text}`);
      continue;
    }
    const note = h("p", { class: "field-error", id: `${target.id}-error` }, text);
    target.setAttribute("aria-invalid", "true");
    target.setAttribute(
      "aria-describedby",
      [target.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "),
    );
    (target.matches("fieldset") ? target : target.closest(".field") || target.parentElement).append(note);
  }
  mount(
    summary,
    h("h3", {}, tn(found.length, "{count} problem to fix before saving", "{count} problems to fix before saving")),
    h(
      "ul",
      {},
      found.map(({ target, text }) =>
        h(
          "li",
          {},
          target
            ? h(
                "a",
                {
                  href: `#${target.id}`,
                  onclick: (event) => {
                    event.preventDefault(); // the address is the router's
                    focusable(target).focus();
                  },
                },
                text,
              )
            : text,
        ),
      ),
    ),
  );
  summary.hidden = false;
  const first = found.find((problem) => problem.target);
  (first ? focusable(first.target) : summary).focus();
}

/** A button of one exercise: its visible word, and for screen readers the same
 * word then the exercise ("Remove: Bird dog"), in any language (WCAG 2.5.3). */
function exerciseButton(props, word, name) {
  return h("button", { type: "button", ...props, "aria-label": `${word}: ${name}` }, word);
}

function numberInput(name, value, min, max) {
  return h("input", {
    type: "number",
    "data-field": name,
    name: uid(name),
    min: String(min),
    max: String(max),
    step: "1",
    value: String(value),
    required: true,
    inputmode: "numeric",
  });
}

function itemEditor(item, { remove, move }) {
  const name = item.exercise.name;
  const days = new Set(item.days_of_week);
  const times = h(
    "select",
    { "data-field": "times_per_day", name: uid("times") },
    [1, 2, 3, 4, 5, 6].map((n) =>
      h(
        "option",
        { value: String(n), selected: n === item.times_per_day },
        n === 1 ? t("Once") : n === 2 ? t("Twice") : t("{count} times", { count: n }),
      ),
    ),
  );
  const legendId = uid("item");
  return h(
    "li",
    { class: "editor-item", dataset: { exerciseId: item.exercise_id, name } },
    h(
      "fieldset",
      { "aria-labelledby": legendId },
      h("legend", { id: legendId }, name),
      h("p", { class: "hint" }, categoryName(item.exercise.category)),
      h(
        "div",
        { class: "dose-grid" },
        field(t("Sets"), numberInput("sets", item.sets, 1, 20)),
        field(t("Reps"), numberInput("reps", item.reps, 1, 100)),
        field(t("Hold (seconds)"), numberInput("hold_seconds", item.hold_seconds, 0, 3600)),
        field(t("Times a day"), times),
      ),
      h(
        "fieldset",
        { class: "weekdays", "data-field": "days_of_week" },
        h("legend", {}, t("Days")),
        [0, 1, 2, 3, 4, 5, 6].map((day) => {
          const id = uid("day");
          return h(
            "span",
            { class: "weekday" },
            h("input", {
              type: "checkbox",
              id,
              value: String(day),
              checked: days.has(day),
              "aria-label": weekdayName(day, "long"),
            }),
            h("label", { for: id, "aria-hidden": "true" }, weekdayName(day)),
          );
        }),
      ),
      field(
        t("Notes for the patient"),
        h("input", {
          type: "text",
          "data-field": "notes",
          name: uid("notes"),
          value: item.notes || "",
          maxlength: "1000",
        }),
      ),
      h(
        "div",
        { class: "item-actions" },
        // each named for its exercise after the visible word (WCAG 2.5.3), in any language
        exerciseButton({ class: "secondary small", "data-move": "-1", onclick: () => move(-1) }, t("↑ Up"), name),
        exerciseButton({ class: "secondary small", "data-move": "1", onclick: () => move(1) }, t("↓ Down"), name),
        exerciseButton({ class: "danger small", onclick: remove }, t("Remove"), name),
      ),
    ),
  );
}

function readItem(editor) {
  const value = (name) => editor.querySelector(`[data-field="${name}"]`).value;
  return {
    exercise_id: Number(editor.dataset.exerciseId),
    sets: Number(value("sets")),
    reps: Number(value("reps")),
    hold_seconds: Number(value("hold_seconds")),
    times_per_day: Number(value("times_per_day")),
    days_of_week: [...editor.querySelectorAll(".weekdays input:checked")].map((box) => Number(box.value)),
    notes: value("notes").trim(),
  };
}

/** The library: search box, category filter and an "Add" button per exercise. */
function librarySection(onPick, isChosen) {
  const search = h("input", { type: "search", name: "q", autocomplete: "off" });
  const category = h(
    "select",
    { name: "category" },
    h("option", { value: "" }, t("All categories")),
    CATEGORIES.map((c) => h("option", { value: c }, categoryName(c)[0].toUpperCase() + categoryName(c).slice(1))),
  );
  const count = h("p", { class: "hint", role: "status" });
  const results = h("ul", { class: "library-results" });
  let exercises = [];
  let timer = null;
  let ticket = 0;

  async function load() {
    const mine = ++ticket;
    const query = {};
    if (search.value.trim()) query.q = search.value.trim();
    if (category.value) query.category = category.value;
    try {
      const found = await api.get("/api/exercises", Object.keys(query).length ? query : undefined);
      if (mine !== ticket) return;
      exercises = found;
      draw();
    } catch (error) {
      count.textContent = error.message;
    }
  }

  function draw() {
    count.textContent = tn(exercises.length, "{count} exercise found", "{count} exercises found");
    mount(
      results,
      exercises.map((exercise) => {
        const chosen = isChosen(exercise.id);
        return h(
          "li",
          {},
          h(
            "div",
            {},
            h("span", { class: "name" }, exercise.name),
            h("span", { class: `tag tag-${exercise.category}` }, categoryName(exercise.category)),
            h(
              "span",
              { class: "sub" },
              `${exercise.body_region} · ${exercise.default_sets} × ${exercise.default_reps}${exercise.default_hold_seconds ? `, ${t("hold {time}", { time: t("{seconds} s", { seconds: exercise.default_hold_seconds }) })}` : ""}`,
            ),
          ),
          exerciseButton(
            { class: "small", disabled: chosen, onclick: () => onPick(exercise) },
            chosen ? t("Added") : t("Add"),
            exercise.name,
          ),
        );
      }),
    );
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  category.addEventListener("change", load);
  load();

  const section = h(
    "section",
    { class: "card library", "aria-labelledby": "library-title" },
    h("h2", { id: "library-title" }, t("Exercise library")),
    h(
      "div",
      { class: "library-filters", role: "search" },
      field(t("Search exercises"), search),
      field(t("Category"), category),
    ),
    count,
    results,
  );
  return { section, search, refresh: () => exercises.length && draw() };
}
