// The one wire contract between the relay (Tunnel Durable Object) and the agent.
// Imported by both sides, so it must stay platform-neutral: no cloudflare:* and no node:* imports.
//
// Every WebSocket message is binary and carries one or more frames, each
// type:u8 | stream:u32 | length:u32 | payload (big-endian). Packing several frames into one
// message means fewer messages, and so fewer Durable Object events per request.
// Stream 0 carries connection frames (hello, ready, error, goaway). Heads and control payloads
// are JSON; body bytes are raw. There is no base64 anywhere.

import { concatBytes } from "./bytes";

/** Bumped on any incompatible change; the hello handshake rejects a mismatch. */
export const PROTOCOL_VERSION = 2;

/** Every named limit of the protocol. Each has a test. */
export const LIMITS = {
  /** Largest WebSocket message (one or more frames) either side accepts; a bigger one closes the socket with 1009. */
  maxMessageBytes: 1024 * 1024,
  /** Largest payload of one data or ws-message frame; bigger bodies are split. */
  maxChunkBytes: 64 * 1024,
  /** Credit each stream starts with, per direction, in body bytes. */
  initialWindow: 256 * 1024,
  /** Largest public WebSocket message reassembled from fragments (workerd receives at most 32 MiB). */
  maxWsMessageBytes: 16 * 1024 * 1024,
} as const;

/** Bytes before each frame's payload: type, stream and length. */
export const HEADER_BYTES = 9;

/** Frame type codes on the wire. */
export const FrameType = {
  hello: 1,
  ready: 2,
  error: 3,
  goaway: 4,
  notice: 5,
  requestHead: 10,
  responseHead: 11,
  data: 12,
  end: 13,
  reset: 14,
  credit: 15,
  wsOpen: 20,
  wsAccept: 21,
  wsMessage: 22,
  wsClose: 23,
} as const;

/** WebSocket close codes the relay uses on the agent socket. After 4002, 4009 and 4010 the agent stops; after the rest it reconnects. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  tooLarge: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  versionMismatch: 4002,
  nameInUse: 4009,
  replaced: 4010,
  /** The hello's policy (--verify, access rules) did not validate. */
  policyInvalid: 4011,
  /** The agent missed three heartbeats; it may reconnect. */
  heartbeatTimeout: 4008,
} as const;

/**
 * The agent's heartbeat, the one text message on the socket. The relay's runtime answers it
 * without waking a hibernated tunnel and records when it last did, which is how the relay
 * notices an agent that vanished without closing its connection.
 */
export const HEARTBEAT = { ping: "porthole:ping", pong: "porthole:pong" } as const;

/** Bounds on the heartbeat period an agent may announce. */
export const HEARTBEAT_MS = { min: 100, max: 60_000 } as const;

/** Bounds on the idle time before the relay writes a keepalive comment into an event stream; 0 turns it off. */
export const SSE_KEEPALIVE_MS = { default: 20_000, min: 100, max: 3_600_000 } as const;

/** Ordered header list with repeats, exactly as received. */
export type HeaderList = [string, string][];

/** Why a stream was reset; the relay maps these to X-Porthole-Error codes. */
export type ResetCode =
  | "client-aborted"
  | "local-unreachable"
  | "local-timeout"
  | "local-error"
  | "agent-gone"
  | "flow-control"
  | "unknown-stream"
  | "too-large";

export type Hello = {
  type: "hello";
  version: number;
  agentId: string;
  client: string;
  force: boolean;
  /** How often the agent sends HEARTBEAT.ping; the relay declares it dead after three silent periods. */
  heartbeatMs: number;
  /** Bytes of each body the relay keeps in a capture; the relay's default when absent. */
  captureBytes?: number;
  /** Idle time before a keepalive comment goes into an event stream; 0 for none, the relay's default when absent. */
  sseKeepaliveMs?: number;
  /**
   * Signature checks and access rules for public requests (worker/policy.ts validates it where the hello
   * arrives). Absent leaves the policy the tunnel already has, which the API may have set.
   */
  policy?: unknown;
};
export type Ready = {
  type: "ready";
  version: number;
  name: string;
  url: string;
  pathUrl: string;
  /** The policy in force, described without secrets; empty when the tunnel is open. */
  policy: string;
};
export type ErrorFrame = { type: "error"; code: string; message: string };
export type GoAway = { type: "goaway"; code: string; message: string };
/** A public request the relay answered itself (an access rule, a failed signature), so the agent can show it. */
export type Notice = { type: "notice"; method: string; path: string; status: number; reason: string };
export type RequestHead = {
  type: "request-head";
  stream: number;
  method: string;
  path: string;
  headers: HeaderList;
  /** False when no data or end frames follow. */
  body: boolean;
  /** What the relay checked, for the agent's console (the signature verdict); absent when nothing. */
  note?: string;
};
export type ResponseHead = {
  type: "response-head";
  stream: number;
  status: number;
  statusText: string;
  headers: HeaderList;
  body: boolean;
};
export type Data = { type: "data"; stream: number; chunk: Uint8Array };
export type End = { type: "end"; stream: number };
export type Reset = { type: "reset"; stream: number; code: ResetCode; message: string };
export type Credit = { type: "credit"; stream: number; bytes: number };
export type WsOpen = { type: "ws-open"; stream: number; path: string; headers: HeaderList; protocols: string[] };
export type WsAccept = { type: "ws-accept"; stream: number; protocol: string };
/** One fragment of a WebSocket message; `fin` marks the last one. */
export type WsMessage = { type: "ws-message"; stream: number; binary: boolean; fin: boolean; chunk: Uint8Array };
export type WsClose = { type: "ws-close"; stream: number; code: number; reason: string };

/** Frames the agent sends to the relay. */
export type AgentFrame = Hello | ErrorFrame | ResponseHead | Data | End | Reset | Credit | WsAccept | WsMessage | WsClose;

/** Frames the relay sends to the agent. */
export type RelayFrame = Ready | ErrorFrame | GoAway | Notice | RequestHead | Data | End | Reset | Credit | WsOpen | WsMessage | WsClose;

export type Frame = AgentFrame | RelayFrame;

/** A frame that breaks the contract. The receiver sends an error frame and closes with `closeCode`. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number = CloseCode.protocolError,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Lays out a frame's header for a payload of `length` bytes, with room for `extra` payload bytes after it. */
function header(type: number, stream: number, length: number, extra = 0): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + extra);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, stream);
  view.setUint32(5, length);
  return out;
}

/** Lays out one frame; exported so tests can build malformed frames byte by byte. */
export function frame(type: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = header(type, stream, payload.byteLength, payload.byteLength);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** A frame with a JSON payload, as the one part encodeFrameParts returns for it. */
const json = (type: number, stream: number, value: unknown) => [frame(type, stream, utf8.encode(JSON.stringify(value)))];

/** Total bytes of a frame's parts. */
export const byteLength = (parts: Uint8Array[]): number => parts.reduce((n, p) => n + p.byteLength, 0);

/** Encodes one frame for the wire. */
export function encodeFrame(f: Frame): Uint8Array {
  const parts = encodeFrameParts(f);
  return concatBytes(parts, byteLength(parts));
}

/**
 * Encodes one frame as the pieces that follow each other on the wire. Body bytes are referenced, not
 * copied, so whoever packs the message copies them once (or not at all, when it sends pieces as fragments).
 */
export function encodeFrameParts(f: Frame): Uint8Array[] {
  switch (f.type) {
    case "hello":
      return json(FrameType.hello, 0, {
        version: f.version,
        agentId: f.agentId,
        client: f.client,
        force: f.force,
        heartbeatMs: f.heartbeatMs,
        captureBytes: f.captureBytes,
        sseKeepaliveMs: f.sseKeepaliveMs,
        policy: f.policy,
      });
    case "ready":
      return json(FrameType.ready, 0, { version: f.version, name: f.name, url: f.url, pathUrl: f.pathUrl, policy: f.policy });
    case "error":
      return json(FrameType.error, 0, { code: f.code, message: f.message });
    case "goaway":
      return json(FrameType.goaway, 0, { code: f.code, message: f.message });
    case "notice":
      return json(FrameType.notice, 0, { method: f.method, path: f.path, status: f.status, reason: f.reason });
    case "request-head":
      return json(FrameType.requestHead, f.stream, { method: f.method, path: f.path, headers: f.headers, body: f.body, note: f.note });
    case "response-head":
      return json(FrameType.responseHead, f.stream, {
        status: f.status,
        statusText: f.statusText,
        headers: f.headers,
        body: f.body,
      });
    case "data":
      return [header(FrameType.data, f.stream, f.chunk.byteLength), f.chunk];
    case "end":
      return [header(FrameType.end, f.stream, 0)];
    case "reset":
      return json(FrameType.reset, f.stream, { code: f.code, message: f.message });
    case "credit": {
      const out = header(FrameType.credit, f.stream, 4, 4);
      new DataView(out.buffer).setUint32(HEADER_BYTES, f.bytes);
      return [out];
    }
    case "ws-open":
      return json(FrameType.wsOpen, f.stream, { path: f.path, headers: f.headers, protocols: f.protocols });
    case "ws-accept":
      return json(FrameType.wsAccept, f.stream, { protocol: f.protocol });
    case "ws-message": {
      const head = header(FrameType.wsMessage, f.stream, 1 + f.chunk.byteLength, 1);
      head[HEADER_BYTES] = (f.binary ? 1 : 0) | (f.fin ? 2 : 0);
      return [head, f.chunk];
    }
    case "ws-close":
      return json(FrameType.wsClose, f.stream, { code: f.code, reason: f.reason });
    default:
      return assertNever(f);
  }
}

/** Decodes every frame of a message the agent sent. Throws ProtocolError on anything malformed, unknown or oversized. */
export function decodeAgentMessage(message: ArrayBuffer | Uint8Array | string): AgentFrame[] {
  return frames(message).map(decodeAgentFrame);
}

/** Decodes every frame of a message the relay sent. Throws ProtocolError on anything malformed, unknown or oversized. */
export function decodeRelayMessage(message: ArrayBuffer | Uint8Array | string): RelayFrame[] {
  return frames(message).map(decodeRelayFrame);
}

/** Decodes one frame the agent sent (exactly one frame's bytes). */
export function decodeAgentFrame(bytes: Uint8Array): AgentFrame {
  const { type, stream, payload } = split(bytes);
  switch (type) {
    case FrameType.hello: {
      const o = object(payload, "hello");
      const heartbeatMs = num(o, "heartbeatMs");
      if (heartbeatMs < HEARTBEAT_MS.min || heartbeatMs > HEARTBEAT_MS.max) {
        throw new ProtocolError(`heartbeatMs ${heartbeatMs} is outside ${HEARTBEAT_MS.min}-${HEARTBEAT_MS.max}`);
      }
      const keepalive = o.sseKeepaliveMs;
      if (
        keepalive !== undefined &&
        !(keepalive === 0 || (typeof keepalive === "number" && keepalive >= SSE_KEEPALIVE_MS.min && keepalive <= SSE_KEEPALIVE_MS.max))
      ) {
        throw new ProtocolError(
          `sseKeepaliveMs ${String(keepalive)} is neither 0 nor within ${SSE_KEEPALIVE_MS.min}-${SSE_KEEPALIVE_MS.max}`,
        );
      }
      return {
        type: "hello",
        version: num(o, "version"),
        agentId: str(o, "agentId"),
        client: str(o, "client"),
        force: o.force === true,
        heartbeatMs,
        ...(typeof o.captureBytes === "number" && Number.isSafeInteger(o.captureBytes) && o.captureBytes >= 0
          ? { captureBytes: o.captureBytes }
          : {}),
        ...(typeof keepalive === "number" ? { sseKeepaliveMs: keepalive } : {}),
        ...(o.policy !== undefined ? { policy: o.policy } : {}),
      };
    }
    case FrameType.error:
      return errorFrame(payload);
    case FrameType.responseHead: {
      const o = object(payload, "response-head");
      const status = num(o, "status");
      if (!Number.isInteger(status) || status < 101 || status > 599) throw new ProtocolError(`status ${status} is not valid`);
      return {
        type: "response-head",
        stream: streamId(stream),
        status,
        statusText: typeof o.statusText === "string" ? o.statusText : "",
        headers: headers(o),
        body: o.body === true,
      };
    }
    case FrameType.wsAccept: {
      const o = object(payload, "ws-accept");
      return { type: "ws-accept", stream: streamId(stream), protocol: typeof o.protocol === "string" ? o.protocol : "" };
    }
    default:
      return streamFrame(type, stream, payload, "agent");
  }
}

/** Decodes one frame the relay sent (exactly one frame's bytes). */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  const { type, stream, payload } = split(bytes);
  switch (type) {
    case FrameType.ready: {
      const o = object(payload, "ready");
      return {
        type: "ready",
        version: num(o, "version"),
        name: str(o, "name"),
        url: str(o, "url"),
        pathUrl: str(o, "pathUrl"),
        policy: typeof o.policy === "string" ? o.policy : "",
      };
    }
    case FrameType.error:
      return errorFrame(payload);
    case FrameType.goaway: {
      const o = object(payload, "goaway");
      return { type: "goaway", code: str(o, "code"), message: str(o, "message") };
    }
    case FrameType.notice: {
      const o = object(payload, "notice");
      return { type: "notice", method: str(o, "method"), path: str(o, "path"), status: num(o, "status"), reason: str(o, "reason") };
    }
    case FrameType.requestHead: {
      const o = object(payload, "request-head");
      return {
        type: "request-head",
        stream: streamId(stream),
        method: str(o, "method"),
        path: str(o, "path"),
        headers: headers(o),
        body: o.body === true,
        ...(typeof o.note === "string" ? { note: o.note } : {}),
      };
    }
    case FrameType.wsOpen: {
      const o = object(payload, "ws-open");
      const protocols = Array.isArray(o.protocols) ? o.protocols.filter((p): p is string => typeof p === "string") : [];
      return { type: "ws-open", stream: streamId(stream), path: str(o, "path"), headers: headers(o), protocols };
    }
    default:
      return streamFrame(type, stream, payload, "relay");
  }
}

/** Frames both directions share: data, end, reset, credit, ws-message, ws-close. */
function streamFrame(
  type: number,
  stream: number,
  payload: Uint8Array,
  from: "agent" | "relay",
): Data | End | Reset | Credit | WsMessage | WsClose {
  switch (type) {
    case FrameType.data:
      if (payload.byteLength > LIMITS.maxChunkBytes) {
        throw new ProtocolError(`data frame of ${payload.byteLength} bytes exceeds ${LIMITS.maxChunkBytes}`, CloseCode.tooLarge);
      }
      return { type: "data", stream: streamId(stream), chunk: payload };
    case FrameType.end:
      return { type: "end", stream: streamId(stream) };
    case FrameType.reset: {
      const o = object(payload, "reset");
      return { type: "reset", stream: streamId(stream), code: str(o, "code") as ResetCode, message: str(o, "message") };
    }
    case FrameType.credit: {
      if (payload.byteLength !== 4) throw new ProtocolError(`credit frame carries ${payload.byteLength} bytes, not 4`);
      const bytes = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
      if (bytes === 0) throw new ProtocolError("credit frame grants 0 bytes");
      return { type: "credit", stream: streamId(stream), bytes };
    }
    case FrameType.wsMessage: {
      if (payload.byteLength < 1) throw new ProtocolError("ws-message frame has no flags byte");
      const chunk = payload.subarray(1);
      if (chunk.byteLength > LIMITS.maxChunkBytes) {
        throw new ProtocolError(`ws-message frame of ${chunk.byteLength} bytes exceeds ${LIMITS.maxChunkBytes}`, CloseCode.tooLarge);
      }
      const flags = payload[0] ?? 0;
      return { type: "ws-message", stream: streamId(stream), binary: (flags & 1) === 1, fin: (flags & 2) === 2, chunk };
    }
    case FrameType.wsClose: {
      const o = object(payload, "ws-close");
      return { type: "ws-close", stream: streamId(stream), code: num(o, "code"), reason: typeof o.reason === "string" ? o.reason : "" };
    }
    default:
      throw new ProtocolError(`frame type ${type} is unknown or not allowed from the ${from}`);
  }
}

/** Splits a message into its frames, checking every length before anything is decoded. */
function frames(message: ArrayBuffer | Uint8Array | string): Uint8Array[] {
  if (typeof message === "string") throw new ProtocolError("text messages are not frames (only binary messages are)");
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.byteLength > LIMITS.maxMessageBytes) {
    throw new ProtocolError(`message of ${bytes.byteLength} bytes exceeds the ${LIMITS.maxMessageBytes}-byte limit`, CloseCode.tooLarge);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  do {
    if (bytes.byteLength - at < HEADER_BYTES)
      throw new ProtocolError(`frame at byte ${at} is shorter than its ${HEADER_BYTES}-byte header`);
    const end = at + HEADER_BYTES + view.getUint32(at + 5);
    if (end > bytes.byteLength) throw new ProtocolError(`frame at byte ${at} claims more bytes than the message holds`);
    out.push(bytes.subarray(at, end));
    at = end;
  } while (at < bytes.byteLength);
  return out;
}

function split(bytes: Uint8Array): { type: number; stream: number; payload: Uint8Array } {
  if (bytes.byteLength < HEADER_BYTES) throw new ProtocolError(`frame of ${bytes.byteLength} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(5) !== bytes.byteLength - HEADER_BYTES) throw new ProtocolError("frame length does not match its bytes");
  return { type: view.getUint8(0), stream: view.getUint32(1), payload: bytes.subarray(HEADER_BYTES) };
}

function streamId(stream: number): number {
  if (stream === 0) throw new ProtocolError("stream frame uses the connection stream 0");
  return stream;
}

function errorFrame(payload: Uint8Array): ErrorFrame {
  const o = object(payload, "error");
  return { type: "error", code: str(o, "code"), message: str(o, "message") };
}

function object(payload: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8Strict.decode(payload));
  } catch {
    throw new ProtocolError(`${what} frame does not carry valid UTF-8 JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what} frame does not carry a JSON object`);
  }
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new ProtocolError(`field "${key}" must be a string`);
  return v;
}

function num(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ProtocolError(`field "${key}" must be a number`);
  return v;
}

function headers(o: Record<string, unknown>): HeaderList {
  const v = o.headers;
  if (!Array.isArray(v) || !v.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === "string" && typeof h[1] === "string")) {
    throw new ProtocolError('field "headers" must be a list of [name, value] string pairs');
  }
  return v as HeaderList;
}

/** Compile-time exhaustiveness check for switches over frame unions. */
export function assertNever(x: never): never {
  throw new Error(`unhandled frame ${JSON.stringify(x)}`);
}

/** Tunnel names are DNS labels, so host mode can use them as subdomains. */
export const TUNNEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
