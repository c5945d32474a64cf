// The inspector UI: one self-contained HTML document (inline style and script, no external assets)
// that lists a tunnel's captures live with their signature verdicts and denials, shows, replays (also re-signed)
// and exports them, and shows their MCP messages. It works under `default-src 'none'; script-src 'sha256-…'`
// (worker/index.ts hashes the one inline script it serves).
//
// SECURITY: every captured value is attacker-controlled; the scripts (inspector-script.ts and
// inspector-mcp-script.ts) insert it as text only. This file escapes the few values it puts into the HTML itself.

import { MCP_SCRIPT } from "./inspector-mcp-script";
import { SCRIPT } from "./inspector-script";

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON for embedding inside a <script> element: nothing in it can close the element or start a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1d1f23;--mut:#6b7280;--line:#e3e5e8;--sel:#dbeafe;--acc:#2563eb;--bad:#b91c1c;--warn:#a16207;--ok:#15803d;--code:#f6f7f9}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#e6e6e6;--mut:#9aa0a6;--line:#2b2f35;--sel:#1e3a5f;--acc:#60a5fa;--bad:#f87171;--warn:#facc15;--ok:#4ade80;--code:#1d2024}}
*{box-sizing:border-box}body{margin:0;font:13px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg);height:100vh;display:flex;flex-direction:column}
header{display:flex;gap:8px;align-items:center;padding:6px 10px;border-bottom:1px solid var(--line);flex-wrap:wrap}
header h1{font-size:14px;margin:0 8px 0 0}.grow{flex:1}
input,select,textarea,button,.btn{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:3px 6px}
button,.btn{cursor:pointer;text-decoration:none}button:hover,.btn:hover{border-color:var(--acc)}
textarea{width:100%;font-family:ui-monospace,monospace}
main{flex:1;display:flex;min-height:0}
#list{flex:1 1 50%;overflow:auto;border-right:1px solid var(--line)}
#detail{flex:1 1 50%;overflow:auto;padding:8px 12px}
table{border-collapse:collapse;width:100%}
#list th{position:sticky;top:0;background:var(--bg);text-align:left;font-weight:600;border-bottom:1px solid var(--line)}
#list td,#list th{padding:3px 6px;white-space:nowrap}
#list td.path{max-width:0;width:100%;overflow:hidden;text-overflow:ellipsis}
#list td.check{max-width:16em;overflow:hidden;text-overflow:ellipsis}#list tr.denied td:first-child{box-shadow:inset 3px 0 var(--bad)}
#list tr[data-id]{cursor:pointer}#list tr[data-id]:hover{background:var(--code)}#list tr.selected{background:var(--sel)}
.num{text-align:right;font-variant-numeric:tabular-nums}.mono,pre,.kv td{font-family:ui-monospace,monospace;font-size:12px}
.s2{color:var(--ok)}.s3{color:var(--acc)}.s4{color:var(--warn)}.s5,.err,.error{color:var(--bad)}.open,.muted{color:var(--mut)}
.badge{display:inline-block;border:1px solid currentColor;border-radius:3px;padding:0 4px;font-size:11px;margin-left:4px}
.warn{color:var(--warn)}
pre{background:var(--code);padding:6px;margin:4px 0;white-space:pre-wrap;word-break:break-all;max-height:60vh;overflow:auto}
.kv th,.kv td{border-bottom:1px solid var(--line);padding:2px 6px;vertical-align:top;text-align:left}
.kv th{white-space:nowrap;font-weight:500;font-family:ui-monospace,monospace;font-size:12px;width:1%}
.kv td{word-break:break-all;white-space:pre-wrap}
h2{font-size:13px;margin:14px 0 4px;border-bottom:1px solid var(--line)}h3{font-size:12px;margin:8px 0 2px;color:var(--mut)}
.actions{display:flex;gap:6px;flex-wrap:wrap;margin:8px 0}
.editor{display:grid;gap:6px;margin:8px 0;padding:8px;border:1px solid var(--line);border-radius:4px}
.editor .row{display:flex;gap:6px}.editor .row input:last-child{flex:1}
#empty{padding:8px}#status{color:var(--mut)}#status.error{color:var(--bad)}
[hidden]{display:none!important}button[aria-pressed=true]{background:var(--sel)}
#mcp{flex:1;overflow:auto;padding:8px 12px}.mcp-bar{display:flex;gap:8px;align-items:center;margin-bottom:6px}
.mcp-entry{border-bottom:1px solid var(--line);padding:4px 0}.mcp-head{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.mcp-entry pre{max-height:30vh}
`;

/** The inspector page for tunnel `name`: a live list of its captures, a detail view and the MCP view. */
export function inspectorPage(name: string): string {
  const title = escapeHtml(name);
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map((m) => `<option>${m}</option>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<title>porthole · ${title}</title><style>${STYLE}</style></head>
<body>
<header>
<h1>porthole · <span data-testid="tunnel-name">${title}</span></h1>
<span id="feed" data-testid="feed-status" data-state="connecting">connecting…</span>
<button id="view-mcp" type="button" data-testid="view-mcp" aria-pressed="false" title="JSON-RPC messages: each request with its answer">MCP</button>
<span id="list-filters">
<select id="f-method" data-testid="filter-method" aria-label="method"><option value="">all methods</option>${methods}<option value="WS">WebSocket</option></select>
<select id="f-status" data-testid="filter-status" aria-label="status"><option value="">all statuses</option><option value="2">2xx</option><option value="3">3xx</option><option value="4">4xx</option><option value="5">5xx</option><option value="error">failed</option><option value="denied">denied</option><option value="bad-signature">bad signature</option><option value="open">in progress</option></select>
<input id="f-search" data-testid="search" type="search" placeholder="search" aria-label="search">
<span id="count" class="muted" data-testid="count"></span></span><span id="status" data-testid="status"></span>
<span class="grow"></span>
<span id="header-actions"><button id="clear" type="button" data-testid="clear">Clear</button> <button id="logout" type="button" data-testid="logout">Log out</button></span>
</header>
<main>
<div id="list"><table data-testid="capture-list"><thead><tr><th>time</th><th>method</th><th>path</th><th class="num">status</th><th title="webhook signature verdict; why the relay denied a request">check</th><th class="num">duration</th><th class="num">size ↑/↓</th></tr></thead>
<tbody id="rows"></tbody></table><p id="empty" class="muted" data-testid="empty">No exchanges yet: requests through tunnel ${title} appear here as they happen.</p></div>
<section id="detail" data-testid="detail"><p class="muted">Select an exchange to see its headers, body and events.</p></section>
<section id="mcp" data-testid="mcp-view" hidden>
<div class="mcp-bar"><select id="mcp-method" data-testid="mcp-method-filter" aria-label="MCP method"><option value="">all MCP methods</option></select>
<span id="mcp-count" class="muted" data-testid="mcp-count"></span><span id="mcp-status" data-testid="mcp-status"></span></div>
<div id="mcp-entries"></div><div id="mcp-notes"></div>
<p id="mcp-empty" class="muted" data-testid="mcp-empty">No MCP messages yet: JSON-RPC requests and answers through tunnel ${title} appear here.</p>
</section>
</main>
<script data-inspector>const NAME = ${scriptJson(name)};
${SCRIPT}
${MCP_SCRIPT}</script>
</body></html>`;
}

/** The login form of the inspector: POSTs `token` and `next` to /_porthole/login. */
export function loginPage(opts: { next: string; error?: string }): string {
  const error = opts.error ? `<p class="error" data-testid="login-error" role="alert">${escapeHtml(opts.error)}</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<title>porthole · log in</title><style>
body{font:14px/1.4 system-ui,sans-serif;display:flex;justify-content:center;padding-top:15vh;margin:0}
form{display:grid;gap:8px;width:min(320px,90vw)}h1{font-size:18px;margin:0}.error{color:#b91c1c;margin:0}
input,button{font:inherit;padding:6px 8px}
</style></head>
<body><form method="post" action="/_porthole/login" data-testid="login-form">
<h1>porthole inspector</h1>
<label for="token">Relay token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus data-testid="login-token">
<input type="hidden" name="next" value="${escapeHtml(opts.next)}">
${error}
<button type="submit" data-testid="login-submit">Log in</button>
</form></body></html>`;
}
