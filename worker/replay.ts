// A replay: the request a stored capture sends again, with the API's edits, and signed again at the
// time of the replay when asked, so a local app's freshness check passes.

import type { StoredCapture } from "./captures";
import { RelayError } from "./errors";
import type { Policy } from "./policy";
import type { HeaderList } from "./protocol";
import { resign, signatureHeaders } from "./webhooks/verify";

/**
 * Edits a replay may carry; everything absent is taken from the original. `resign` signs the request
 * again, at the time of the replay, with the tunnel's secret for its webhook provider.
 */
export type ReplayEdits = { method?: string; path?: string; headers?: HeaderList; body?: string | { base64: string }; resign?: boolean };

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    throw new RelayError("bad-request", "Replay body is not valid base64.");
  }
}

/** Headers a replay must not send as captured: the runtime sets the length, and an upgrade cannot be replayed. */
const NOT_REPLAYED = new Set(["content-length", "upgrade", "connection"]);

/**
 * The request a replay sends: the stored one with the edits applied, to the same public URL
 * (path mode keeps its /t/<name> prefix). A truncated body cannot be sent as is.
 */
export function replayRequest(
  original: StoredCapture,
  edits: ReplayEdits,
): { request: Request; path: string; publicUrl: string; prefix?: string } {
  const { summary, detail } = original;
  if (summary.kind === "websocket")
    throw new RelayError("bad-request", `Capture "${summary.id}" is a WebSocket; only HTTP exchanges replay.`);
  if (edits.body === undefined && detail.requestTruncated) {
    throw new RelayError("capture-truncated", `Capture "${summary.id}" kept only part of its request body; give a body to replay it.`);
  }
  let body = original.requestBody;
  if (edits.body !== undefined)
    body = typeof edits.body === "string" ? new TextEncoder().encode(edits.body) : fromBase64(edits.body.base64);
  const method = edits.method ?? summary.method;
  const path = edits.path ?? summary.path;
  const headers = new Headers();
  for (const [k, v] of edits.headers ?? detail.requestHeaders) {
    if (NOT_REPLAYED.has(k.toLowerCase())) continue;
    try {
      headers.append(k, v);
    } catch {
      throw new RelayError("bad-request", `Replay header "${k}" is not a valid HTTP header.`);
    }
  }
  // The captured URL is <origin><prefix><path>; the prefix is empty in host mode.
  const url = new URL(summary.url);
  const full = url.pathname + url.search;
  const prefix = full.endsWith(summary.path) ? full.slice(0, full.length - summary.path.length) : "";
  const publicUrl = `${url.origin}${prefix}${path}`;
  const request = new Request(publicUrl, { method, headers, body: method === "GET" || method === "HEAD" ? null : body });
  return { request, path, publicUrl, ...(prefix ? { prefix } : {}) };
}

/**
 * The request a re-signed replay sends: signed again at `now` with the tunnel's secret for the provider
 * the original was verified against (else the one whose signature headers it carries).
 */
export async function resigned(policy: Policy, request: Request, provider: string | undefined, now = Date.now()): Promise<Request> {
  const headers: HeaderList = [...request.headers];
  const carried = (spec: Policy["specs"][number]) => signatureHeaders(spec).some((h) => request.headers.has(h));
  const spec = policy.specs.find((s) => (provider ? s.provider === provider : carried(s)));
  const what = `Cannot re-sign the replay of "${request.method} ${new URL(request.url).pathname}"`;
  if (!spec) throw new RelayError("bad-request", `${what}: the tunnel verifies no provider it was signed for (--verify).`);
  const body = new Uint8Array(await request.clone().arrayBuffer());
  const signed = await resign(spec, { method: request.method, url: request.url, headers, body }, now);
  if (!signed)
    throw new RelayError(
      "bad-request",
      `${what}: ${spec.provider} cannot be re-signed (the relay holds no signing secret for it, or the signed body carries its own timestamp).`,
    );
  return new Request(request.url, { method: request.method, headers: signed, body: request.body === null ? null : body });
}
