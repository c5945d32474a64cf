// Draws the console model as screen lines that fit the terminal: never wider than it (a line that wraps
// would scroll the screen), never more lines than it has rows. Pure, so unit tests can draw without a terminal.

import { STATUS_CODES } from "node:http";
import type { ConsoleModel, ExchangeRow, TunnelState } from "./console-model";
import { clock, size } from "./output";

/** The terminal's size and whether it takes colours. */
export type Screen = { width: number; height: number; color: boolean; now: number };

type Style = "bold" | "dim" | "green" | "yellow" | "red" | "cyan" | "magenta";
/** A piece of a line. All text here is single-width: wire text goes through cell() first. */
type Seg = { text: string; style?: Style };
type Line = Seg[];

const SGR: Record<Style, string> = { bold: "1", dim: "2", green: "32", yellow: "33", red: "31", cyan: "36", magenta: "35" };
const LABEL = 13;
const ELLIPSIS = "…";

const seg = (text: string, style?: Style): Seg => (style ? { text, style } : { text });
const label = (name: string): Seg => seg(name.padEnd(LABEL), "dim");

/**
 * Wire text for a screen cell: everything outside printable ASCII is escaped (\u001b, \u00e9). Paths, notes and
 * reasons come from public clients: raw, they could move the cursor or retitle the window, and wide or zero-width
 * characters would break the columns.
 */
export function cell(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else out += code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** Cuts text to `width` characters, marking the cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 0 ? "" : `${chars.slice(0, width - 1).join("")}${ELLIPSIS}`;
}

/** A time span for people: 42s, 5m12s, 2h05m, 3d04h. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** A duration in ms for the request list: 3.1 ms, 1.25 s, 2m05s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return span(ms);
}

/** Fits a line to the width and turns it into text, with colour escapes when asked. */
function paint(line: Line, width: number, color: boolean): string {
  let room = width;
  let out = "";
  for (const s of line) {
    if (room <= 0) break;
    const len = [...s.text].length;
    const text = len > room ? truncate(s.text, room) : s.text;
    room -= Math.min(len, room);
    out += color && s.style ? `\x1b[${SGR[s.style]}m${text}\x1b[0m` : text;
  }
  return out;
}

function stateSegs(t: TunnelState, now: number): Seg[] {
  switch (t.state) {
    case "online":
      return [seg("online", "green"), seg(` for ${span(now - t.since)}`)];
    case "connecting":
      return [seg("connecting", "yellow")];
    case "offline":
      return [seg("offline", "red"), seg(` for ${span(now - t.since)}`)];
    case "reconnecting": {
      const left = Math.max(0, Math.ceil(((t.retryAt ?? now) - now) / 1000));
      const when = left > 0 ? `in ${left}s` : "now";
      return [seg(`reconnecting ${when}`, "yellow"), seg(` (attempt ${t.attempt ?? 1}, offline for ${span(now - t.since)})`)];
    }
    case "stopped":
      return [seg("stopped", "red")];
  }
}

function tunnelLines(t: TunnelState, now: number, compact: boolean): Line[] {
  const name = seg(t.name.padEnd(LABEL - 1), "bold");
  const forward = [seg(t.url === undefined ? "(no URL yet)" : cell(t.url), "cyan"), seg(" -> "), seg(t.target)];
  if (compact) return [[name, seg(" "), ...stateSegs(t, now), seg("  "), ...forward]];
  const lines: Line[] = [
    [name, seg(" "), ...stateSegs(t, now)],
    [label("  URL"), ...forward],
  ];
  if (t.pathUrl) lines.push([label("  Path URL"), seg(cell(t.pathUrl))]);
  lines.push([label("  Inspector"), seg(t.inspector)]);
  if (t.policy) lines.push([label("  Policy"), seg(cell(t.policy))]);
  if (t.cause && t.state !== "online") lines.push([label("  Cause"), seg(cell(t.cause), "red")]);
  return lines;
}

function counterLines(m: ConsoleModel): Line[] {
  const c = m.counters;
  const n = (value: number, style: Style) => seg(String(value), value > 0 ? style : undefined);
  const ms = (p: number) => {
    const v = m.percentile(p);
    return v === undefined ? "-" : duration(v);
  };
  return [
    [
      label("Requests"),
      seg(`${c.total} total`, "bold"),
      // 1xx only once there is one (WebSocket upgrades are 101): most tunnels never see it.
      ...[1, 2, 3, 4, 5]
        .filter((k) => k > 1 || (c.byClass[1] ?? 0) > 0)
        .flatMap((k) => [seg(`  ${k}xx `), n(c.byClass[k] ?? 0, k >= 5 ? "red" : k === 4 ? "yellow" : "green")]),
      seg("  errors "),
      n(c.errors, "red"),
      seg("  refused "),
      n(c.refused, "magenta"),
    ],
    [label("Timing"), seg(`p50 ${ms(50)}  p90 ${ms(90)}  in ${size(c.bytesIn)}  out ${size(c.bytesOut)}`)],
  ];
}

function statusSegs(r: ExchangeRow): Seg[] {
  if (r.status === 0) return [seg("ERR".padEnd(4), "red"), seg("".padEnd(13))];
  const cls = Math.floor(r.status / 100);
  const style: Style | undefined = r.refused ? "magenta" : cls >= 5 ? "red" : cls === 4 ? "yellow" : cls === 3 ? "cyan" : "green";
  const reason = STATUS_CODES[r.status];
  return [seg(`${r.status}`.padEnd(4), style), seg(truncate(reason ?? "", 12).padEnd(13), "dim")];
}

function rowLine(r: ExchangeRow, pathWidth: number, tunnelWidth: number): Line {
  const path = truncate(cell(r.path), pathWidth).padEnd(pathWidth);
  const line: Line = [seg(`${clock(r.at)}  `, "dim")];
  if (tunnelWidth > 0) line.push(seg(`${truncate(r.tunnel, tunnelWidth).padEnd(tunnelWidth)}  `));
  line.push(seg(`${truncate(cell(r.method), 7).padEnd(8)}`, "bold"), seg(`${path}  `), ...statusSegs(r));
  line.push(seg(`${r.durationMs === undefined ? "-" : duration(r.durationMs)}`.padStart(9)));
  if (r.refused) line.push(seg(`  refused: ${cell(r.note ?? "")}`, "magenta"));
  else if (r.error) line.push(seg(`  ${cell(r.error)}`, "red"));
  else if (r.note) line.push(seg(`  ${cell(r.note)}`));
  return line;
}

function requestLines(m: ConsoleModel, width: number, count: number): Line[] {
  const rows = m.rows.slice(0, Math.max(0, count));
  if (rows.length === 0) return [[seg("  (none yet: open a public URL above)", "dim")]];
  const tunnelWidth = m.tunnels.size > 1 ? Math.min(16, Math.max(...[...m.tunnels.keys()].map((k) => k.length))) : 0;
  // time, method, status with reason, duration and the gaps between them.
  const fixed = 10 + (tunnelWidth > 0 ? tunnelWidth + 2 : 0) + 8 + 2 + 17 + 9;
  const widest = Math.max(...rows.map((r) => cell(r.path).length));
  const hasNotes = rows.some((r) => r.note || r.error);
  const pathWidth = Math.max(12, Math.min(widest, width - fixed - (hasNotes ? 24 : 0)));
  return rows.map((r) => rowLine(r, pathWidth, tunnelWidth));
}

/** The whole screen: at most `height` lines, each at most `width` characters wide. */
export function renderConsole(m: ConsoleModel, s: Screen): string[] {
  const tunnels = [...m.tunnels.values()];
  const online = tunnels.filter((t) => t.state === "online").length;
  const title = `porthole  ${online}/${tunnels.length} tunnel${tunnels.length === 1 ? "" : "s"} online`;
  const hint = "Ctrl+C to quit";
  const gap = s.width - title.length - hint.length;
  const head: Line = gap >= 2 ? [seg(title, "bold"), seg(" ".repeat(gap)), seg(hint, "dim")] : [seg(title, "bold")];
  const relay: Line[] = [[label("Relay"), seg(m.relay)]];
  if (m.token) relay.push([label("Token"), seg(m.token), seg("  (log in to the inspector with it)", "dim")]);
  const build = (compact: boolean): Line[] => {
    const blank: Line[] = compact ? [] : [[]];
    return [
      head,
      ...blank,
      ...relay,
      ...blank,
      ...tunnels.flatMap((t) => tunnelLines(t, s.now, compact)),
      ...blank,
      ...counterLines(m),
      ...blank,
      [seg("Recent requests", "bold")],
    ];
  };
  // A short terminal keeps one line per tunnel, so the latest requests still show.
  let top = build(false);
  if (top.length + 3 > s.height) top = build(true);
  const lines = [...top, ...requestLines(m, s.width, s.height - top.length)].slice(0, Math.max(0, s.height));
  return lines.map((line) => paint(line, s.width, s.color));
}
