// The server's APIs with the key of this tab. The key lives in sessionStorage only: gone when
// the tab closes, never in localStorage, a cookie or IndexedDB.
const KEY = "sottovoce.api_key";

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Every surface's error shape carries sottovoce's own {"error": {"code", "message"}};
// ElevenLabs' adds {"detail": {"message"}}.
async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    const error = body && typeof body.error === "object" && body.error ? body.error : null;
    if (error && error.message) message = error.message;
    else if (body && body.detail && body.detail.message) message = body.detail.message;
    if (error && error.code) code = error.code;
  } catch {
    // not JSON: the status says enough
  }
  return new ApiError(response.status, message, code);
}

export async function request(path, { method = "GET", json, body, bearer = false, signal } = {}) {
  const key = apiKey();
  // Signed out (another tab, or a page still loading): nothing is sent without a key.
  if (!key) throw new ApiError(401, "Not signed in.", "unauthorized");
  const headers = bearer ? { Authorization: `Bearer ${key}` } : { "xi-api-key": key };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body, signal, cache: "no-store", credentials: "omit" });
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson(path, options) {
  return (await request(path, options)).json();
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}
