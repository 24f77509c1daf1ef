// The HTTP API, called with the signed-in key.
//
// The key lives in sessionStorage only: it survives a reload of the tab (so a
// planner does not retype it) but not the tab itself, and is never put in a URL,
// a cookie or localStorage.

const KEY = "paichan.apiKey";
let onUnauthorized = () => {};

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

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/**
 * `method path` with the key; the parsed JSON answer (null for 204).
 * A non-2xx answer throws ApiError carrying the service's `detail` (and the body,
 * e.g. the violations of a refused publish); a network failure throws ApiError(0).
 */
export async function api(method, path, { body, key = storedKey(), ifMatch } = {}) {
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
