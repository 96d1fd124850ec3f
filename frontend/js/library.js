/** The exercise library for staff: every exercise with its line drawing, and
 * the clinic's own pictures (up to 6) and video (one) of each: add, replace,
 * delete. The server checks each file by its content and says why it refuses
 * one; the limits are shown before the upload. */
import * as api from "./api.js";
import { field, h, heading, loading, mount, plural, say, statusArea } from "./dom.js";
import { megabytes } from "./offline-media.js";
import { picture } from "./pictures.js";

const ACCEPT_PICTURE = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic";
const ACCEPT_VIDEO = "video/mp4,video/webm";
const LIMITS = "Pictures: JPEG, PNG, WebP or HEIC up to 10 MB (their location and camera details are removed). Video: MP4 or WebM up to 50 MB.";

export async function render(view, { params }) {
  if (params?.[0]) return exerciseScreen(view, Number(params[0]));
  const search = h("input", { type: "search", name: "q", autocomplete: "off" });
  const results = h("ul", { class: "library-grid" }, loading());
  mount(view, heading("Exercise library"), h("p", { class: "lead" }, "Add your clinic's own pictures and video to any exercise. Your patients see them on Today and in their handout."), field("Search exercises", search), results);
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
  if (!pictures && !video) return exercise.clinic_id ? "Your clinic's exercise" : "Line drawing only";
  return [pictures ? plural(pictures, "picture") : null, video ? "a video" : null].filter(Boolean).join(" and ");
}

async function exerciseScreen(view, exerciseId) {
  const message = statusArea("alert");
  say(message, "");
  const body = h("div", {}, loading());
  mount(view, h("p", {}, h("a", { href: "#/library" }, "← Exercise library")), body);

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
      exercise.illustration ? h("figure", { class: "how-to" }, picture({ illustration: exercise.illustration, name: exercise.name }, "large"), h("figcaption", { class: "hint" }, exercise.illustration.alt)) : null,
      h("p", {}, exercise.instructions),
      message,
      h(
        "section",
        { class: "card", "aria-labelledby": "pictures-title" },
        h("h2", { id: "pictures-title" }, "Your clinic's pictures"),
        h("p", { class: "hint" }, LIMITS),
        pictures.length ? h("ul", { class: "media-list" }, pictures.map((m) => h("li", {}, h("img", { src: m.thumb_url, alt: `Picture ${pictures.indexOf(m) + 1} of ${exercise.name}`, loading: "lazy", width: m.width, height: m.height }), h("span", { class: "hint" }, `${m.width} × ${m.height}`), actions(exercise, m, "picture")))) : h("p", { class: "empty" }, "No pictures yet."),
        pictures.length < 6 ? chooser("Add a picture", ACCEPT_PICTURE, (file) => send("POST", `/api/exercises/${exercise.id}/media`, file, "Picture added.")) : h("p", { class: "hint" }, "Six pictures is the most: replace or delete one to add another."),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "video-title" },
        h("h2", { id: "video-title" }, "Your clinic's video"),
        video ? h("div", { class: "how-to" }, h("video", { src: video.url, controls: true, preload: "metadata", "aria-label": `Video of ${exercise.name}` }), h("p", { class: "hint" }, megabytes(video.bytes)), actions(exercise, video, "video")) : h("p", { class: "empty" }, "No video yet."),
        video ? null : chooser("Add a video", ACCEPT_VIDEO, (file) => send("POST", `/api/exercises/${exercise.id}/media`, file, "Video added.")),
      ),
    );
  }

  function actions(exercise, media, what) {
    return h(
      "div",
      { class: "row-actions" },
      chooser(`Replace ${what}`, what === "video" ? ACCEPT_VIDEO : ACCEPT_PICTURE, (file) => send("PUT", `/api/exercises/${exercise.id}/media/${media.id}`, file, `The ${what} was replaced.`), "secondary small"),
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          onclick: async () => {
            try {
              await api.del(`/api/exercises/${exercise.id}/media/${media.id}`);
              say(message, `The ${what} was deleted.`, "success");
              await load();
            } catch (error) {
              say(message, error.message, "error");
            }
          },
        },
        `Delete ${what}`,
      ),
    );
  }

  async function send(method, path, file, done) {
    const limit = file.type.startsWith("video/") ? 50 : 10;
    if (file.size > limit * 1024 * 1024) {
      say(message, `${file.name} is ${megabytes(file.size)}: the most is ${limit} MB.`, "error");
      return;
    }
    say(message, `Uploading ${file.name} (${megabytes(file.size)})…`);
    try {
      await api.upload(method, path, file);
      say(message, done, "success");
      await load();
    } catch (error) {
      say(message, error.offline ? "You are offline: try again when connected." : `${file.name}: ${error.message}`, "error");
    }
  }

  await load();
}

/** A button that opens the file picker and hands over the chosen file. */
function chooser(label, accept, onFile, className = "") {
  const input = h("input", { type: "file", accept, hidden: true }); // opened by the button
  input.addEventListener("change", () => {
    const [file] = input.files;
    input.value = "";
    if (file) onFile(file);
  });
  return h("span", {}, input, h("button", { type: "button", class: className || null, onclick: () => input.click() }, label));
}
