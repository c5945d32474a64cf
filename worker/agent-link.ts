// The tunnel's side of the agent connection: accepting it, the hello handshake, who owns the
// name, heartbeats, and failing everything when the agent goes. The socket, its tag and its
// attachment survive hibernation; the rest here is a cache rebuilt from them.

import { CloseCode, encodeFrame, HEARTBEAT_MS, type Hello, PROTOCOL_VERSION, type RelayFrame } from "./protocol";

/** Attachment stored on the agent socket; it survives hibernation. */
export type AgentAttachment = {
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

export type AgentLinkHooks = {
  /** The agent is gone: everything it carried must fail now. */
  gone: () => void;
  /** True while public requests are in flight, which is when heartbeats are checked. */
  busy: () => boolean;
};

export class AgentLink {
  /** The ready agent socket, cached; undefined means "look it up" (after a wake or a change). */
  private current?: WebSocket | null;
  /** When the agent last sent a frame; heartbeats are timed by the runtime's auto-response instead. */
  private lastFrameAt = 0;
  private waiters: (() => void)[] = [];
  private watchdog?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly hooks: AgentLinkHooks,
  ) {}

  /** Accepts a new agent socket; it is not the tunnel's agent until its hello is accepted. */
  accept(route: { name: string; url: string; pathUrl: string }): Response {
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

  /** The agent socket that completed the hello, if any. */
  agent(): WebSocket | undefined {
    if (this.current === undefined) {
      this.current =
        this.ctx.getWebSockets("agent").find((ws) => {
          const att = ws.deserializeAttachment() as AgentAttachment | null;
          return att?.agentId !== undefined && ws.readyState === WebSocket.OPEN;
        }) ?? null;
    }
    return this.current?.readyState === WebSocket.OPEN ? this.current : undefined;
  }

  /** Notes that the agent just sent something: it is alive. */
  heard(): void {
    this.lastFrameAt = Date.now();
  }

  /**
   * True when a ready agent has shown signs of life within three heartbeat periods. One that has
   * not is closed (4008, so it may reconnect) and everything it carried fails now, not at a timeout.
   */
  alive(): boolean {
    const ws = this.agent();
    if (!ws) return false;
    const att = ws.deserializeAttachment() as AgentAttachment;
    const period = att.heartbeatMs ?? HEARTBEAT_MS.max;
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    const silentMs = Date.now() - Math.max(pinged, this.lastFrameAt, att.connectedAt);
    if (silentMs <= 3 * period) return true;
    this.drop(ws, `missed heartbeats: silent for ${Math.round(silentMs / 1000)} s`);
    ws.close(CloseCode.heartbeatTimeout, "missed heartbeats");
    return false;
  }

  /** Resolves true when an agent becomes ready within `ms`, false otherwise. */
  async waitFor(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    const arrived = await new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.waiters.push(waiter);
      timer = setTimeout(() => resolve(false), ms);
    });
    if (timer !== undefined) clearTimeout(timer);
    this.waiters = this.waiters.filter((w) => w !== waiter);
    return arrived && this.agent() !== undefined;
  }

  /** Checks the heartbeat while requests are in flight; a pending timer would keep an idle tunnel awake. */
  armWatchdog(): void {
    if (this.watchdog !== undefined) return;
    const att = this.agent()?.deserializeAttachment() as AgentAttachment | undefined;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.alive();
      if (this.hooks.busy()) this.armWatchdog();
    }, att?.heartbeatMs ?? HEARTBEAT_MS.max);
  }

  disarmWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /**
   * Checks a hello: version, then who owns the name. The same agent reconnecting replaces its stale socket.
   * `accepted` runs once the agent owns the name, before it hears "ready", and returns the policy line for it.
   */
  hello(ws: WebSocket, att: AgentAttachment, f: Hello, accepted: () => string): void {
    if (att.agentId) return this.reject(ws, att, "protocol-error", "hello sent twice", CloseCode.protocolError);
    if (f.version !== PROTOCOL_VERSION) {
      const newer = f.version > PROTOCOL_VERSION ? "relay" : "agent";
      const message = `the agent speaks protocol ${f.version} but the relay speaks ${PROTOCOL_VERSION}; update the ${newer}`;
      return this.reject(ws, att, "version-mismatch", message, CloseCode.versionMismatch);
    }
    const current = this.agent();
    if (current) {
      const currentId = (current.deserializeAttachment() as AgentAttachment).agentId;
      if (currentId !== f.agentId && !f.force) {
        const message = `tunnel "${att.tunnel}" already has an agent online; pass --force to take the name over`;
        return this.reject(ws, att, "name-in-use", message, CloseCode.nameInUse);
      }
      this.drop(current, currentId === f.agentId ? "superseded by a reconnect of the same agent" : "replaced by another agent (--force)");
      this.sendTo(current, { type: "goaway", code: "replaced", message: `tunnel "${att.tunnel}" was taken over by another agent` });
      current.close(CloseCode.replaced, "replaced by another agent");
    }
    ws.serializeAttachment({ ...att, agentId: f.agentId, heartbeatMs: f.heartbeatMs } satisfies AgentAttachment);
    this.current = ws;
    const policy = accepted();
    this.sendTo(ws, { type: "ready", version: PROTOCOL_VERSION, name: att.tunnel, url: att.url, pathUrl: att.pathUrl, policy });
    console.log(`tunnel=${att.tunnel} agent=${f.agentId} client=${f.client} ready${policy ? ` policy: ${policy}` : ""}`);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends an error frame and closes the socket with a meaningful code. */
  reject(ws: WebSocket, att: AgentAttachment, code: string, message: string, closeCode: number): void {
    console.warn(`tunnel=${att.tunnel} rejecting agent: ${code}: ${message}`);
    if (this.agent() === ws) this.drop(ws, message);
    this.sendTo(ws, { type: "error", code, message });
    ws.close(closeCode, message.slice(0, 123));
  }

  /** The agent is no longer the tunnel's agent; everything it carried fails. */
  drop(ws: WebSocket, why: string): void {
    const att = ws.deserializeAttachment() as AgentAttachment;
    ws.serializeAttachment({ ...att, agentId: undefined } satisfies AgentAttachment);
    if (this.current === ws) this.current = undefined;
    console.log(`tunnel=${att.tunnel} agent=${att.agentId} gone: ${why}`);
    this.hooks.gone();
  }

  /** Sends a frame to the current agent, if there is one. */
  send(f: RelayFrame): void {
    const ws = this.agent();
    if (ws) this.sendTo(ws, f);
  }

  private sendTo(ws: WebSocket, f: RelayFrame): void {
    try {
      ws.send(encodeFrame(f));
    } catch (err) {
      const att = ws.deserializeAttachment() as AgentAttachment;
      console.warn(`tunnel=${att.tunnel} cannot send ${f.type}: ${String(err)}`);
    }
  }
}
