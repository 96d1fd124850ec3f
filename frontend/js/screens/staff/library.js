/** The exercise library for staff: every exercise with its line drawing, and
 * the clinic's own pictures (up to 6) and video (one) of each: add, replace,
 * delete. The server checks each file by its content and says why it refuses
 * one; the limits are shown before the upload. */
import * as api from "../../core/api.js";
import { field, h, heading, loading, mount, say, showErrors, statusArea, uid } from "../../core/dom.js";
import { N_, t, tn } from "../../core/i18n.js";
import { megabytes } from "../../core/offline-media.js";
import { picture } from "../../core/pictures.js";

const ACCEPT_PICTURE = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic";
const ACCEPT_VIDEO = "video/mp4,video/webm";
const LIMITS = N_(
  "Pictures: JPEG, PNG, WebP or HEIC up to 10 MB (their location and camera details are removed). Video: MP4 or WebM up to 50 MB.",
);

export async function render(view, { params }) {
  if (params?.[0]) return exerciseScreen(view, Number(params[0]));
  const search = h("input", { type: "search", name: "q", autocomplete: "off" });
  const results = h("ul", { class: "library-grid" }, loading());
  mount(
    view,
    heading(t("Exercise library")),
    h(
      "p",
      { class: "lead" },
      t(
        "Add your clinic's own pictures and video to any exercise. Your patients see them on Today and in their handout.",
      ),
    ),
    field(t("Search exercises"), search),
    results,
  );
  let timer = null;

  async function load() {
    const query = search.value.trim() ? { q: search.value.trim() } : undefined;
    try {
      const exercises = await api.get("/api/exercises", query);
      mount(
        results,
        exercises.map((exercise) =>
          h(
            "li",
            { class: "library-card" },
            h(
              "a",
              { href: `#/library/${exercise.id}` },
              picture(exercise, "small"),
              h("span", { class: "name" }, exercise.name),
              h("span", { class: "sub" }, mediaSummary(exercise)),
            ),
          ),
        ),
      );
    } catch (error) {
      mount(results, h("li", { role: "alert" }, error.message));
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  await load();
}

function mediaSummary(exercise) {
  const pictures = exercise.media.filter((m) => m.kind === "image").length;
  const video = exercise.media.some((m) => m.kind === "video");
  if (!pictures && !video) return exercise.clinic_id ? t("Your clinic's exercise") : t("Line drawing only");
  const parts = [
    pictures ? tn(pictures, "{count} picture", "{count} pictures") : null,
    video ? t("a video") : null,
  ].filter(Boolean);
  return parts.length === 2 ? t("{list} and {last}", { list: parts[0], last: parts[1] }) : parts[0];
}

async function exerciseScreen(view, exerciseId) {
  const message = statusArea("alert");
  say(message, "");
  const body = h("div", {}, loading());
  mount(view, h("p", {}, h("a", { href: "#/library" }, t("← Exercise library"))), body);

  async function load() {
    let exercise;
    try {
      exercise = await api.get(`/api/exercises/${exerciseId}`);
    } catch (error) {
      mount(body, h("p", { role: "alert" }, error.message));
      return;
    }
    const pictures = exercise.media.filter((m) => m.kind === "image");
    const video = exercise.media.find((m) => m.kind === "video");
    mount(
      body,
      heading(exercise.name),
      exercise.illustration
        ? h(
            "figure",
            { class: "how-to" },
            picture({ illustration: exercise.illustration, name: exercise.name }, "large"),
            h("figcaption", { class: "hint" }, exercise.illustration.alt),
          )
        : null,
      h("p", {}, exercise.instructions),
      exercise.clinic_id ? spanishWords(exercise) : null,
      message,
      h(
        "section",
        { class: "card", "aria-labelledby": "pictures-title" },
        h("h2", { id: "pictures-title" }, t("Your clinic's pictures")),
        h("p", { class: "hint" }, t(LIMITS)),
        pictures.length
          ? h(
              "ul",
              { class: "media-list" },
              pictures.map((m) =>
                h(
                  "li",
                  {},
                  h("img", {
                    src: m.thumb_url,
                    alt: t("Picture {number} of {name}", { number: pictures.indexOf(m) + 1, name: exercise.name }),
                    loading: "lazy",
                    width: m.width,
                    height: m.height,
                  }),
                  h("span", { class: "hint" }, `${m.width} × ${m.height}`),
                  actions(exercise, m, "picture"),
                ),
              ),
            )
          : h("p", { class: "empty" }, t("No pictures yet.")),
        pictures.length < 6
          ? chooser(t("Add a picture"), ACCEPT_PICTURE, (file) =>
              send("POST", `/api/exercises/${exercise.id}/media`, file, t("Picture added.")),
            )
          : h("p", { class: "hint" }, t("Six pictures is the most: replace or delete one to add another.")),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "video-title" },
        h("h2", { id: "video-title" }, t("Your clinic's video")),
        video
          ? h(
              "div",
              { class: "how-to" },
              h("video", {
                src: video.url,
                controls: true,
                preload: "metadata",
                "aria-label": t("Video of {name}", { name: exercise.name }),
              }),
              h("p", { class: "hint" }, megabytes(video.bytes)),
              actions(exercise, video, "video"),
            )
          : h("p", { class: "empty" }, t("No video yet.")),
        video
          ? null
          : chooser(t("Add a video"), ACCEPT_VIDEO, (file) =>
              send("POST", `/api/exercises/${exercise.id}/media`, file, t("Video added.")),
            ),
      ),
    );
  }

  function actions(exercise, media, what) {
    return h(
      "div",
      { class: "row-actions" },
      chooser(
        what === "video" ? t("Replace video") : t("Replace picture"),
        what === "video" ? ACCEPT_VIDEO : ACCEPT_PICTURE,
        (file) =>
          send(
            "PUT",
            `/api/exercises/${exercise.id}/media/${media.id}`,
            file,
            what === "video" ? t("The video was replaced.") : t("The picture was replaced."),
          ),
        "secondary small",
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          onclick: async () => {
            try {
              await api.del(`/api/exercises/${exercise.id}/media/${media.id}`);
              say(message, what === "video" ? t("The video was deleted.") : t("The picture was deleted."), "success");
              await load();
            } catch (error) {
              say(message, error.message, "error");
            }
          },
        },
        what === "video" ? t("Delete video") : t("Delete picture"),
      ),
    );
  }

  async function send(method, path, file, done) {
    const limit = file.type.startsWith("video/") ? 50 : 10;
    if (file.size > limit * 1024 * 1024) {
      say(
        message,
        t("{file} is {size}: the most is {limit} MB.", { file: file.name, size: megabytes(file.size), limit }),
        "error",
      );
      return;
    }
    say(message, t("Uploading {file} ({size})…", { file: file.name, size: megabytes(file.size) }));
    try {
      await api.upload(method, path, file);
      say(message, done, "success");
      await load();
    } catch (error) {
      say(
        message,
        error.offline ? t("You are offline: try again when connected.") : `${file.name}: ${error.message}`,
        "error",
      );
    }
  }

  await load();
}

/** A clinic's own exercise in Spanish: its name and instructions, each optional
 * (English shows where one is missing). Saved as `translations.es`. */
function spanishWords(exercise) {
  const known = exercise.translations?.es || {};
  const name = h("input", {
    name: "translations.es.name",
    maxlength: "200",
    autocomplete: "off",
    lang: "es",
    value: known.name ?? "",
    id: uid("es-name"),
  });
  const instructions = h(
    "textarea",
    { name: "translations.es.instructions", rows: "4", maxlength: "5000", lang: "es", id: uid("es-instructions") },
    known.instructions ?? "",
  );
  const message = statusArea("alert");
  say(message, "");
  const form = h(
    "form",
    { class: "stack narrow-form", novalidate: true },
    field(t("Spanish name"), name),
    field(t("Spanish instructions"), instructions),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("Save Spanish words"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const es = { ...known, name: name.value.trim(), instructions: instructions.value.trim() };
    for (const [key, value] of Object.entries(es)) if (!value) delete es[key];
    const translations = { ...(exercise.translations || {}), es };
    if (!Object.keys(es).length) delete translations.es;
    try {
      const saved = await api.patch(`/api/exercises/${exercise.id}`, { translations });
      exercise.translations = saved.translations;
      say(message, t("Saved."), "success");
    } catch (error) {
      showErrors(form, error.offline ? { message: t("You are offline: try again when connected.") } : error, message);
    }
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "spanish-title" },
    h("h2", { id: "spanish-title" }, t("In Spanish")),
    h("p", { class: "hint" }, t("For patients who read Spanish. Leave a field empty to show the English.")),
    form,
  );
}

/** A button that opens the file picker and hands over the chosen file. */
function chooser(label, accept, onFile, className = "") {
  const input = h("input", { type: "file", accept, hidden: true }); // opened by the button
  input.addEventListener("change", () => {
    const [file] = input.files;
    input.value = "";
    if (file) onFile(file);
  });
  return h(
    "span",
    {},
    input,
    h("button", { type: "button", class: className || null, onclick: () => input.click() }, label),
  );
}
