// The Tunnel Durable Object: one per tunnel name. It owns the agent's WebSocket, multiplexes
// public requests over it, and relays public WebSockets. Only the sockets, their tags and
// attachments and SQLite survive hibernation, so nothing here depends on other memory
// unless an in-flight public request pins the object.

import { DurableObject } from "cloudflare:workers";
import { CAPTURE_DEFAULTS, CaptureStore } from "./captures";
import { controlApp, type ReplayEdits } from "./control";
import { type Env, type Settings, settings } from "./env";
import { RelayError } from "./errors";
import { HttpExchange } from "./exchange";
import { acceptFeed, broadcast, type FeedAttachment } from "./feed";
import { addForwarded, stripForWebSocket, stripHopByHop } from "./headers";
import {
  type AgentFrame,
  assertNever,
  CloseCode,
  decodeAgentMessage,
  encodeFrame,
  HEARTBEAT,
  HEARTBEAT_MS,
  type Hello,
  PROTOCOL_VERSION,
  ProtocolError,
  type RelayFrame,
} from "./protocol";
import { type PublicAttachment, PublicSockets } from "./public-ws";
import { newCaptureId, Recorder } from "./recorder";
import { registry } from "./registry";
import { ROUTE_HEADER, type Route } from "./routing";

/** Attachment stored on the agent socket; it survives hibernation. */
type AgentAttachment = {
  role: "agent";
  tunnel: string;
  url: string;
  pathUrl: string;
  connectedAt: number;
  /** Set once the hello was accepted. */
  agentId?: string;
  /** The heartbeat period the agent announced. */
  heartbeatMs?: number;
};

type Attachment = AgentAttachment | PublicAttachment | FeedAttachment;
type PublicRoute = Extract<Route, { kind: "public" }>;

export class Tunnel extends DurableObject<Env> {
  private readonly settings: Settings;
  private readonly exchanges = new Map<number, HttpExchange>();
  private readonly sockets: PublicSockets;
  private agentWaiters: (() => void)[] = [];
  /** The ready agent socket, cached; undefined means "look it up" (after a wake or a change). */
  private current?: WebSocket | null;
  /** When the agent last sent a frame; heartbeats are timed by the runtime's auto-response instead. */
  private lastAgentFrameAt = 0;
  private captureStore?: CaptureStore;
  /** Checks the agent's heartbeat while requests are in flight, so they fail fast if it vanished. */
  private watchdog?: ReturnType<typeof setTimeout>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = settings(env);
    // Answered by the runtime itself: an idle tunnel stays hibernated while its agent keeps pinging.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT.ping, HEARTBEAT.pong));
    this.sockets = new PublicSockets(
      ctx,
      (f) => this.sendToAgent(f),
      (recorder) => this.saveCapture(recorder),
    );
    // One line per start: after hibernation the object is rebuilt, and this shows it happened.
    console.log(`tunnel=${ctx.id.name ?? ctx.id.toString()} object started`);
  }

  override async fetch(request: Request): Promise<Response> {
    const route = JSON.parse(request.headers.get(ROUTE_HEADER) ?? "null") as Route | null;
    if (!route) return new RelayError("bad-request", "Request reached the tunnel without a route.").toResponse();
    try {
      if (route.kind === "connect") return this.acceptAgent(route);
      if (route.kind === "control") return await this.control(request, route);
      return (await this.forward(request, route)).response;
    } catch (err) {
      if (err instanceof RelayError) return err.toResponse();
      throw err;
    }
  }

  private acceptAgent(route: Extract<Route, { kind: "connect" }>): Response {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["agent"]);
    pair[1].serializeAttachment({
      role: "agent",
      tunnel: route.name,
      url: route.url,
      pathUrl: route.pathUrl,
      connectedAt: Date.now(),
    } satisfies AgentAttachment);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Carries one public request to the agent; the capture id names its record in the store. */
  private async forward(
    request: Request,
    route: PublicRoute,
    replayOf: string | null = null,
  ): Promise<{ response: Response; captureId: string }> {
    const method = request.method;
    const upgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
    const raw: [string, string][] = [];
    for (const [k, v] of request.headers) if (k !== ROUTE_HEADER) raw.push([k, v]);
    const recorder = new Recorder({
      id: newCaptureId(),
      method,
      url: route.publicUrl,
      path: route.path,
      clientIp: route.clientIp,
      requestHeaders: raw,
      kind: upgrade ? "websocket" : "http",
      replayOf,
      cap: this.captureBytes(),
    });
    try {
      await this.waitForAgent(route, `${method} ${route.path}`);
    } catch (err) {
      // Names that never had an agent are not captured: probing random names must not create storage.
      if (err instanceof RelayError && err.code === "tunnel-offline") {
        recorder.relayAnswer(err.status, err.code, err.message);
        recorder.end("tunnel-offline", err.message);
        this.saveCapture(recorder);
      }
      throw err;
    }
    broadcast(this.ctx, { type: "start", capture: recorder.summary() });
    const id = this.newStreamId();
    const host = new URL(route.publicUrl).host;
    let headers = addForwarded(upgrade ? stripForWebSocket(raw) : stripHopByHop(raw), {
      clientIp: route.clientIp,
      proto: new URL(route.publicUrl).protocol.replace(":", ""),
      host,
    });
    if (route.prefix) headers = [...headers, ["X-Forwarded-Prefix", route.prefix]];
    const exchange = new HttpExchange({
      id,
      tunnel: route.name,
      method,
      path: route.path,
      headers,
      body: upgrade ? null : request.body,
      upgrade: upgrade
        ? { protocols: protocols(request), accept: (protocol) => this.sockets.accept(id, route.name, protocol, recorder) }
        : undefined,
      headTimeoutMs: this.settings.responseHeadTimeoutMs,
      send: (f) => this.sendToAgent(f),
      recorder,
      onDone: (outcome, error) => {
        this.exchanges.delete(id);
        if (this.exchanges.size === 0) this.disarmWatchdog();
        // An accepted WebSocket goes on recording its messages until it closes; public-ws saves it then.
        if (upgrade && outcome === "ok") return;
        recorder.end(outcome, error);
        this.saveCapture(recorder);
      },
    });
    this.exchanges.set(id, exchange);
    this.armWatchdog();
    return { response: await exchange.start(), captureId: recorder.id };
  }

  /** Resolves when an agent is ready; holds the request through the reconnect grace, then fails. */
  private async waitForAgent(route: PublicRoute, label: string): Promise<void> {
    if (this.agentAlive()) return;
    if (!this.everConnected()) {
      throw new RelayError("tunnel-not-found", `Tunnel "${route.name}" does not exist on this relay: no agent has ever connected to it.`);
    }
    const graceMs = this.settings.reconnectGraceMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    const arrived = await new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.agentWaiters.push(waiter);
      timer = setTimeout(() => resolve(false), graceMs);
    });
    if (timer !== undefined) clearTimeout(timer);
    this.agentWaiters = this.agentWaiters.filter((w) => w !== waiter);
    if (!arrived || !this.agent()) {
      throw new RelayError(
        "tunnel-offline",
        `Tunnel "${route.name}" is offline: no agent reconnected within ${graceMs / 1000} s to serve "${label}".`,
        { "Retry-After": String(Math.max(1, Math.ceil(graceMs / 1000))) },
      );
    }
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    let att = ws.deserializeAttachment() as Attachment;
    if (att.role === "public") return this.sockets.fromPublic(ws, att, message);
    if (att.role === "feed") return; // Subscribers only listen.
    let frames: AgentFrame[];
    try {
      frames = decodeAgentMessage(message);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.rejectAgent(ws, att, "protocol-error", err.message, err.closeCode);
    }
    this.lastAgentFrameAt = Date.now();
    for (const frame of frames) {
      if (frame.type === "hello") {
        this.hello(ws, att, frame);
        att = ws.deserializeAttachment() as AgentAttachment;
        if (!att.agentId) return;
        continue;
      }
      if (!att.agentId) return this.rejectAgent(ws, att, "protocol-error", `expected hello, got ${frame.type}`, CloseCode.protocolError);
      if (this.agent() !== ws) return; // A replaced agent's late frames belong to nobody.
      try {
        this.dispatch(frame);
      } catch (err) {
        // One stream's failure must not drop the other frames of this message.
        console.error(`tunnel=${att.tunnel} stream=${"stream" in frame ? frame.stream : 0} ${frame.type} failed: ${String(err)}`);
        if ("stream" in frame)
          this.sendToAgent({ type: "reset", stream: frame.stream, code: "local-error", message: "the relay failed on this stream" });
      }
    }
  }

  /** Routes one frame from the ready agent. Synchronous on purpose: chunks must not reorder. */
  private dispatch(f: Exclude<AgentFrame, Hello>): void {
    switch (f.type) {
      case "error":
        console.warn(`tunnel=${this.tunnelName()} agent error ${f.code}: ${f.message}`);
        return;
      case "response-head":
      case "ws-accept":
      case "data":
      case "end": {
        const exchange = this.exchanges.get(f.stream);
        if (exchange) return exchange.onFrame(f);
        if (f.type === "end") return;
        return this.sendToAgent({ type: "reset", stream: f.stream, code: "unknown-stream", message: "stream is gone" });
      }
      case "credit": {
        const exchange = this.exchanges.get(f.stream);
        if (exchange) return exchange.onFrame(f);
        return this.sockets.credit(f.stream, f.bytes);
      }
      case "reset": {
        const exchange = this.exchanges.get(f.stream);
        if (exchange) return exchange.onFrame(f);
        return this.sockets.closeFromAgent({ type: "ws-close", stream: f.stream, code: 1011, reason: `porthole: ${f.message}` });
      }
      case "ws-message":
        return this.sockets.fromAgent(f);
      case "ws-close":
        return this.sockets.closeFromAgent(f);
      default:
        return assertNever(f);
    }
  }

  private hello(ws: WebSocket, att: AgentAttachment, f: Hello): void {
    if (att.agentId) return this.rejectAgent(ws, att, "protocol-error", "hello sent twice", CloseCode.protocolError);
    if (f.version !== PROTOCOL_VERSION) {
      const newer = f.version > PROTOCOL_VERSION ? "relay" : "agent";
      return this.rejectAgent(
        ws,
        att,
        "version-mismatch",
        `the agent speaks protocol ${f.version} but the relay speaks ${PROTOCOL_VERSION}; update the ${newer}`,
        CloseCode.versionMismatch,
      );
    }
    const current = this.agent();
    if (current) {
      const currentId = (current.deserializeAttachment() as AgentAttachment).agentId;
      if (currentId !== f.agentId && !f.force) {
        return this.rejectAgent(
          ws,
          att,
          "name-in-use",
          `tunnel "${att.tunnel}" already has an agent online; pass --force to take the name over`,
          CloseCode.nameInUse,
        );
      }
      // The same agent reconnecting replaces its stale socket; another agent with --force takes over.
      this.dropAgent(
        current,
        currentId === f.agentId ? "superseded by a reconnect of the same agent" : "replaced by another agent (--force)",
      );
      this.sendFrame(current, { type: "goaway", code: "replaced", message: `tunnel "${att.tunnel}" was taken over by another agent` });
      current.close(CloseCode.replaced, "replaced by another agent");
    }
    ws.serializeAttachment({ ...att, agentId: f.agentId, heartbeatMs: f.heartbeatMs } satisfies AgentAttachment);
    this.current = ws;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('capture_bytes', ?)",
      String(f.captureBytes ?? CAPTURE_DEFAULTS.bodyBytes),
    );
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?), ('connected_at', ?)",
      att.tunnel,
      String(Date.now()),
    );
    this.sendFrame(ws, { type: "ready", version: PROTOCOL_VERSION, name: att.tunnel, url: att.url, pathUrl: att.pathUrl });
    // The index lists tunnels for the API; it is not on the request path, so nothing waits for it.
    this.ctx.waitUntil(registry(this.env).add(att.tunnel));
    console.log(`tunnel=${att.tunnel} agent=${f.agentId} client=${f.client} ready`);
    const waiters = this.agentWaiters;
    this.agentWaiters = [];
    for (const w of waiters) w();
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const att = ws.deserializeAttachment() as Attachment;
    if (att.role === "public") return this.sockets.closedByPublic(ws, att, code, reason);
    if (att.role === "feed") return closeQuietly(ws, code, reason);
    // The runtime already answered the close, so the socket is no longer OPEN: ask the attachment instead.
    const wasCurrent = att.agentId !== undefined;
    closeQuietly(ws, code, reason);
    if (wasCurrent) this.dropAgent(ws, `agent disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const att = ws.deserializeAttachment() as Attachment;
    console.warn(`tunnel=${att.tunnel} ${att.role} socket error: ${String(error)}`);
    if (att.role === "public") return this.sockets.closedByPublic(ws, att, 1011, "porthole: public socket failed");
    if (att.role === "feed") return closeQuietly(ws, 1011, "feed socket failed");
    if (att.agentId !== undefined) this.dropAgent(ws, `agent socket failed (${String(error)})`);
  }

  /**
   * True when a ready agent has shown signs of life within three heartbeat periods. One that has
   * not is closed (4008, so it may reconnect) and everything it carried fails now, not at a timeout.
   */
  private agentAlive(): boolean {
    const ws = this.agent();
    if (!ws) return false;
    const att = ws.deserializeAttachment() as AgentAttachment;
    const period = att.heartbeatMs ?? HEARTBEAT_MS.max;
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    const silentMs = Date.now() - Math.max(pinged, this.lastAgentFrameAt, att.connectedAt);
    if (silentMs <= 3 * period) return true;
    this.dropAgent(ws, `missed heartbeats: silent for ${Math.round(silentMs / 1000)} s`);
    ws.close(CloseCode.heartbeatTimeout, "missed heartbeats");
    return false;
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) return;
    const att = this.agent()?.deserializeAttachment() as AgentAttachment | undefined;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.agentAlive();
      // Only while requests are in flight: a pending timer keeps an idle tunnel from hibernating.
      if (this.exchanges.size > 0) this.armWatchdog();
    }, att?.heartbeatMs ?? HEARTBEAT_MS.max);
  }

  private disarmWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Fails everything the agent carried: in-flight exchanges and proxied WebSockets. */
  private dropAgent(ws: WebSocket, why: string): void {
    const att = ws.deserializeAttachment() as AgentAttachment;
    ws.serializeAttachment({ ...att, agentId: undefined } satisfies AgentAttachment);
    if (this.current === ws) this.current = undefined;
    console.log(`tunnel=${att.tunnel} agent=${att.agentId} gone: ${why}; failing ${this.exchanges.size} stream(s)`);
    for (const exchange of [...this.exchanges.values()]) exchange.agentGone();
    this.sockets.closeAll(CloseCode.serviceRestart, "porthole: the agent disconnected");
  }

  private rejectAgent(ws: WebSocket, att: AgentAttachment, code: string, message: string, closeCode: number): void {
    console.warn(`tunnel=${att.tunnel} rejecting agent: ${code}: ${message}`);
    if (this.agent() === ws) this.dropAgent(ws, message);
    this.sendFrame(ws, { type: "error", code, message });
    ws.close(closeCode, message.slice(0, 123));
  }

  /** The agent socket that completed the hello, if any. */
  private agent(): WebSocket | undefined {
    if (this.current === undefined) {
      this.current =
        this.ctx.getWebSockets("agent").find((ws) => {
          const att = ws.deserializeAttachment() as AgentAttachment | null;
          return att?.agentId !== undefined && ws.readyState === WebSocket.OPEN;
        }) ?? null;
    }
    return this.current?.readyState === WebSocket.OPEN ? this.current : undefined;
  }

  private sendToAgent(f: RelayFrame): void {
    const ws = this.agent();
    if (ws) this.sendFrame(ws, f);
  }

  private sendFrame(ws: WebSocket, f: RelayFrame): void {
    try {
      ws.send(encodeFrame(f));
    } catch (err) {
      console.warn(`tunnel=${this.tunnelName()} cannot send ${f.type}: ${String(err)}`);
    }
  }

  /** Serves /_porthole/api/tunnels/<name>/… for this tunnel. */
  private control(request: Request, route: Extract<Route, { kind: "control" }>): Promise<Response> {
    // A typo in a name answers 404 and creates no storage for it.
    if (!this.everConnected()) throw new RelayError("tunnel-not-found", `Tunnel "${route.name}" does not exist on this relay.`);
    const app = controlApp({
      tunnel: route.name,
      store: () => this.store(),
      status: () => ({ online: this.agent() !== undefined, connectedAt: this.connectedAt() }),
      replay: (id, edits) => this.replay(route.name, id, edits),
      acceptFeed: () => acceptFeed(this.ctx, route.name),
      cleared: () => broadcast(this.ctx, { type: "clear" }),
    });
    return Promise.resolve(app.fetch(new Request(new URL(route.path, "http://tunnel"), request)));
  }

  /** Sends a stored request through the tunnel again, with edits; answers once the response head is in. */
  private async replay(tunnel: string, id: string, edits: ReplayEdits): Promise<{ id: string; status: number }> {
    const original = this.store().get(id);
    if (!original) throw new RelayError("capture-not-found", `Tunnel "${tunnel}" has no capture "${id}".`);
    const { summary, detail } = original;
    if (summary.kind === "websocket") throw new RelayError("bad-request", `Capture "${id}" is a WebSocket; only HTTP exchanges replay.`);
    let body: Uint8Array | null = original.requestBody;
    if (edits.body !== undefined)
      body = typeof edits.body === "string" ? new TextEncoder().encode(edits.body) : fromBase64(edits.body.base64);
    else if (detail.requestTruncated) {
      throw new RelayError("capture-truncated", `Capture "${id}" kept only part of its request body; give a body to replay it.`);
    }
    const method = edits.method ?? summary.method;
    const path = edits.path ?? summary.path;
    const headers = new Headers();
    for (const [k, v] of edits.headers ?? detail.requestHeaders) if (k.toLowerCase() !== "content-length") headers.append(k, v);
    const publicUrl = new URL(path, summary.url).href;
    const request = new Request(publicUrl, { method, headers, body: method === "GET" || method === "HEAD" ? null : body });
    const route: PublicRoute = { kind: "public", name: tunnel, mode: "host", path, publicUrl, clientIp: detail.clientIp };
    const { response, captureId } = await this.forward(request, route, id);
    // The capture is written when the body ends; drain it without holding up the answer.
    this.ctx.waitUntil(response.body?.pipeTo(new WritableStream()).catch(() => {}) ?? Promise.resolve());
    return { id: captureId, status: response.status };
  }

  private store(): CaptureStore {
    this.captureStore ??= new CaptureStore(this.ctx.storage.sql);
    return this.captureStore;
  }

  /** Writes a finished exchange once, and tells the feed. */
  private saveCapture(recorder: Recorder): void {
    const record = recorder.record();
    this.store().save(record);
    broadcast(this.ctx, { type: "end", capture: record.summary });
  }

  private captureBytes(): number {
    if (!this.everConnected()) return CAPTURE_DEFAULTS.bodyBytes;
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'capture_bytes'").toArray()[0];
    return row ? Number(row.value) : CAPTURE_DEFAULTS.bodyBytes;
  }

  private connectedAt(): number | null {
    if (!this.everConnected()) return null;
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'connected_at'").toArray()[0];
    return row ? Number(row.value) : null;
  }

  private everConnected(): boolean {
    const tables = this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray();
    return tables.length > 0;
  }

  private tunnelName(): string {
    const ws = this.ctx.getWebSockets("agent")[0];
    return ws ? (ws.deserializeAttachment() as AgentAttachment).tunnel : "?";
  }

  /** Random ids: a counter would restart after hibernation and collide with live public sockets. */
  private newStreamId(): number {
    const ids = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(ids);
      const id = ids[0] ?? 0;
      if (id !== 0 && !this.exchanges.has(id) && !this.sockets.has(id)) return id;
    }
  }
}

/** Completes a close handshake the peer started; the socket may already be closed. */
function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed.
  }
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

function protocols(request: Request): string[] {
  const header = request.headers.get("Sec-WebSocket-Protocol");
  return header
    ? header
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)
    : [];
}
