// The HTTP API, called with the signed-in key.
//
// The key lives in sessionStorage only: it survives a reload of the tab (so a
// planner does not retype it) but not the tab itself, and is never put in a URL,
// a cookie or localStorage.

const KEY = "paichan.apiKey";
let onUnauthorized = () => {};
let plant = null; // the plant the page works on; null: the default plant (the plain /v1 paths)

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/** Called when the service answers 401 to a signed-in call: the key was revoked or rotated. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** Every later call of the page goes to this plant's paths (null: the plain paths, the default plant). */
export function usePlant(plantId) {
  plant = plantId || null;
}

/** `/v1/...` of the plant: `/v1/plants/{plant}/...` (GET /v1/plants and /v1/whoami are the group's, never a plant's). */
export function plantPath(path, plantId) {
  if (!plantId || !path.startsWith("/v1/") || /^\/v1\/(plants|whoami)(?=[/?]|$)/.test(path)) return path;
  return `/v1/plants/${encodeURIComponent(plantId)}/${path.slice(4)}`;
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/**
 * `method path` with the key; the parsed JSON answer (null for 204). A `/v1` path goes to the
 * plant the page works on (usePlant), or to `plant` when given (null: the plain path, which for
 * order review is the whole group's).
 * A non-2xx answer throws ApiError carrying the service's `detail` (and the body,
 * e.g. the violations of a refused publish); a network failure throws ApiError(0).
 */
export async function api(method, path, { body, key = storedKey(), ifMatch, plant: plantId = plant } = {}) {
  path = plantPath(path, plantId);
  const headers = { Accept: "application/json", "X-API-Key": key || "" };
  if (ifMatch !== undefined) headers["If-Match"] = ifMatch; // the version the change was made from
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    // relative to the page, so that a proxy may serve the service under a path prefix
    response = await fetch(path.replace(/^\//, ""), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, String(error.message || error), null);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const detail = (parsed && parsed.detail) || response.statusText || String(response.status);
    if (response.status === 401 && key === storedKey()) onUnauthorized();
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail), parsed);
  }
  return parsed;
}
