// JSON-RPC messages read back from one capture: the request body, a JSON or event-stream response,
// or WebSocket messages. Captured content is attacker-controlled, so the work per capture is bounded
// and anything unreadable becomes a note, never an exception. Platform-neutral (no cloudflare:*, node:*).

import type { CaptureEvent, CaptureRecord } from "./capture-model";
import { headerValue } from "./headers";
import { parseSse } from "./sse-parser";

/** The bounds of decoding one capture. */
export const MCP_LIMITS = {
  /** Bytes of each body that are parsed; a longer JSON body is skipped, a longer event stream cut. */
  bodyBytes: 1024 * 1024,
  /** JSON-RPC messages taken from one capture (a batch or a long stream). */
  messagesPerCapture: 500,
  /** Notes kept per capture. */
  notesPerCapture: 5,
  /** Nesting kept in params, results and errors: deeper parts become a marker, so serialising never overflows the stack. */
  valueDepth: 32,
} as const;

/** A JSON-RPC id: responses pair with requests by id, and "1" is not 1. */
export type JsonRpcId = string | number;

/** One JSON-RPC 2.0 message, parsed once. */
export type JsonRpcMessage =
  | { type: "request"; id: JsonRpcId; method: string; params?: unknown }
  | { type: "notification"; method: string; params?: unknown }
  | { type: "result"; id: JsonRpcId | null; result: unknown }
  | { type: "error"; id: JsonRpcId | null; error: { code: number | null; message: string; data?: unknown } };

/** A message where it was seen: `in` travelled from the public client to the local server, `out` back. */
export type SeenMessage = {
  captureId: string;
  /** Its place among the capture's messages. */
  seq: number;
  direction: "in" | "out";
  /** When the relay saw it (ms since the epoch). */
  at: number;
  /** The MCP session (Mcp-Session-Id or the legacy sessionId), "" when the capture names none. */
  session: string;
  message: JsonRpcMessage;
};

/** What one capture holds for the MCP view. `mcp` is set when it looks like MCP traffic at all. */
export type DecodedCapture = { captureId: string; messages: SeenMessage[]; notes: string[]; mcp: boolean };

const NESTED = `[nested deeper than ${MCP_LIMITS.valueDepth} levels]`;

/** A copy of a JSON value cut at `depth`; Object.fromEntries keeps a "__proto__" key an ordinary key. */
function clip(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth <= 0) return NESTED;
  if (Array.isArray(value)) return value.map((v) => clip(v, depth - 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clip(v, depth - 1)]));
}

const isId = (v: unknown): v is JsonRpcId => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** One JSON value as a JSON-RPC 2.0 message, or why it is not one. */
export function toJsonRpc(value: unknown): JsonRpcMessage | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "a JSON value that is not a JSON-RPC object";
  const o = value as Record<string, unknown>;
  if (o.jsonrpc !== "2.0") return 'an object without "jsonrpc": "2.0"';
  const params = o.params === undefined ? {} : { params: clip(o.params, MCP_LIMITS.valueDepth) };
  if (typeof o.method === "string") {
    if (o.id === undefined) return { type: "notification", method: o.method, ...params };
    return isId(o.id) ? { type: "request", id: o.id, method: o.method, ...params } : "a request whose id is not a string or number";
  }
  const id = isId(o.id) ? o.id : null;
  if (o.error !== undefined && o.error !== null && typeof o.error === "object") {
    const e = o.error as Record<string, unknown>;
    const error = {
      code: typeof e.code === "number" ? e.code : null,
      message: typeof e.message === "string" ? e.message : "",
      ...(e.data === undefined ? {} : { data: clip(e.data, MCP_LIMITS.valueDepth) }),
    };
    return { type: "error", id, error };
  }
  if ("result" in o) return { type: "result", id, result: clip(o.result, MCP_LIMITS.valueDepth) };
  return "a JSON-RPC object that is neither a request, a notification nor a response";
}

const looksJson = (type: string, text: string) => /[/+]json\b/i.test(type) || (!type && /^\s*[[{]/.test(text));

/** Collects one capture's messages and notes within MCP_LIMITS. */
class Collector {
  readonly messages: SeenMessage[] = [];
  readonly notes: string[] = [];
  full = false;
  /** Set by the legacy transport's `endpoint` event, which names the session of its stream. */
  endpointSession: string | undefined;

  constructor(private readonly captureId: string) {}

  note(text: string): void {
    if (this.notes.length < MCP_LIMITS.notesPerCapture) this.notes.push(text);
  }

  /** Adds the messages of one JSON text (a message or a batch); `where` names it in notes. */
  json(text: string, direction: "in" | "out", at: number, where: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.note(`${where} is not valid JSON; ignored`);
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      const message = toJsonRpc(item);
      if (typeof message === "string") {
        this.note(`${where} holds ${message}; ignored`);
        continue;
      }
      if (this.messages.length >= MCP_LIMITS.messagesPerCapture) {
        this.full = true;
        return this.note(`more than ${MCP_LIMITS.messagesPerCapture} messages; the rest are not shown`);
      }
      this.messages.push({ captureId: this.captureId, seq: this.messages.length, direction, at, session: "", message });
    }
  }
}

const sessionParam = (url: string) => {
  const query = url.indexOf("?");
  return query < 0 ? "" : (new URLSearchParams(url.slice(query + 1)).get("sessionId") ?? "");
};

const utf8 = new TextDecoder();

/** A whole JSON body as text, or undefined (with a note) when what was stored cannot be all of it. */
function jsonBody(bytes: Uint8Array, truncated: boolean, name: string, out: Collector): string | undefined {
  if (truncated) return void out.note(`the ${name} body was cut short when captured; not decoded`);
  if (bytes.byteLength > MCP_LIMITS.bodyBytes) {
    return void out.note(
      `the ${name} body (${bytes.byteLength} bytes) is over the ${MCP_LIMITS.bodyBytes}-byte decoding limit; not decoded`,
    );
  }
  return utf8.decode(bytes);
}

/** When each event of the stream arrived: the capture's timeline, as events. */
function eventTimes(events: CaptureEvent[]): { data: string; t: number }[] {
  const times: { data: string; t: number }[] = [];
  for (const e of events) {
    if (e.type !== "sse" || typeof e.text !== "string") continue;
    // The recorder stores each event without its closing blank line.
    for (const parsed of parseSse(`${e.text}\n\n`).events) times.push({ data: parsed.data, t: e.t });
  }
  return times;
}

/** The messages of an event-stream response; an event's time comes from the timeline, else the capture's end. */
function decodeStream(c: CaptureRecord, out: Collector): void {
  const { summary, detail } = c;
  if (detail.responseTruncated) out.note("the response stream was cut short when captured; only its start is decoded");
  if (c.responseBody.byteLength > MCP_LIMITS.bodyBytes)
    out.note(`only the first ${MCP_LIMITS.bodyBytes} bytes of the response stream are decoded`);
  const text = utf8.decode(c.responseBody.subarray(0, MCP_LIMITS.bodyBytes));
  const { events, unterminated } = parseSse(text, MCP_LIMITS.messagesPerCapture * 2);
  if (unterminated && summary.state === "done") out.note("the stream ended inside an event, which a client never receives; ignored");
  const times = eventTimes(detail.events);
  const end = summary.startedAt + summary.durationMs;
  let next = 0;
  for (const [i, event] of events.entries()) {
    // The timeline holds the body's events in the same order, but may stop early.
    let at = end;
    for (let j = next; j < Math.min(times.length, next + 8); j++) {
      if (times[j]?.data !== event.data) continue;
      at = summary.startedAt + (times[j]?.t ?? 0);
      next = j + 1;
      break;
    }
    if (event.event === "endpoint") {
      // The legacy transport's first event names its POST endpoint, and with it the stream's session.
      out.endpointSession = sessionParam(event.data);
      continue;
    }
    if (event.event !== "message" || event.data.trim() === "") continue;
    out.json(event.data, "out", at, `event ${i + 1} of the response stream`);
    if (out.full) return;
  }
}

function decodeHttp(c: CaptureRecord, out: Collector): void {
  const { summary, detail } = c;
  if (c.requestBody.byteLength > 0) {
    const type = headerValue(detail.requestHeaders, "content-type") ?? "";
    const text = jsonBody(c.requestBody, detail.requestTruncated, "request", out);
    if (text !== undefined && looksJson(type, text)) out.json(text, "in", summary.startedAt, "the request body");
  }
  const headers = detail.responseHeaders ?? [];
  if (out.full || c.responseBody.byteLength === 0) return;
  const type = (headerValue(headers, "content-type") ?? "").toLowerCase();
  const encoding = (headerValue(headers, "content-encoding") ?? "identity").toLowerCase();
  if (!type.startsWith("text/event-stream") && !looksJson(type, "{")) return;
  if (encoding !== "identity") return out.note(`the response body is ${encoding}-encoded; not decoded`);
  if (type.startsWith("text/event-stream")) return decodeStream(c, out);
  const text = jsonBody(c.responseBody, detail.responseTruncated, "response", out);
  if (text !== undefined && looksJson(type, text)) out.json(text, "out", summary.startedAt + summary.durationMs, "the response body");
}

/** Every JSON-RPC message of one capture, with where and when it was seen. */
export function decodeCapture(c: CaptureRecord): DecodedCapture {
  const { summary, detail } = c;
  const out = new Collector(summary.id);
  if (summary.kind === "websocket") {
    for (const e of detail.events) {
      if (e.type !== "ws" || typeof e.text !== "string" || e.text.length > MCP_LIMITS.bodyBytes) continue;
      out.json(e.text, e.direction, summary.startedAt + e.t, `the WebSocket message at ${e.t} ms`);
      if (out.full) break;
    }
  } else decodeHttp(c, out);
  const headers = [...detail.requestHeaders, ...(detail.responseHeaders ?? [])];
  const session =
    headerValue(detail.requestHeaders, "mcp-session-id") ??
    headerValue(detail.responseHeaders ?? [], "mcp-session-id") ??
    (out.endpointSession || sessionParam(summary.path));
  for (const m of out.messages) m.session = session;
  const mcp = out.messages.length > 0 || out.endpointSession !== undefined || headers.some(([k]) => /^mcp-/i.test(k));
  return { captureId: summary.id, messages: out.messages, notes: mcp ? out.notes : [], mcp };
}
