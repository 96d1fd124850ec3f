/** The programme editor: pick exercises from the library (search + category),
 * set each dose and weekdays, and save a new version (PUT). */
import * as api from "./api.js";
import { clearErrors, field, formatDay, h, heading, loading, mount, plural, say, showErrors, statusArea, todayIn, uid } from "./dom.js";

const CATEGORIES = ["stretch", "core", "mobility", "strength", "modality"];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export async function render(view, { params, navigate }) {
  const patientId = Number(params[0]);
  mount(view, heading("Edit programme"), loading());
  let patient;
  let current = null;
  try {
    patient = await api.get(`/api/patients/${patientId}`);
    current = await api.get(`/api/patients/${patientId}/programme`).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
  } catch (error) {
    mount(view, heading("Edit programme"), h("p", { role: "alert" }, error.message));
    return;
  }
  document.title = `Programme for ${patient.name} · Homeward`;
  const today = todayIn(patient.timezone);

  const itemsList = h("ol", { class: "editor-items" });
  const emptyNote = h("p", { class: "empty" }, "No exercises yet. Add some from the library.");
  const note = h("textarea", { name: "note", rows: "2", maxlength: "2000" });
  const startsOn = h("input", { type: "date", name: "starts_on", min: today, value: today, required: true });
  const message = statusArea("alert");
  say(message, "");
  const saveButton = h("button", { type: "submit" }, "Save programme");
  const form = h(
    "form",
    { class: "editor-form", novalidate: true },
    h("h2", { id: "items-title" }, "Exercises in this programme"),
    emptyNote,
    itemsList,
    h("div", { class: "grid-form" }, field("Note for this version (optional)", note, "Why it changed, e.g. “Spasms settled: adding core work.”"), field("Starts on", startsOn, "Not in the past. The current version ends the day before.")),
    message,
    h("div", { class: "actions" }, saveButton, h("a", { href: `#/patients/${patientId}`, class: "button-link secondary" }, "Cancel")),
  );

  const library = librarySection((exercise) => {
    addItem({ exercise, exercise_id: exercise.id, sets: exercise.default_sets, reps: exercise.default_reps, hold_seconds: exercise.default_hold_seconds, times_per_day: 1, days_of_week: [0, 1, 2, 3, 4, 5, 6], notes: "" }, true);
  }, isChosen);

  mount(
    view,
    h("div", { class: "page-head" }, heading(`Programme for ${patient.name}`)),
    h("p", { class: "lead" }, current ? `Version ${current.version} is in force since ${formatDay(current.starts_on)}. Saving makes a new version; the history is kept.` : "No programme is in force yet."),
    h("div", { class: "editor" }, h("section", { class: "card", "aria-labelledby": "items-title" }, form), library.section),
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
    itemsList.append(editor);
    refreshEmpty();
    if (focus) editor.querySelector("input")?.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const editors = [...itemsList.children];
    if (!editors.length) {
      say(message, "Add at least one exercise.", "error");
      library.search.focus();
      return;
    }
    const items = editors.map(readItem);
    const missingDays = editors.find((editor, index) => !items[index].days_of_week.length);
    if (missingDays) {
      say(message, `Pick at least one day for ${missingDays.dataset.name}.`, "error");
      missingDays.querySelector("input[type=checkbox]").focus();
      return;
    }
    saveButton.disabled = true;
    say(message, "Saving…", "info");
    try {
      const saved = await api.put(`/api/patients/${patientId}/programme`, { items, starts_on: startsOn.value || today, note: note.value.trim() });
      say(message, `Saved version ${saved.version}, starting ${formatDay(saved.starts_on)}.`, "success");
      navigate(`#/patients/${patientId}`);
    } catch (error) {
      saveButton.disabled = false;
      showItemErrors(editors, error);
      showErrors(form, error, message);
    }
  });
}

function showItemErrors(editors, error) {
  const itemErrors = error.fieldErrors?.items;
  if (!itemErrors || typeof itemErrors !== "object" || Array.isArray(itemErrors)) return;
  for (const [index, fields] of Object.entries(itemErrors)) {
    const editor = editors[Number(index)];
    if (!editor) continue;
    for (const [name, messages] of Object.entries(fields)) {
      const input = editor.querySelector(`[data-field="${name}"]`);
      const note = h("p", { class: "field-error" }, `${editor.dataset.name}: ${[].concat(messages).join(" ")}`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        (input.closest(".field") || input.parentElement).append(note);
      } else editor.append(note);
    }
  }
}

function numberInput(name, value, min, max) {
  return h("input", { type: "number", "data-field": name, name: uid(name), min: String(min), max: String(max), step: "1", value: String(value), required: true, inputmode: "numeric" });
}

function itemEditor(item, { remove, move }) {
  const name = item.exercise.name;
  const days = new Set(item.days_of_week);
  const times = h("select", { "data-field": "times_per_day", name: uid("times") }, [1, 2, 3, 4, 5, 6].map((n) => h("option", { value: String(n), selected: n === item.times_per_day }, n === 1 ? "Once" : n === 2 ? "Twice" : `${n} times`)));
  const legendId = uid("item");
  return h(
    "li",
    { class: "editor-item", dataset: { exerciseId: item.exercise_id, name } },
    h(
      "fieldset",
      { "aria-labelledby": legendId },
      h("legend", { id: legendId }, name),
      h("p", { class: "hint" }, item.exercise.category),
      h(
        "div",
        { class: "dose-grid" },
        field("Sets", numberInput("sets", item.sets, 1, 20)),
        field("Reps", numberInput("reps", item.reps, 1, 100)),
        field("Hold (seconds)", numberInput("hold_seconds", item.hold_seconds, 0, 3600)),
        field("Times a day", times),
      ),
      h(
        "fieldset",
        { class: "weekdays", "data-field": "days_of_week" },
        h("legend", {}, "Days"),
        WEEKDAYS.map((label, day) => {
          const id = uid("day");
          return h("span", { class: "weekday" }, h("input", { type: "checkbox", id, value: String(day), checked: days.has(day), "aria-label": WEEKDAY_NAMES[day] }), h("label", { for: id, "aria-hidden": "true" }, label));
        }),
      ),
      field("Notes for the patient", h("input", { type: "text", "data-field": "notes", name: uid("notes"), value: item.notes || "", maxlength: "1000" })),
      h(
        "div",
        { class: "item-actions" },
        h("button", { type: "button", class: "secondary small", "data-move": "-1", "aria-label": `Move up: ${name}`, onclick: () => move(-1) }, "↑ Up"),
        h("button", { type: "button", class: "secondary small", "data-move": "1", "aria-label": `Move down: ${name}`, onclick: () => move(1) }, "↓ Down"),
        h("button", { type: "button", class: "danger small", "aria-label": `Remove: ${name}`, onclick: remove }, "Remove"),
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
  const category = h("select", { name: "category" }, h("option", { value: "" }, "All categories"), CATEGORIES.map((c) => h("option", { value: c }, c[0].toUpperCase() + c.slice(1))));
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
    count.textContent = `${plural(exercises.length, "exercise")} found`;
    mount(
      results,
      exercises.map((exercise) => {
        const chosen = isChosen(exercise.id);
        return h(
          "li",
          {},
          h("div", {}, h("span", { class: "name" }, exercise.name), h("span", { class: `tag tag-${exercise.category}` }, exercise.category), h("span", { class: "sub" }, `${exercise.body_region} · ${exercise.default_sets} × ${exercise.default_reps}${exercise.default_hold_seconds ? `, hold ${exercise.default_hold_seconds} s` : ""}`)),
          h("button", { type: "button", class: "small", disabled: chosen, "aria-label": `Add: ${exercise.name}`, onclick: () => onPick(exercise) }, chosen ? "Added" : "Add"),
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
    h("h2", { id: "library-title" }, "Exercise library"),
    h("div", { class: "library-filters", role: "search" }, field("Search exercises", search), field("Category", category)),
    count,
    results,
  );
  return { section, search, refresh: () => exercises.length && draw() };
}
