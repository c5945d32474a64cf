// The MCP view of a tunnel's captures: JSON-RPC messages (decoded by mcp-decode.ts) with each request
// paired to its response by id, within one exchange or across exchanges of the same session (the legacy
// transport answers a POST on its GET stream; the 2025 standalone GET stream carries server requests).
// Platform-neutral: the control API serves it and the inspector and the CLI show it.

import type { DecodedCapture, JsonRpcId, SeenMessage } from "./mcp-decode";
import { PendingRequests } from "./mcp-pairing";

export { type DecodedCapture, decodeCapture, MCP_LIMITS } from "./mcp-decode";

/**
 * One line of the view: a request with its response once paired, a notification, or a response whose
 * request was not seen. `direction` is where the first message went: `in` from the MCP client (the public
 * side) to the local server, `out` from the server. Times are ms since the epoch.
 */
export type McpEntry = {
  kind: "request" | "notification" | "response" | "error";
  /** `pending` until a response pairs; `error` for a JSON-RPC error or a tool result with `isError: true`. */
  status: "pending" | "ok" | "error" | "none";
  direction: "in" | "out";
  method: string | null;
  id: JsonRpcId | null;
  captureId: string;
  /** The message's place among its capture's messages: with captureId, a stable key. */
  seq: number;
  responseCaptureId?: string;
  session?: string;
  toolName?: string;
  arguments?: unknown;
  params?: unknown;
  result?: unknown;
  error?: { code: number | null; message: string; data?: unknown };
  /** A tools/call result that reports the tool failed. */
  isError?: boolean;
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
};

/** A decoding note, for a capture that carried MCP traffic. */
export type McpNote = { captureId: string; message: string };

/** The view: entries oldest first, every method seen (before filtering), and the notes. */
export type McpView = { entries: McpEntry[]; methods: string[]; notes: McpNote[] };

/** How the view is cut: `method` keeps that method and its sub-methods ("tools" keeps "tools/call"). */
export type McpViewOptions = { method?: string; limit: number };

/** True when `method` is `filter` or lies under it. */
export function methodMatches(method: string | null, filter: string | undefined): boolean {
  if (!filter) return true;
  return method !== null && (method === filter || method.startsWith(filter.endsWith("/") ? filter : `${filter}/`));
}

type Request = { seen: SeenMessage; entry: McpEntry };

const idKey = (direction: "in" | "out", id: JsonRpcId) => `${direction}|${typeof id}|${id}`;
const byTime = (a: SeenMessage, b: SeenMessage) =>
  a.at - b.at || (a.captureId < b.captureId ? -1 : a.captureId > b.captureId ? 1 : a.seq - b.seq);

function opening(seen: SeenMessage, kind: McpEntry["kind"], method: string | null, params: unknown): McpEntry {
  const entry: McpEntry = {
    kind,
    status: kind === "request" ? "pending" : kind === "notification" ? "none" : kind === "error" ? "error" : "ok",
    direction: seen.direction,
    method,
    id: "id" in seen.message ? seen.message.id : null,
    captureId: seen.captureId,
    seq: seen.seq,
    ...(seen.session ? { session: seen.session } : {}),
    startedAt: seen.at,
  };
  const p = params as { name?: unknown; arguments?: unknown } | undefined;
  if (method === "tools/call" && p && typeof p === "object" && typeof p.name === "string") {
    entry.toolName = p.name;
    if (p.arguments !== undefined) entry.arguments = p.arguments;
  } else if (params !== undefined) entry.params = params;
  return entry;
}

function answer(request: Request, response: SeenMessage): void {
  const { entry } = request;
  const m = response.message;
  entry.endedAt = response.at;
  entry.durationMs = Math.max(0, response.at - entry.startedAt);
  if (response.captureId !== entry.captureId) entry.responseCaptureId = response.captureId;
  if (m.type === "error") {
    entry.status = "error";
    entry.error = m.error;
    return;
  }
  if (m.type !== "result") return;
  entry.result = m.result;
  const failed = entry.method === "tools/call" && (m.result as { isError?: unknown } | null)?.isError === true;
  entry.status = failed ? "error" : "ok";
  if (failed) entry.isError = true;
}

/** Pairs the messages of decoded captures and cuts the view to the newest `limit` entries that match. */
export function buildMcpView(captures: DecodedCapture[], options: McpViewOptions): McpView {
  const seen = captures.flatMap((c) => c.messages).sort(byTime);
  const pending = new PendingRequests<Request>((r) => r.entry.status === "pending");
  const opened = new Map<SeenMessage, McpEntry>();
  // Requests first, so a response pairs even when its timestamp ties with or precedes its request's.
  for (const s of seen) {
    if (s.message.type !== "request") continue;
    const entry = opening(s, "request", s.message.method, s.message.params);
    pending.add(idKey(s.direction, s.message.id), { seen: s, entry });
    opened.set(s, entry);
  }
  const entries: McpEntry[] = [];
  for (const s of seen) {
    const m = s.message;
    if (m.type === "notification") entries.push(opening(s, "notification", m.method, m.params));
    else if (m.type === "request") entries.push(opened.get(s) ?? opening(s, "request", m.method, m.params));
    else {
      // The request a response answers: same id, sent the other way, not yet answered, not from another session.
      const match = m.id === null ? undefined : pending.match(idKey(s.direction === "in" ? "out" : "in", m.id), s);
      if (match) answer(match, s);
      else {
        const orphan = opening(s, m.type === "error" ? "error" : "response", null, undefined);
        if (m.type === "error") orphan.error = m.error;
        else orphan.result = m.result;
        entries.push(orphan);
      }
    }
  }
  const methods = [...new Set(entries.flatMap((e) => (e.method === null ? [] : [e.method])))].sort();
  const matching = entries.filter((e) => methodMatches(e.method, options.method));
  const notes = captures.flatMap((c) => c.notes.map((message) => ({ captureId: c.captureId, message })));
  return { entries: matching.slice(Math.max(0, matching.length - options.limit)), methods, notes };
}
