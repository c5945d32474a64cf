// `porthole captures --mcp` for people: one line per MCP request (with its answer), notification or lone answer.
// Every value comes from captured traffic, so nothing reaches the terminal unescaped.

import type { McpEntry } from "../worker/mcp-view";
import { printable } from "./output";

/** How much of a value one line shows. */
export const MCP_LINE = { valueChars: 160 } as const;

/** A value as compact JSON, cut to MCP_LINE.valueChars. */
function compact(value: unknown): string {
  const json = printable(JSON.stringify(value) ?? "undefined");
  return json.length > MCP_LINE.valueChars ? `${json.slice(0, MCP_LINE.valueChars - 1)}…` : json;
}

function clock(t: number, now: Date): string {
  const at = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const day = at.toDateString() === now.toDateString() ? "" : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} `;
  return `${day}${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

function outcome(e: McpEntry): string {
  if (e.status === "pending") return "  … no answer yet";
  if (e.error)
    return `  ✗ error ${e.error.code ?? ""} ${printable(e.error.message)}${e.error.data === undefined ? "" : ` ${compact(e.error.data)}`}`;
  if (e.isError) return `  ✗ isError ${compact(e.result)}`;
  return e.result === undefined ? "" : `  ✓ ${compact(e.result)}`;
}

/** One entry as a line: time, direction (→ client to server, ← server to client), method, what was sent and the answer. */
export function mcpLine(e: McpEntry, now = new Date()): string {
  const arrow = e.direction === "in" ? "→" : "←";
  const id = e.id === null ? "" : ` #${printable(JSON.stringify(e.id))}`;
  const what = e.method === null ? `${e.kind === "error" ? "error" : "response"}${id} (request not seen)` : `${printable(e.method)}${id}`;
  const sent =
    e.toolName !== undefined
      ? ` ${printable(e.toolName)} ${compact(e.arguments ?? {})}`
      : e.params === undefined
        ? ""
        : ` ${compact(e.params)}`;
  const took = e.durationMs === undefined ? "" : `  ${Math.round(e.durationMs * 10) / 10} ms`;
  return `${clock(e.startedAt, now)}  ${arrow} ${what}${sent}${outcome(e)}${took}  ${e.captureId}`;
}
