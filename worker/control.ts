// The tunnel's side of the captures API (docs/captures-api.md). The worker has already checked
// the token; this only reads the store, replays and serves the feed.

import { Hono } from "hono";
import { type CaptureStore, captureView, type StoredCapture } from "./captures";
import { RelayError } from "./errors";
import { toHar } from "./har";
import type { HeaderList } from "./protocol";

/** Edits a replay may carry; everything absent is taken from the original. */
export type ReplayEdits = { method?: string; path?: string; headers?: HeaderList; body?: string | { base64: string } };

/** What the control plane needs from its tunnel. */
export type ControlDeps = {
  tunnel: string;
  store: () => CaptureStore;
  status: () => { online: boolean; connectedAt: number | null };
  replay: (id: string, edits: ReplayEdits) => Promise<{ id: string; status: number }>;
  acceptFeed: () => Response;
  cleared: () => void;
};

const MAX_LIST = 1000;
/**
 * Stored bytes (bodies and timelines) one HAR export may hold. The document is built in memory, several
 * times the stored size once encoded, and a Durable Object has 128 MB.
 */
const HAR_MAX_BYTES = 8 * 1024 * 1024;

function notFound(tunnel: string, id: string): never {
  throw new RelayError("capture-not-found", `Tunnel "${tunnel}" has no capture "${id}".`);
}

function parseEdits(value: unknown): ReplayEdits {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new RelayError("bad-request", "Replay edits must be a JSON object.");
  const o = value as Record<string, unknown>;
  const edits: ReplayEdits = {};
  if (o.method !== undefined) {
    if (typeof o.method !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(o.method)) {
      throw new RelayError("bad-request", "Replay method must be an HTTP method token.");
    }
    edits.method = o.method;
  }
  if (o.path !== undefined) {
    if (typeof o.path !== "string" || !o.path.startsWith("/")) throw new RelayError("bad-request", 'Replay path must start with "/".');
    edits.path = o.path;
  }
  if (o.headers !== undefined) {
    const ok =
      Array.isArray(o.headers) && o.headers.every((h) => Array.isArray(h) && h.length === 2 && h.every((x) => typeof x === "string"));
    if (!ok) throw new RelayError("bad-request", "Replay headers must be a list of [name, value] pairs.");
    edits.headers = o.headers as HeaderList;
  }
  if (o.body !== undefined) {
    const b = o.body as unknown;
    const isBase64 = typeof b === "object" && b !== null && typeof (b as { base64?: unknown }).base64 === "string";
    if (typeof b !== "string" && !isBase64) throw new RelayError("bad-request", 'Replay body must be text or {"base64": …}.');
    edits.body = b as string | { base64: string };
  }
  return edits;
}

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

/** The Hono app for `/_porthole/api/tunnels/:name/…`, mounted inside the tunnel's Durable Object. */
export function controlApp(deps: ControlDeps): Hono {
  const app = new Hono();
  app.get("/summary", (c) => c.json({ name: deps.tunnel, ...deps.status(), captures: deps.store().count() }));
  app.get("/captures", (c) => {
    const limit = Math.min(MAX_LIST, Math.max(1, Number(c.req.query("limit") ?? "50") || 50));
    const store = deps.store();
    return c.json({ captures: store.list(limit, c.req.query("before") || undefined), total: store.count(), evicted: store.evicted() });
  });
  app.delete("/captures", (c) => {
    const deleted = deps.store().clear();
    deps.cleared();
    return c.json({ deleted });
  });
  app.get("/captures/:id", (c) => {
    const id = c.req.param("id");
    const capture = deps.store().get(id) ?? notFound(deps.tunnel, id);
    return c.json(captureView(capture));
  });
  app.get("/captures/:id/har", (c) => {
    const id = c.req.param("id");
    const capture = deps.store().get(id) ?? notFound(deps.tunnel, id);
    return c.json(toHar([capture]), 200, { "Content-Disposition": `attachment; filename="${deps.tunnel}-${id}.har"` });
  });
  app.get("/har", (c) => {
    const store = deps.store();
    const captures: StoredCapture[] = [];
    let bytes = 0;
    // Newest first, until the budget is spent: a HAR of the most recent exchanges.
    for (const summary of store.list(MAX_LIST)) {
      const capture = store.get(summary.id);
      if (!capture) continue;
      bytes += capture.requestBody.byteLength + capture.responseBody.byteLength + JSON.stringify(capture.detail).length;
      if (bytes > HAR_MAX_BYTES && captures.length > 0) break;
      captures.push(capture);
    }
    return c.json(toHar(captures), 200, { "Content-Disposition": `attachment; filename="${deps.tunnel}.har"` });
  });
  app.post("/captures/:id/replay", async (c) => {
    const text = await c.req.text();
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RelayError("bad-request", "Replay edits are not valid JSON.");
    }
    return c.json(await deps.replay(c.req.param("id"), parseEdits(value)));
  });
  app.get("/feed", (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new RelayError("bad-request", "The feed is a WebSocket.");
    return deps.acceptFeed();
  });
  app.all("*", () => {
    throw new RelayError("bad-request", "Unknown captures endpoint.");
  });
  app.onError((err) => {
    if (err instanceof RelayError) return err.toResponse();
    throw err;
  });
  return app;
}
