/** How an exercise is shown: the clinic's own picture when it has one, else
 * the shipped line drawing (with alt text that says what the body does). */
import { h } from "./dom.js";

/** The exercise's first picture: the clinic's own, else the line drawing. */
export function picture(exercise, size = "small", extra = {}) {
  const own = exercise.media?.find((m) => m.kind === "image");
  if (own)
    return h("img", {
      class: "exercise-picture",
      src: size === "small" ? own.thumb_url : own.url,
      alt: exercise.illustration?.alt ?? `${exercise.name}, as your clinic shows it`,
      loading: "lazy",
      decoding: "async",
      width: own.width,
      height: own.height,
      ...extra,
    });
  if (exercise.illustration)
    return h("img", {
      class: "exercise-picture",
      src: exercise.illustration.url,
      alt: exercise.illustration.alt,
      loading: "lazy",
      decoding: "async",
      width: 320,
      height: 160,
      ...extra,
    });
  return null;
}
