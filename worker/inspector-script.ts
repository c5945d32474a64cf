// The inspector's client script, served inline by inspector-page.ts.
//
// SECURITY: every captured value (paths, headers, bodies, events, errors, URLs) is attacker-controlled.
// This script builds DOM only with createElement + text nodes and setAttribute on an allowlist of
// inert attributes. It never uses innerHTML, outerHTML, insertAdjacentHTML or document.write, and the
// only href it ever sets is a fixed API path built with encodeURIComponent (see `apiLink`).

import { PROVIDERS } from "./webhooks/registry";

/** Client code as served: without indentation and whole-line comments. No string or regex of it spans a line, so this is safe. */
export function served(source: string): string {
  return source
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("//"))
    .join("\n");
}

/**
 * Providers whose deliveries the relay cannot sign again (it holds only their public key, or the signature travels
 * in the body): no "Replay re-signed" for them. Fixed ids from the registry, so safe inside a <script>.
 */
const CANNOT_RESIGN = Object.entries(PROVIDERS)
  .filter(([, provider]) => !provider.resign)
  .map(([id]) => id);

// Plain JavaScript, kept free of backticks, "${" and "</" so it can live in this template and a <script>.
// Its functions are shared with the MCP view (inspector-mcp-script.ts), which is served after it in the same <script>.
export const SCRIPT = `const CANNOT_RESIGN = new Set(${JSON.stringify(CANNOT_RESIGN)});\n${served(String.raw`
"use strict";
const API = "/_porthole/api/tunnels/" + encodeURIComponent(NAME);
const LIMIT = 200;
const MAX_ROWS = 1000;
const HEX_MAX = 64 * 1024;
const byId = (id) => document.getElementById(id);
const tbody = byId("rows"), detail = byId("detail"), statusLine = byId("status");
const fMethod = byId("f-method"), fStatus = byId("f-status"), fSearch = byId("f-search");

// ---- DOM building: the only way captured data reaches the page. Strings become text nodes. ----
const SAFE_ATTRS = new Set(["class", "data-testid", "data-id", "data-state", "title", "type", "value", "placeholder",
  "rows", "readonly", "spellcheck", "colspan", "tabindex", "aria-label", "autocomplete", "data-method", "data-status"]);
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (!SAFE_ATTRS.has(k)) throw new Error("attribute not allowed: " + k);
    node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
/** The one place an href is set: a fixed API path; callers pass ids through encodeURIComponent. */
function apiLink(path, label, testid) {
  const a = h("a", { class: "btn", "data-testid": testid }, label);
  a.href = API + path;
  a.download = "";
  return a;
}
function button(label, testid, onClick) {
  const b = h("button", { type: "button", "data-testid": testid }, label);
  b.addEventListener("click", onClick);
  return b;
}

// ---- Formatting ----
function fmtSize(n) {
  if (typeof n !== "number") return "";
  if (n < 1024) return n + " B";
  return n < 1048576 ? (n / 1024).toFixed(1) + " KB" : (n / 1048576).toFixed(1) + " MB";
}
function fmtMs(ms) {
  if (typeof ms !== "number") return "…";
  return ms < 1000 ? ms.toFixed(ms < 10 ? 1 : 0) + " ms" : (ms / 1000).toFixed(2) + " s";
}
function fmtTime(t) {
  return typeof t === "number" ? new Date(t).toLocaleTimeString([], { hour12: false }) : "";
}
function statusLabel(c) {
  if (c.state === "open" && !c.status) return "…";
  const code = c.status ? String(c.status) : "";
  return c.outcome && c.outcome !== "ok" ? (code + " " + c.outcome).trim() : code;
}
function statusClass(c) {
  if (c.outcome && c.outcome !== "ok") return "err";
  if (c.state === "open" && !c.status) return "open";
  const k = Math.floor(Number(c.status) / 100);
  return k >= 2 && k <= 5 ? "s" + k : "";
}
// A webhook signature verdict (the relay's, from --verify): "✓ stripe", "✗ stripe", or "✗ stripe (log)" when only logged.
function verdictBadge(v) {
  if (!v || typeof v !== "object") return null;
  const label = (v.ok ? "✓ " : "✗ ") + String(v.provider) + (!v.ok && v.mode === "log" ? " (log)" : "");
  return h("span", { class: "badge " + (v.ok ? "s2" : v.mode === "log" ? "warn" : "err"), "data-testid": "verdict",
    title: String(v.provider) + ": " + String(v.reason) + " (" + String(v.mode) + ")" }, label);
}
function headerValue(headers, name) {
  for (const p of Array.isArray(headers) ? headers : []) {
    if (Array.isArray(p) && String(p[0]).toLowerCase() === name) return String(p[1]);
  }
  return "";
}
function fromBase64(b64) {
  try {
    const s = atob(String(b64 || ""));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}
function hexdump(bytes, max) {
  const n = Math.min(bytes.length, max);
  const lines = [];
  for (let off = 0; off < n; off += 16) {
    let hex = "", ascii = "";
    for (let i = 0; i < 16; i++) {
      const b = bytes[off + i];
      if (off + i < n) {
        hex += b.toString(16).padStart(2, "0") + " ";
        ascii += b >= 32 && b < 127 ? String.fromCharCode(b) : ".";
      } else hex += "   ";
      if (i === 7) hex += " ";
    }
    lines.push(off.toString(16).padStart(8, "0") + "  " + hex + " " + ascii);
  }
  if (bytes.length > n) lines.push("… " + (bytes.length - n) + " more bytes");
  return lines.join("\n");
}
function setStatus(text, isError) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

// ---- API ----
let reloading = false;
function relogin() {
  // The session is gone: reloading the inspector URL shows the login form. Guard against a reload loop.
  let last = 0;
  try { last = Number(sessionStorage.getItem("porthole-relogin") || 0); } catch {}
  if (reloading || Date.now() - last < 10000) return setStatus("Not authorized: reload the page to log in again.", true);
  reloading = true;
  try { sessionStorage.setItem("porthole-relogin", String(Date.now())); } catch {}
  location.reload();
}
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") init.headers["X-Porthole-CSRF"] = "1";
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  if (res.status === 401) {
    relogin();
    throw new Error("not authorized");
  }
  return res;
}
async function failure(action, res) {
  const text = (await res.text().catch(() => "")).trim().slice(0, 500);
  return action + " failed: " + res.status + (text ? " " + text : "");
}

// ---- The list ----
const captures = new Map();
const rows = new Map();
let selected = null;

function matches(c) {
  const m = fMethod.value, s = fStatus.value, q = fSearch.value.trim().toLowerCase();
  if (m === "WS" ? c.kind !== "websocket" : m && c.method !== m) return false;
  if (s === "open" && c.state !== "open") return false;
  if (s === "error" && (!c.outcome || c.outcome === "ok")) return false;
  if (s === "denied" && c.outcome !== "denied") return false;
  if (s === "bad-signature" && !(c.verification && !c.verification.ok)) return false;
  if (/^[1-5]$/.test(s) && Math.floor(Number(c.status) / 100) !== Number(s)) return false;
  if (!q) return true;
  const v = c.verification || {};
  return [c.method, c.path, c.url, c.status, c.contentType, c.outcome, c.error, c.id, v.provider, v.reason].join("\n").toLowerCase().includes(q);
}
function rowCells(c) {
  return [
    h("td", { class: "muted" }, fmtTime(c.startedAt)),
    h("td", { class: "mono" }, String(c.method || ""), c.kind === "websocket" ? h("span", { class: "badge" }, "ws") : null,
      c.replayOf ? h("span", { class: "badge", title: "replay" }, "↻") : null),
    h("td", { class: "path mono", title: String(c.path || "") }, String(c.path || "")),
    h("td", { class: "num " + statusClass(c) }, statusLabel(c)),
    h("td", { class: "check", title: c.outcome === "denied" ? String(c.error || "") : null }, verdictBadge(c.verification),
      c.outcome === "denied" ? h("span", { class: "err", "data-testid": "denied-reason" }, " " + String(c.error || "denied")) : null),
    h("td", { class: "num" }, fmtMs(c.durationMs)),
    h("td", { class: "num", title: "request / response" }, fmtSize(c.requestSize) + " / " + fmtSize(c.responseSize)),
  ];
}
function updateCounts() {
  let shown = 0;
  for (const tr of rows.values()) if (!tr.hidden) shown++;
  byId("count").textContent = shown === rows.size ? rows.size + " exchanges" : shown + " of " + rows.size + " exchanges";
  byId("empty").hidden = rows.size > 0;
}
function upsert(c, fromSnapshot) {
  if (!c || typeof c.id !== "string") return;
  const prev = captures.get(c.id);
  if (fromSnapshot && prev && prev.state === "done" && c.state !== "done") return;
  captures.set(c.id, c);
  let tr = rows.get(c.id);
  if (!tr) {
    const id = c.id;
    tr = h("tr", { "data-testid": "capture-row", "data-id": id, tabindex: "0" });
    tr.addEventListener("click", () => select(id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") select(id); });
    rows.set(id, tr);
    let before = null;
    for (const other of tbody.children) {
      if (other.getAttribute("data-id") < id) { before = other; break; }
    }
    tbody.insertBefore(tr, before);
    while (rows.size > MAX_ROWS) removeRow(tbody.lastElementChild.getAttribute("data-id"));
  }
  tr.replaceChildren(...rowCells(c));
  tr.classList.toggle("selected", c.id === selected);
  tr.classList.toggle("denied", c.outcome === "denied");
  tr.hidden = !matches(c);
  updateCounts();
  if (c.id === selected && prev && prev.state === "open" && c.state === "done") loadDetail(c.id);
}
function removeRow(id) {
  rows.get(id)?.remove();
  rows.delete(id);
  captures.delete(id);
}
function clearLocal() {
  captures.clear();
  rows.clear();
  tbody.replaceChildren();
  updateCounts();
}
function applyFilters() {
  for (const [id, tr] of rows) tr.hidden = !matches(captures.get(id));
  updateCounts();
}

let buffered = null;
async function loadList() {
  // Feed messages that arrive while the snapshot loads are applied after it, so none is lost or regressed.
  buffered = [];
  try {
    const res = await api("GET", "/captures?limit=" + LIMIT);
    if (!res.ok) return setStatus(await failure("Loading captures", res), true);
    const data = await res.json();
    clearLocal();
    for (const c of (Array.isArray(data.captures) ? data.captures : []).slice().reverse()) upsert(c, true);
    const evicted = Number(data.evicted) || 0;
    setStatus(evicted ? evicted + " older exchanges were evicted" : "");
  } catch (e) {
    setStatus("Loading captures failed: " + (e && e.message), true);
  } finally {
    const pending = buffered || [];
    buffered = null;
    for (const m of pending) onFeed(m);
  }
}

// ---- The live feed ----
let feed = null, attempt = 0, retryTimer = 0;
function setFeed(state, text) {
  const el = byId("feed");
  el.setAttribute("data-state", state);
  el.textContent = text;
}
function connect() {
  const url = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + API + "/feed";
  setFeed("connecting", "connecting…");
  let sock;
  try {
    sock = new WebSocket(url);
  } catch {
    return reconnect();
  }
  feed = sock;
  sock.addEventListener("open", () => {
    attempt = 0;
    setFeed("live", "● live");
    loadList();
  });
  sock.addEventListener("message", (e) => {
    let msg;
    try { msg = JSON.parse(String(e.data)); } catch { return; }
    if (buffered) buffered.push(msg);
    else onFeed(msg);
  });
  sock.addEventListener("close", () => {
    if (feed !== sock) return;
    feed = null;
    reconnect();
  });
}
function reconnect() {
  const delay = Math.round(Math.min(15000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5));
  attempt++;
  setFeed("offline", "offline, retrying in " + (delay / 1000).toFixed(1) + " s");
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, delay);
  // A refused upgrade hides its status; a plain request tells a lost session (401) from a network blip.
  if (attempt > 1) api("GET", "/captures?limit=1").catch(() => {});
}
// Other views (the MCP view) follow the feed too.
const feedListeners = [];
function onFeed(msg) {
  if (!msg || typeof msg !== "object") return;
  if (msg.type === "start" || msg.type === "end") upsert(msg.capture, false);
  else if (msg.type === "clear") clearLocal();
  for (const listener of feedListeners) listener(msg);
}

// ---- The detail view ----
let detailSeq = 0;
function select(id) {
  selected = id;
  for (const [rid, tr] of rows) tr.classList.toggle("selected", rid === id);
  return loadDetail(id);
}
async function loadDetail(id) {
  const seq = ++detailSeq;
  let res;
  try {
    res = await api("GET", "/captures/" + encodeURIComponent(id));
  } catch (e) {
    return seq === detailSeq && detailMessage("Loading the capture failed: " + (e && e.message));
  }
  if (seq !== detailSeq) return;
  if (!res.ok) return detailMessage(await failure("Loading the capture", res));
  const cap = await res.json();
  if (seq !== detailSeq) return;
  if (!captures.has(cap.id)) upsert(cap, true);
  renderDetail(cap);
}
function detailMessage(text) {
  detail.removeAttribute("data-id");
  detail.removeAttribute("data-state");
  detail.replaceChildren(h("p", { class: "error" }, text));
}
function kvTable(pairs, testid) {
  if (!pairs.length) return h("p", { class: "muted", "data-testid": testid }, "(none)");
  return h("table", { class: "kv", "data-testid": testid },
    h("tbody", null, pairs.map((p) => h("tr", null, h("th", null, p[0]), h("td", null, p[1])))));
}
function headerPairs(headers) {
  return (Array.isArray(headers) ? headers : []).map((p) => (Array.isArray(p) ? [String(p[0]), String(p[1])] : [String(p), ""]));
}
function looksJson(type, text) {
  return /[/+]json\b/.test(type) || (!type && /^\s*[[{]/.test(text));
}
function bodyView(body, headers, testid) {
  const wrap = h("div", { "data-testid": testid });
  if (!body || (!body.size && !body.base64 && !body.text)) {
    wrap.append(h("p", { class: "muted" }, "(empty body)"));
    return wrap;
  }
  const type = headerValue(headers, "content-type").toLowerCase();
  const stored = fromBase64(body.base64);
  const info = h("p", { class: "muted" }, fmtSize(body.size), type ? " · " + type : "");
  if (body.truncated) info.append(h("span", { class: "badge warn", "data-testid": "truncated" }, "truncated: " + fmtSize(stored.length) + " stored"));
  wrap.append(info);
  const text = typeof body.text === "string" ? body.text : null;
  if (text !== null && looksJson(type, text)) {
    try {
      wrap.append(h("pre", { "data-testid": testid + "-json" }, JSON.stringify(JSON.parse(text), null, 2)));
      return wrap;
    } catch {}
  }
  if (text !== null && type.includes("application/x-www-form-urlencoded")) {
    const pairs = [...new URLSearchParams(text)];
    wrap.append(kvTable(pairs, testid + "-form"), h("details", null, h("summary", { class: "muted" }, "raw"), h("pre", null, text)));
    return wrap;
  }
  if (text !== null) wrap.append(h("pre", { "data-testid": testid + "-text" }, text));
  else wrap.append(h("pre", { "data-testid": testid + "-hex" }, hexdump(stored, HEX_MAX)));
  return wrap;
}
function eventsView(cap) {
  const events = Array.isArray(cap.events) ? cap.events : [];
  if (!events.length) return null;
  const title = events.some((e) => e.type === "ws") ? "WebSocket messages" : "Server-sent events";
  return h("section", { "data-testid": "events" },
    h("h2", null, title + " (" + events.length + ")"),
    cap.eventsTruncated ? h("p", { class: "warn" }, "Only the first events were stored.") : null,
    h("table", { class: "kv" }, h("tbody", null, events.map((e) =>
      h("tr", { "data-testid": "event" },
        h("th", { class: "num" }, typeof e.t === "number" ? e.t.toFixed(1) + " ms" : ""),
        h("th", null, e.direction === "in" ? "→ in" : "← out", e.binary ? h("span", { class: "badge" }, "bin") : null),
        h("th", { class: "num" }, fmtSize(e.size)),
        h("td", null, typeof e.text === "string" ? e.text : hexdump(fromBase64(e.base64), 4096)))))));
}
// Re-signing needs a secret the relay holds: not for a provider it only has a public key for.
function canResign(v) {
  return Boolean(v && typeof v === "object" && !CANNOT_RESIGN.has(String(v.provider)));
}
function verificationView(v) {
  if (!v || typeof v !== "object") return null;
  const fields = [["provider", String(v.provider)], ["ok", String(v.ok === true)], ["reason", String(v.reason)], ["mode", String(v.mode)]];
  if (v.handshake) fields.push(["handshake", String(v.handshake)]);
  return h("section", { "data-testid": "verification" }, h("h2", null, "Signature", verdictBadge(v)), kvTable(fields, "verification-fields"));
}
// A denied request was answered by the relay itself: say so, with the reason, instead of a bare outcome.
function outcomeView(cap) {
  if (cap.outcome === "denied") return h("p", { class: "error", "data-testid": "detail-denied" },
    "Denied by the relay: " + String(cap.error || "no reason recorded") + ". The local server never saw this request.");
  return [cap.outcome && cap.outcome !== "ok" ? h("p", { class: "error", "data-testid": "detail-outcome" }, "Outcome: " + cap.outcome) : null,
    cap.error ? h("p", { class: "error", "data-testid": "detail-error" }, "Error: " + cap.error) : null];
}
function pathDetails(path) {
  const q = path.indexOf("?");
  let decoded = path;
  try { decoded = decodeURIComponent(q < 0 ? path : path.slice(0, q)); } catch {}
  const parts = [];
  if (decoded !== (q < 0 ? path : path.slice(0, q))) parts.push(h("p", { class: "mono", "data-testid": "decoded-path" }, "decoded path: " + decoded));
  if (q >= 0) parts.push(h("h3", null, "Query"), kvTable([...new URLSearchParams(path.slice(q + 1))], "query"));
  return parts;
}
function renderDetail(cap) {
  const req = cap.request || {}, resp = cap.response;
  const id = String(cap.id);
  const enc = encodeURIComponent(id);
  const extra = h("div", { "data-testid": "detail-extra" });
  const origin = cap.replayOf ? h("p", { "data-testid": "detail-replay-of" }, "Replay of ",
    button(String(cap.replayOf), "replay-of-link", () => select(String(cap.replayOf)))) : null;
  detail.setAttribute("data-id", id);
  detail.setAttribute("data-state", String(cap.state));
  // Through h(): nested arrays flatten and null parts drop (replaceChildren would print them).
  detail.replaceChildren(h("div", null,
    h("p", { class: "mono" }, h("b", null, String(cap.method || "")), " ", String(cap.url || cap.path || "")),
    h("p", null,
      h("span", { class: statusClass(cap), "data-testid": "detail-status" }, statusLabel(cap) || "no status"),
      " · ", fmtMs(cap.durationMs), " · ", cap.startedAt ? new Date(cap.startedAt).toISOString() : "",
      cap.clientIp ? " · from " + cap.clientIp : "", cap.kind === "websocket" ? " · WebSocket" : "",
      cap.state === "open" ? h("span", { class: "badge" }, "in progress") : null),
    h("p", { class: "muted mono" }, "id " + id),
    origin,
    outcomeView(cap),
    h("div", { class: "actions" },
      button("Replay", "replay", () => replay(cap, {}, extra)),
      canResign(cap.verification) ? button("Replay re-signed", "replay-resign", () => replay(cap, { resign: true }, extra)) : null,
      button("Edit and replay", "replay-edit", () => extra.replaceChildren(editor(cap, extra))),
      button("Copy as curl", "copy-curl", () => copyCurl(cap, extra)),
      apiLink("/captures/" + enc + "/har", "HAR", "har-one")),
    extra,
    verificationView(cap.verification),
    h("h2", null, "Request"),
    pathDetails(String(cap.path || "")),
    h("h3", null, "Headers"), kvTable(headerPairs(req.headers), "request-headers"),
    h("h3", null, "Body"), bodyView(req.body, req.headers, "request-body"),
    h("h2", null, "Response"),
    resp ? [h("h3", null, "Headers"), kvTable(headerPairs(resp.headers), "response-headers"),
      h("h3", null, "Body"), bodyView(resp.body, resp.headers, "response-body")]
      : h("p", { class: "muted", "data-testid": "no-response" }, "No response."),
    eventsView(cap)));
}

// ---- Actions ----
async function replay(cap, payload, extra) {
  extra.replaceChildren(h("p", { class: "muted" }, "Replaying…"));
  try {
    const res = await api("POST", "/captures/" + encodeURIComponent(cap.id) + "/replay", payload);
    if (!res.ok) return extra.replaceChildren(h("p", { class: "error", "data-testid": "replay-error" }, await failure("Replay", res)));
    const out = await res.json();
    await select(String(out.id));
  } catch (e) {
    extra.replaceChildren(h("p", { class: "error", "data-testid": "replay-error" }, "Replay failed: " + (e && e.message)));
  }
}
function parseHeaderLines(text) {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf(":");
    if (i <= 0) throw new Error("a header line needs \"Name: value\": " + line);
    out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}
function editor(cap, extra) {
  const body = (cap.request && cap.request.body) || {};
  const hasText = typeof body.text === "string";
  const method = h("input", { "data-testid": "edit-method", value: String(cap.method || "GET"), "aria-label": "method", spellcheck: "false" });
  const path = h("input", { "data-testid": "edit-path", value: String(cap.path || "/"), "aria-label": "path", spellcheck: "false" });
  const headers = h("textarea", { "data-testid": "edit-headers", rows: "8", spellcheck: "false", "aria-label": "headers" });
  // Headers the relay or the HTTP stack derive (Host, Content-Length, X-Forwarded-*) would be wrong after an edit.
  headers.value = headerPairs(cap.request && cap.request.headers)
    .filter((p) => !DERIVED.has(p[0].toLowerCase()))
    .map((p) => p[0] + ": " + p[1])
    .join("\n");
  const text = h("textarea", { "data-testid": "edit-body", rows: "8", spellcheck: "false", "aria-label": "body" });
  text.value = hasText ? body.text : "";
  const error = h("p", { class: "error", "data-testid": "edit-error" });
  const form = h("form", { class: "editor", "data-testid": "replay-editor" },
    h("div", { class: "row" }, method, path),
    h("label", { class: "muted" }, "Headers, one per line as Name: value"), headers,
    h("label", { class: "muted" }, "Body"),
    !hasText && body.size ? h("p", { class: "muted" }, "The captured body is binary: leave this empty to resend its bytes.") : null,
    body.truncated ? h("p", { class: "warn" }, "The captured body was truncated: the text here is what gets sent.") : null,
    text, error,
    h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "replay-send" }, "Send"),
      button("Cancel", "replay-cancel", () => extra.replaceChildren())));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    let payload;
    try {
      if (!path.value.startsWith("/")) throw new Error("the path must start with /");
      payload = { method: method.value.trim().toUpperCase(), path: path.value, headers: parseHeaderLines(headers.value) };
    } catch (err) {
      error.textContent = String(err && err.message);
      return;
    }
    if (hasText || text.value !== "") payload.body = text.value;
    replay(cap, payload, extra);
  });
  return form;
}

// curl arguments are all option values (--url, -X, -H, --data-raw): nothing captured can become an option,
// and --data-raw never reads a file for a body starting with "@".
const DERIVED = new Set(["host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
  "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix", "cf-connecting-ip", "cf-ray", "cf-visitor",
  "cf-ipcountry", "cdn-loop"]);
const TOKEN_RE = /^[!#$%&'*+.^_\x60|~0-9A-Za-z-]+$/;
function shq(s) {
  return "'" + String(s).split("'").join("'\\''") + "'";
}
function curlCommand(cap) {
  const method = String(cap.method || "GET").toUpperCase();
  const body = (cap.request && cap.request.body) || {};
  const hasBody = body.size > 0 || !!body.base64;
  const args = ["curl"];
  if (method === "HEAD") args.push("--head");
  else if (method !== "GET" || hasBody) args.push("-X", shq(method));
  args.push("--globoff", "--url", shq(cap.url || location.origin + String(cap.path || "/")));
  for (const [k, v] of headerPairs(cap.request && cap.request.headers)) {
    const lower = k.toLowerCase();
    if (TOKEN_RE.test(k) && !DERIVED.has(lower) && !lower.startsWith("proxy-")) args.push("-H", shq(k + ": " + v));
  }
  if (!hasBody) return args.join(" ");
  if (typeof body.text === "string" && !body.text.includes("\u0000")) return args.concat("--data-raw", shq(body.text)).join(" ");
  return "printf %s " + shq(String(body.base64 || "")) + " | base64 -d | " + args.concat("--data-binary", "@-").join(" ");
}
async function copyCurl(cap, extra) {
  const command = curlCommand(cap);
  const note = h("p", { class: "muted", "data-testid": "curl-status" }, "Copying…");
  const box = h("textarea", { "data-testid": "curl-text", rows: "5", readonly: true, spellcheck: "false" });
  box.value = command;
  extra.replaceChildren(note, box);
  if (cap.request && cap.request.body && cap.request.body.truncated) note.after(h("p", { class: "warn" }, "The body was truncated."));
  try {
    // A clipboard permission prompt can leave the promise pending: give up after a moment.
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 1500));
    await Promise.race([navigator.clipboard.writeText(command), timeout]);
    note.textContent = "Copied to the clipboard.";
  } catch {
    note.textContent = "The clipboard is not available: select the command below and copy it.";
    box.focus();
    box.select();
  }
}
let clearArmed = 0;
async function clearAll(e) {
  const b = e.currentTarget;
  if (Date.now() - clearArmed > 3000) {
    clearArmed = Date.now();
    b.textContent = "Click again to clear";
    setTimeout(() => { b.textContent = "Clear"; }, 3000);
    return;
  }
  clearArmed = 0;
  b.textContent = "Clear";
  try {
    const res = await api("DELETE", "/captures");
    if (!res.ok) return setStatus(await failure("Clear", res), true);
    clearLocal();
    selected = null;
    detail.removeAttribute("data-id");
    detail.removeAttribute("data-state");
    detail.replaceChildren(h("p", { class: "muted" }, "Cleared."));
  } catch (err) {
    setStatus("Clear failed: " + (err && err.message), true);
  }
}

// ---- Wiring ----
byId("header-actions").prepend(apiLink("/har", "HAR of all", "har-all"));
byId("clear").addEventListener("click", clearAll);
byId("logout").addEventListener("click", async () => {
  await fetch("/_porthole/logout", { method: "POST", credentials: "same-origin", headers: { "X-Porthole-CSRF": "1" } }).catch(() => {});
  location.reload();
});
for (const el of [fMethod, fStatus]) el.addEventListener("change", applyFilters);
fSearch.addEventListener("input", applyFilters);
loadList().then(connect);
`)}`;
