// The shape of a capture, shared by the recorder, the store, the feed, HAR export and the CLI.
// Platform-neutral types only (docs/captures-api.md is the public contract).

import type { HeaderList } from "./protocol";

/** How an exchange ended. */
export type Outcome =
  | "ok"
  | "local-unreachable"
  | "local-timeout"
  | "local-error"
  | "client-aborted"
  | "tunnel-offline"
  | "agent-gone"
  /** The relay turned the request away: an access rule or a failed signature in enforce mode. */
  | "denied";

/** A webhook signature check on a capture: the verdict, why, and whether it was enforced. */
export type Verification = { provider: string; ok: boolean; reason: string; mode: "enforce" | "log"; handshake?: string };

/** One SSE event or WebSocket message on a capture's timeline. */
export type CaptureEvent = {
  t: number;
  type: "sse" | "ws";
  direction: "in" | "out";
  binary: boolean;
  size: number;
  text?: string;
  base64?: string;
};

/** The list view of a capture (docs/captures-api.md). */
export type CaptureSummary = {
  id: string;
  replayOf: string | null;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  path: string;
  status: number;
  outcome: Outcome;
  error: string | null;
  kind: "http" | "websocket";
  requestSize: number;
  responseSize: number;
  contentType: string | null;
  state: "open" | "done";
  /** Set when the tunnel verifies webhook signatures and checked this request. */
  verification: Verification | null;
};

/** What the store keeps besides the summary and the body bytes. */
export type CaptureDetail = {
  clientIp: string;
  requestHeaders: HeaderList;
  responseHeaders: HeaderList | null;
  requestTruncated: boolean;
  responseTruncated: boolean;
  events: CaptureEvent[];
  eventsTruncated: boolean;
};

/** A finished capture, ready to store. */
export type CaptureRecord = { summary: CaptureSummary; detail: CaptureDetail; requestBody: Uint8Array; responseBody: Uint8Array };
