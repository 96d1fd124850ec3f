/** The pictures of the patient's current programme, kept on the phone so "How
 * to do it" works offline; videos only when the patient asks ("Save video for
 * offline"). Kept in one Cache Storage cache that the service worker answers
 * from (sw.js, with byte ranges for video); what the programme no longer holds
 * is evicted, and sign-out deletes it all. */
import { language, t } from "./i18n.js";

export const MEDIA_CACHE = "homeward-media";

/** The picture URLs (line drawings, the clinic's pictures) of routine items. */
export function pictureUrls(items) {
  const urls = new Set();
  for (const { exercise } of items) {
    if (exercise.illustration) urls.add(exercise.illustration.url);
    for (const media of exercise.media || []) if (media.kind === "image") urls.add(media.thumb_url).add(media.url);
  }
  return urls;
}

function videoUrls(items) {
  return new Set(
    items.flatMap(({ exercise }) => (exercise.media || []).filter((m) => m.kind === "video").map((m) => m.url)),
  );
}

/** Fetch the programme's pictures that are not kept yet; drop what the
 * programme no longer shows (saved videos stay while their exercise does). */
export async function keep(items) {
  if (!("caches" in self)) return;
  const cache = await caches.open(MEDIA_CACHE);
  const pictures = pictureUrls(items);
  const videos = videoUrls(items);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (!pictures.has(path) && !videos.has(path)) await cache.delete(request);
  }
  for (const url of pictures) {
    if (await cache.match(url)) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) await cache.put(url, response);
    } catch {
      return; // offline: the next visit fills in the rest
    }
  }
}

export async function isSaved(url) {
  if (!("caches" in self)) return false;
  return Boolean(await (await caches.open(MEDIA_CACHE)).match(url));
}

/** Keep a video on the phone (the whole file: the service worker answers the
 * player's byte ranges from it). Resolves to true when it is kept. */
export async function saveVideo(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok)
    throw new Error(t("The video could not be fetched ({status}).", { status: String(response.status) }));
  await (await caches.open(MEDIA_CACHE)).put(url, response);
  return true;
}

export async function removeVideo(url) {
  await (await caches.open(MEDIA_CACHE)).delete(url);
}

/** Sign-out: nothing of this user's stays. */
export async function forgetAll() {
  if ("caches" in self) await caches.delete(MEDIA_CACHE);
}

export function megabytes(bytes) {
  const digits = bytes < 10 * 1024 * 1024 ? 1 : 0;
  return t("{size} MB", {
    size: new Intl.NumberFormat(language(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
      bytes / 1024 / 1024,
    ),
  });
}
