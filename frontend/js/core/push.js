/** Web Push on this device, one module for the page (turning notifications on in
 * reminders.js, dropping them at sign-out in api.js) and the service worker
 * (renewing a subscription the browser replaced): what the server is sent. */

export const SUBSCRIPTIONS = "/api/push-subscriptions";
export const PUBLIC_KEY = "/api/push/public-key";

/** The server's key (base64url of a P-256 point) as the bytes subscribe() takes. */
export function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64.padEnd(Math.ceil(base64.length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

/** What POST /api/push-subscriptions takes. */
export function subscriptionBody(subscription) {
  const { endpoint, keys } = subscription.toJSON();
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

/** This device's subscription for `key` (base64url text or bytes). One under
 * another key is dropped first: subscribe() refuses to mix keys. */
export async function subscribe(pushManager, key) {
  const applicationServerKey = typeof key === "string" ? keyBytes(key) : new Uint8Array(key);
  const existing = await pushManager.getSubscription();
  if (existing && !sameBytes(existing.options.applicationServerKey, applicationServerKey)) await existing.unsubscribe();
  return pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false;
  const other = new Uint8Array(buffer);
  return other.length === bytes.length && other.every((byte, i) => byte === bytes[i]);
}

/** The page's current subscription, or null (no worker, no push, none yet).
 * Never asks for permission. */
export async function currentSubscription() {
  if (!("serviceWorker" in navigator) || typeof PushManager === "undefined") return null;
  const registration = await navigator.serviceWorker.getRegistration("/");
  return (await registration?.pushManager.getSubscription()) ?? null;
}
