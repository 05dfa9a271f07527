// The dashboard's only way to the server: the public REST API under /client/v4, with the
// token the operator signed in with. The token lives in sessionStorage, so it is gone when the
// browser tab is closed.

const BASE = '/client/v4';
const TOKEN_KEY = 'tandem.token';
const ACCOUNT_KEY = 'tandem.account';

/** A refused or failed API call, with the envelope's messages. */
export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join('; ') || `HTTP ${status}`);
    this.status = status;
    this.messages = messages;
  }

  /** Each message split into the field it names and the rest: `{field, text, message}`. */
  get fieldErrors() {
    return this.messages.map(fieldError);
  }
}

/**
 * The API words a field error `<field>: <text>` (`ip: ...`, `peers[30]: ...`,
 * `account.id: ...`); the field is the first name of that path, so `peers[30]` belongs to the
 * `peers` field. Messages that name no field (`line 3: ...`, `zone ... is a full zone`) have
 * `field: null`.
 */
export function fieldError(message) {
  const match = /^([a-z_]+)(?:\[\d+\])?(?:\.[a-z_]+)*: ([\s\S]*)$/.exec(message);
  if (!match || match[1] === 'line' || match[1] === 'body') {
    return { field: null, text: message, message };
  }
  return { field: match[1], text: match[2], message };
}

/** The errors of a failed call, each with the field it names (see fieldError). */
export function errorsOf(e) {
  if (e instanceof ApiError) return e.fieldErrors;
  const message = String(e?.message || e);
  return [{ field: null, text: message, message }];
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ACCOUNT_KEY);
}

export function accountId() {
  return sessionStorage.getItem(ACCOUNT_KEY);
}

export function setAccountId(id) {
  sessionStorage.setItem(ACCOUNT_KEY, id);
}

/** Called when the server says the token is not (or no longer) valid. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function send(method, path, body, extraHeaders = {}) {
  const headers = { Authorization: `Bearer ${token() || ''}`, ...extraHeaders };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, [`the server cannot be reached (${e.message})`]);
  }
  if (response.status === 401) onUnauthorized();
  return response;
}

async function envelope(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    throw new ApiError(response.status, [`HTTP ${response.status}: not a JSON answer`]);
  }
  if (!response.ok || !data.success) {
    const messages = (data.errors || []).map((e) => e.message);
    throw new ApiError(response.status, messages.length ? messages : [`HTTP ${response.status}`]);
  }
  return data;
}

/** One call; answers the envelope's `result`. */
export async function call(method, path, body) {
  return (await envelope(await send(method, path, body))).result;
}

/** One call to a list; answers `{result, info}` (info: the envelope's result_info). */
export async function page(path) {
  const data = await envelope(await send('GET', path));
  return { result: data.result, info: data.result_info || null };
}

/** Like call, but a 404 answers null (an optional object such as a zone's outgoing config). */
export async function optional(path) {
  try {
    return await call('GET', path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** A GET whose answer is text (the zone file export). */
export async function text(path) {
  const response = await send('GET', path);
  if (!response.ok) await envelope(response);
  return response.text();
}

/** A multipart upload of `file` as the field `file` (the zone file import). */
export async function upload(path, file) {
  const form = new FormData();
  form.append('file', file);
  return (await envelope(await send('POST', path, form))).result;
}

/** `?a=1&b=2` from an object, skipping empty values. */
export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return pairs.length ? `?${new URLSearchParams(pairs)}` : '';
}

export const enc = encodeURIComponent;
