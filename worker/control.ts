// The tunnel's side of the captures API (docs/captures-api.md). The worker has already checked
// the token; this only reads the store, replays and serves the feed.

import { Hono } from "hono";
import type { CaptureRecord, CaptureSummary } from "./capture-model";
import { type CaptureStore, captureView, type StoredCapture } from "./captures";
import { RelayError } from "./errors";
import { toHar } from "./har";
import { buildMcpView, type DecodedCapture, decodeCapture } from "./mcp-view";
import { PolicyError, type PublicPolicy } from "./policy";
import type { HeaderList } from "./protocol";
import type { ReplayEdits } from "./replay";

/** What the control plane needs from its tunnel. */
export type ControlDeps = {
  tunnel: string;
  store: () => CaptureStore;
  status: () => { online: boolean; connectedAt: number | null };
  /** Streams in flight: HTTP exchanges not yet finished and open public WebSockets. A soak checks both return to 0. */
  streams: () => { http: number; websocket: number };
  replay: (id: string, edits: ReplayEdits) => Promise<{ id: string; status: number }>;
  acceptFeed: () => Response;
  cleared: () => void;
  /** Exchanges still streaming, as captures so far: a long-lived MCP stream is only stored when it ends. */
  open: () => CaptureRecord[];
  /** The tunnel's policy as the API shows it (no secrets), and replacing it; `set` throws PolicyError. */
  policy: { get: () => PublicPolicy; set: (input: unknown) => PublicPolicy };
};

const MAX_LIST = 1000;
/**
 * Stored bytes (bodies and timelines) one HAR export may hold. The document is built in memory, several
 * times the stored size once encoded, and a Durable Object has 128 MB.
 */
const HAR_MAX_BYTES = 8 * 1024 * 1024;

/**
 * What one MCP view reads: the newest captures, within a budget of stored body bytes (the view is built
 * in the object's memory, like a HAR), and how many entries it answers.
 */
export const MCP_SCAN = { captures: 1000, bytes: 8 * 1024 * 1024, entries: 200, maxEntries: 1000 } as const;

/** Captures that cannot hold JSON-RPC (a GET answered with HTML, say) are not read at all. */
function mayCarryMcp(s: CaptureSummary): boolean {
  return s.kind === "websocket" || s.method === "POST" || /json|event-stream/i.test(s.contentType ?? "");
}

/** The captures an MCP view reads, newest first: the open ones, then the stored ones, each loaded only when reached. */
function* mcpCandidates(deps: ControlDeps): Generator<CaptureRecord> {
  const open = deps.open().filter((c) => mayCarryMcp(c.summary));
  yield* open;
  const openIds = new Set(open.map((c) => c.summary.id));
  const store = deps.store();
  for (const summary of store.list(MCP_SCAN.captures)) {
    // A WebSocket is also stored while open: its live record is the newer one.
    if (openIds.has(summary.id) || !mayCarryMcp(summary)) continue;
    const capture = store.get(summary.id);
    if (capture) yield capture;
  }
}

/** The MCP view of the newest captures (docs/captures-api.md); `complete` is false when older ones were left out. */
function mcpView(deps: ControlDeps, method: string | undefined, limit: number) {
  const decoded: DecodedCapture[] = [];
  let bytes = 0;
  let complete = deps.store().count() <= MCP_SCAN.captures;
  for (const capture of mcpCandidates(deps)) {
    bytes += capture.requestBody.byteLength + capture.responseBody.byteLength;
    if (bytes > MCP_SCAN.bytes && decoded.length > 0) {
      complete = false;
      break;
    }
    decoded.push(decodeCapture(capture));
  }
  return { ...buildMcpView(decoded, { method, limit }), scanned: decoded.length, complete };
}

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
  if (o.resign !== undefined) {
    if (typeof o.resign !== "boolean") throw new RelayError("bad-request", "Replay resign must be true or false.");
    edits.resign = o.resign;
  }
  return edits;
}

/** The Hono app for `/_porthole/api/tunnels/:name/…`, mounted inside the tunnel's Durable Object. */
export function controlApp(deps: ControlDeps): Hono {
  const app = new Hono();
  app.get("/summary", (c) => c.json({ name: deps.tunnel, ...deps.status(), captures: deps.store().count(), streams: deps.streams() }));
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
  app.get("/mcp", (c) => {
    const asked = Number(c.req.query("limit") ?? MCP_SCAN.entries);
    const limit = Number.isFinite(asked) ? Math.min(MCP_SCAN.maxEntries, Math.max(1, Math.floor(asked))) : MCP_SCAN.entries;
    return c.json(mcpView(deps, c.req.query("method")?.trim() || undefined, limit));
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
  app.get("/policy", (c) => c.json(deps.policy.get()));
  app.put("/policy", async (c) => {
    const input = await c.req.json().catch(() => {
      throw new RelayError("bad-request", `Cannot set the policy of tunnel "${deps.tunnel}": the body is not JSON.`);
    });
    try {
      return c.json(deps.policy.set(input));
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      throw new RelayError("bad-request", `Cannot set the policy of tunnel "${deps.tunnel}": ${err.message}.`);
    }
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
