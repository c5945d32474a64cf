// The inspector's MCP view: the tunnel's JSON-RPC traffic from GET …/mcp, each request with its answer and
// timing, notifications too, filtered by MCP method. Served after SCRIPT in the same <script>, whose helpers
// (h, button, api, failure, fmtMs, select, feedListeners) it uses.
//
// SECURITY: tool names, arguments, results and errors are attacker-controlled. They become text nodes
// through h() only; nothing here sets innerHTML or an href.

import { served } from "./inspector-script";

/** The MCP view's client code; the page puts it after SCRIPT. Kept free of backticks, "${" and "</". */
export const MCP_SCRIPT = served(String.raw`
const MCP_LIMIT = 200;
const MCP_TEXT_MAX = 20000;
const mcpPanel = byId("mcp"), mcpMethod = byId("mcp-method"), mcpEntries = byId("mcp-entries"), mcpToggle = byId("view-mcp");
let mcpSeq = 0, mcpTimer = 0;

function mcpClock(t) {
  if (typeof t !== "number") return "";
  return new Date(t).toLocaleTimeString([], { hour12: false }) + "." + String(t % 1000).padStart(3, "0");
}
function mcpStatus(e) {
  if (e.status === "pending") return ["…", "open"];
  if (e.status === "none") return ["notification", "muted"];
  if (e.isError) return ["isError", "err"];
  if (e.error) return ["error " + (e.error.code === null ? "" : e.error.code), "err"];
  return ["ok", "s2"];
}
function mcpValue(label, value, testid) {
  let text = value === undefined ? "undefined" : JSON.stringify(value, null, 2);
  if (text.length > MCP_TEXT_MAX) text = text.slice(0, MCP_TEXT_MAX) + "\n… " + (text.length - MCP_TEXT_MAX) + " more characters";
  return h("div", null, h("h3", null, label), h("pre", { "data-testid": testid }, text));
}
function mcpEntry(e) {
  const [label, cls] = mcpStatus(e);
  const what = e.method === null ? (e.kind === "error" ? "error" : "response") + " (request not seen)" : String(e.method);
  const id = String(e.captureId);
  return h("div", { class: "mcp-entry", "data-testid": "mcp-entry", "data-method": e.method === null ? "" : String(e.method), "data-status": String(e.status) },
    h("div", { class: "mcp-head" },
      h("span", { class: "muted" }, mcpClock(e.startedAt)),
      h("span", { title: e.direction === "in" ? "client to server" : "server to client" }, e.direction === "in" ? "→" : "←"),
      h("b", { class: "mono", "data-testid": "mcp-method" }, what),
      e.id === null || e.id === undefined ? null : h("span", { class: "muted mono" }, "#" + JSON.stringify(e.id)),
      typeof e.toolName === "string" ? h("span", { class: "mono", "data-testid": "mcp-tool" }, e.toolName) : null,
      h("span", { class: cls, "data-testid": "mcp-outcome" }, label),
      h("span", { class: "num" }, typeof e.durationMs === "number" ? fmtMs(e.durationMs) : ""),
      button("capture", "mcp-capture", () => { mcpShow(false); select(id); })),
    "arguments" in e ? mcpValue("arguments", e.arguments, "mcp-arguments") : null,
    "params" in e ? mcpValue("params", e.params, "mcp-params") : null,
    e.error ? mcpValue("error", e.error, "mcp-error") : null,
    "result" in e ? mcpValue("result", e.result, "mcp-result") : null);
}
function mcpRender(view, method) {
  const methods = Array.isArray(view.methods) ? view.methods.map(String) : [];
  if (method && !methods.includes(method)) methods.push(method);
  mcpMethod.replaceChildren(h("option", { value: "" }, "all MCP methods"), ...methods.map((m) => h("option", { value: m }, m)));
  mcpMethod.value = method;
  const entries = Array.isArray(view.entries) ? view.entries.slice().reverse() : [];
  mcpEntries.replaceChildren(...entries.map(mcpEntry));
  const notes = Array.isArray(view.notes) ? view.notes : [];
  // replaceChildren would print a null or an array: only nodes go in.
  byId("mcp-notes").replaceChildren(...(notes.length ? [h("details", { "data-testid": "mcp-notes" }, h("summary", { class: "muted" }, notes.length + " decoding notes"),
    h("ul", null, notes.map((n) => h("li", { class: "mono" }, String(n.captureId) + ": " + String(n.message)))))] : []));
  byId("mcp-count").textContent = entries.length + (method ? " " + method : "") + " MCP entries" + (view.complete === false ? " (newest captures only)" : "");
  byId("mcp-empty").hidden = entries.length > 0;
  mcpPanel.setAttribute("data-method", method);
  mcpPanel.setAttribute("data-state", "loaded");
}
function mcpError(text) {
  const status = byId("mcp-status");
  status.textContent = text;
  status.className = text ? "error" : "";
}
async function mcpLoad() {
  const seq = ++mcpSeq;
  const method = mcpMethod.value;
  mcpPanel.setAttribute("data-state", "loading");
  try {
    const res = await api("GET", "/mcp?limit=" + MCP_LIMIT + (method ? "&method=" + encodeURIComponent(method) : ""));
    if (seq !== mcpSeq) return;
    if (!res.ok) return mcpError(await failure("Loading MCP messages", res));
    const view = await res.json();
    if (seq !== mcpSeq) return;
    mcpError("");
    mcpRender(view, method);
  } catch (e) {
    if (seq === mcpSeq) mcpError("Loading MCP messages failed: " + (e && e.message));
  }
}
function mcpShow(on) {
  mcpPanel.hidden = !on;
  for (const id of ["list", "detail", "list-filters"]) byId(id).hidden = on;
  mcpToggle.setAttribute("aria-pressed", String(on));
  history.replaceState(null, "", on ? "#mcp" : location.pathname);
  if (on) mcpLoad();
}
// Each exchange that starts or ends may carry MCP messages: reload, at most every 400 ms.
feedListeners.push(() => {
  if (mcpPanel.hidden || mcpTimer) return;
  mcpTimer = setTimeout(() => { mcpTimer = 0; mcpLoad(); }, 400);
});
mcpToggle.addEventListener("click", () => mcpShow(mcpPanel.hidden));
mcpMethod.addEventListener("change", mcpLoad);
if (location.hash === "#mcp") mcpShow(true);
`);
