// The Tunnel Durable Object: one per tunnel name. It owns the agent's WebSocket, multiplexes
// public requests over it, and relays public WebSockets. Only the sockets, their tags and
// attachments and SQLite survive hibernation, so nothing here depends on other memory
// unless an in-flight public request pins the object.

import { DurableObject } from "cloudflare:workers";
import { type AgentAttachment, AgentLink } from "./agent-link";
import { controlApp } from "./control";
import { type Env, type Settings, settings } from "./env";
import { RelayError } from "./errors";
import type { HttpExchange } from "./exchange";
import { acceptFeed, broadcast, type FeedAttachment } from "./feed";
import { Forwarder, type PublicRoute } from "./forwarder";
import { TunnelGate } from "./gate";
import { describePolicy, type Policy, PolicyError, parsePolicy, publicPolicy } from "./policy";
import { type AgentFrame, assertNever, CloseCode, decodeAgentMessage, HEARTBEAT, type Hello, ProtocolError } from "./protocol";
import { type PublicAttachment, PublicSockets } from "./public-ws";
import { TunnelRecords } from "./records";
import { registry } from "./registry";
import { type ReplayEdits, replayRequest, resigned } from "./replay";
import { ROUTE_HEADER, type Route } from "./routing";

type Attachment = AgentAttachment | PublicAttachment | FeedAttachment;

export class Tunnel extends DurableObject<Env> {
  private readonly settings: Settings;
  private readonly exchanges = new Map<number, HttpExchange>();
  private readonly sockets: PublicSockets;
  private readonly records: TunnelRecords;
  private readonly link: AgentLink;
  private readonly gate: TunnelGate;
  private readonly forwarder: Forwarder;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = settings(env);
    this.records = new TunnelRecords(ctx);
    this.gate = new TunnelGate(this.records, (notice) => {
      if (this.link.agent()) this.link.send(notice);
    });
    // Answered by the runtime itself: an idle tunnel stays hibernated while its agent keeps pinging.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT.ping, HEARTBEAT.pong));
    this.link = new AgentLink(ctx, {
      gone: () => {
        console.log(`tunnel=${this.tunnelName()} failing ${this.exchanges.size} stream(s) of the departed agent`);
        for (const exchange of [...this.exchanges.values()]) exchange.agentGone();
        this.sockets.closeAll(CloseCode.serviceRestart, "porthole: the agent disconnected");
      },
      busy: () => this.exchanges.size > 0,
    });
    this.sockets = new PublicSockets(
      ctx,
      (f) => this.link.send(f),
      (recorder, final) => this.records.save(recorder, final),
    );
    this.forwarder = new Forwarder({
      ctx,
      settings: this.settings,
      records: this.records,
      gate: this.gate,
      link: this.link,
      sockets: this.sockets,
      exchanges: this.exchanges,
    });
    // One line per start: after hibernation the object is rebuilt, and this shows it happened.
    console.log(`tunnel=${ctx.id.name ?? ctx.id.toString()} object started`);
  }

  override async fetch(request: Request): Promise<Response> {
    const route = JSON.parse(request.headers.get(ROUTE_HEADER) ?? "null") as Route | null;
    if (!route) return new RelayError("bad-request", "Request reached the tunnel without a route.").toResponse();
    try {
      if (route.kind === "connect") return this.link.accept(route);
      if (route.kind === "control") return await this.control(request, route);
      return (await this.forwarder.forward(request, route)).response;
    } catch (err) {
      if (err instanceof RelayError) return err.toResponse();
      throw err;
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
      return this.link.reject(ws, att, "protocol-error", err.message, err.closeCode);
    }
    this.link.heard();
    for (const frame of frames) {
      if (frame.type === "hello") {
        this.hello(ws, att, frame);
        att = ws.deserializeAttachment() as AgentAttachment;
        if (!att.agentId) return;
        continue;
      }
      if (!att.agentId) return this.link.reject(ws, att, "protocol-error", `expected hello, got ${frame.type}`, CloseCode.protocolError);
      if (this.link.agent() !== ws) return; // A replaced agent's late frames belong to nobody.
      try {
        this.dispatch(frame);
      } catch (err) {
        // One stream's failure must not drop the other frames of this message.
        console.error(`tunnel=${att.tunnel} stream=${"stream" in frame ? frame.stream : 0} ${frame.type} failed: ${String(err)}`);
        if ("stream" in frame)
          this.link.send({ type: "reset", stream: frame.stream, code: "local-error", message: "the relay failed on this stream" });
      }
    }
  }

  /** Validates the hello's policy before the agent may own the name, then stores what it asked for. */
  private hello(ws: WebSocket, att: AgentAttachment, hello: Hello): void {
    let policy: Policy | undefined;
    try {
      policy = hello.policy === undefined ? undefined : parsePolicy(hello.policy);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      return this.link.reject(
        ws,
        att,
        "policy-invalid",
        `tunnel "${att.tunnel}" cannot use this policy: ${err.message}`,
        CloseCode.policyInvalid,
      );
    }
    this.link.hello(ws, att, hello, () => {
      this.records.connected(att.tunnel, hello, policy);
      // The index lists tunnels for the API; it is not on the request path, so nothing waits for it.
      this.ctx.waitUntil(registry(this.env).add(att.tunnel));
      try {
        return describePolicy(this.records.policy());
      } catch (err) {
        return `the stored policy is invalid (${(err as Error).message}): every request is refused until it is set again`;
      }
    });
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
        return this.link.send({ type: "reset", stream: f.stream, code: "unknown-stream", message: "stream is gone" });
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

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const att = ws.deserializeAttachment() as Attachment;
    if (att.role === "public") return this.sockets.closedByPublic(ws, att, code, reason);
    if (att.role === "feed") return closeQuietly(ws, code, reason);
    // The runtime already answered the close, so the socket is no longer OPEN: ask the attachment instead.
    const wasCurrent = att.agentId !== undefined;
    closeQuietly(ws, code, reason);
    if (wasCurrent) this.link.drop(ws, `agent disconnected (${code}${reason ? ` ${reason}` : ""})`);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const att = ws.deserializeAttachment() as Attachment;
    console.warn(`tunnel=${att.tunnel} ${att.role} socket error: ${String(error)}`);
    if (att.role === "public") return this.sockets.closedByPublic(ws, att, 1011, "porthole: public socket failed");
    if (att.role === "feed") return closeQuietly(ws, 1011, "feed socket failed");
    if (att.agentId !== undefined) this.link.drop(ws, `agent socket failed (${String(error)})`);
  }

  /** Serves /_porthole/api/tunnels/<name>/… for this tunnel. */
  private control(request: Request, route: Extract<Route, { kind: "control" }>): Promise<Response> {
    // A typo in a name answers 404 and creates no storage for it.
    if (!this.records.known()) throw new RelayError("tunnel-not-found", `Tunnel "${route.name}" does not exist on this relay.`);
    const app = controlApp({
      tunnel: route.name,
      store: () => this.records.store(),
      status: () => ({ online: this.link.agent() !== undefined, connectedAt: this.records.connectedAt() }),
      streams: () => ({ http: this.exchanges.size, websocket: this.sockets.openCount() }),
      replay: (id, edits) => this.replay(route.name, id, edits),
      acceptFeed: () => acceptFeed(this.ctx, route.name, route.expiresAt),
      cleared: () => broadcast(this.ctx, { type: "clear" }),
      open: () => [...this.exchanges.values()].map((e) => e.recorder.record()),
      policy: {
        get: () => publicPolicy(this.gate.policy(route.name)),
        set: (input) => {
          const policy = parsePolicy(input);
          this.records.setPolicy(policy);
          return publicPolicy(policy);
        },
      },
    });
    return Promise.resolve(app.fetch(new Request(new URL(route.path, "http://tunnel"), request)));
  }

  /** Sends a stored request through the tunnel again, with edits; answers once the response head is in. */
  private async replay(tunnel: string, id: string, edits: ReplayEdits): Promise<{ id: string; status: number }> {
    const original = this.records.store().get(id);
    if (!original) throw new RelayError("capture-not-found", `Tunnel "${tunnel}" has no capture "${id}".`);
    const replayed = replayRequest(original, edits);
    const { path, publicUrl, prefix } = replayed;
    const verifiedBy = original.summary.verification?.provider;
    const request = edits.resign ? await resigned(this.gate.policy(tunnel), replayed.request, verifiedBy) : replayed.request;
    const route: PublicRoute = {
      kind: "public",
      name: tunnel,
      mode: prefix ? "path" : "host",
      path,
      publicUrl,
      clientIp: original.detail.clientIp,
      ...(prefix ? { prefix } : {}),
    };
    const { response, captureId } = await this.forwarder.forward(request, route, id);
    // The capture is written when the body ends; drain it without holding up the answer.
    this.ctx.waitUntil(response.body?.pipeTo(new WritableStream()).catch(() => {}) ?? Promise.resolve());
    return { id: captureId, status: response.status };
  }

  private tunnelName(): string {
    const ws = this.ctx.getWebSockets("agent")[0];
    return ws ? (ws.deserializeAttachment() as AgentAttachment).tunnel : "?";
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
