// The agent: one outbound WebSocket to the relay, reconnected with backoff, carrying every
// public request to the local target. `startAgent()` is the library entry; the CLI prints its events.

import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { FrameBatcher } from "../worker/batcher";
import { CreditPool } from "../worker/flow";
import {
  type AgentFrame,
  assertNever,
  CloseCode,
  decodeRelayMessage,
  encodeFrameParts,
  HEARTBEAT,
  LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  type RelayFrame,
} from "../worker/protocol";
import { AGENT_DEFAULTS, type AgentEvent, AgentFatalError, type AgentOptions, STATS_SIGNAL } from "./agent-contract";
import { isLoopback, LocalHttp, type StreamContext } from "./forward";
import { LocalWs } from "./websocket";

export { AGENT_DEFAULTS, type AgentEvent, AgentFatalError, type AgentOptions, STATS_SIGNAL } from "./agent-contract";

/** Close codes after which reconnecting cannot help. */
const FATAL_CLOSE = new Set<number>([CloseCode.versionMismatch, CloseCode.nameInUse, CloseCode.replaced, CloseCode.policyInvalid]);

/** A running agent. `done` settles when it stops for good: rejected on a fatal error, resolved on close(). */
export class Agent {
  readonly agentId = randomUUID();
  readonly ready: Promise<Extract<AgentEvent, { event: "ready" }>>;
  readonly done: Promise<void>;
  private settleReady!: { resolve: (e: Extract<AgentEvent, { event: "ready" }>) => void; reject: (err: Error) => void };
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  private ws?: WebSocket;
  private batcher?: FrameBatcher;
  private readonly streams = new Map<number, LocalHttp | LocalWs>();
  /** Credit for widening fast uploads (see WIDEN), shared by every stream of this agent. */
  private readonly credit = new CreditPool();
  private attempt = 0;
  private stopped = false;
  private heartbeat?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private lastPong = 0;
  private lastError?: { code: string; message: string };
  /** Set once a relay has answered a hello that carried the policy. */
  private policyApplied = false;
  private readonly reportStats = () => this.emit({ event: "stats", name: this.o.name, ...this.streamCounts() });

  constructor(private readonly o: AgentOptions) {
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(() => {});
    this.done.catch(() => {});
  }

  /** Local streams open now (HTTP exchanges and WebSockets); 0 when the tunnel is idle. */
  streamCounts(): { streams: number; http: number; websocket: number } {
    let websocket = 0;
    for (const s of this.streams.values()) if (s instanceof LocalWs) websocket += 1;
    return { streams: this.streams.size, http: this.streams.size - websocket, websocket };
  }

  /** Opens the relay connection. */
  start(): this {
    const url = new URL("/_porthole/connect", this.o.relay);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("name", this.o.name);
    // Once per agent, not per reconnect; removed when the agent stops so no listener outlives it.
    if (!process.listeners(STATS_SIGNAL).includes(this.reportStats)) process.on(STATS_SIGNAL, this.reportStats);
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.o.token}` },
      maxPayload: LIMITS.maxMessageBytes,
      perMessageDeflate: false,
      // Masking (RFC 6455 §10.3) keeps payloads from reading as requests to an intermediary that sees the
      // plaintext. Over TLS or loopback there is none, so a zero key, which ws skips: XORing every byte of a
      // large download was the agent's largest cost. A plain ws:// relay elsewhere keeps random keys.
      ...(url.protocol === "wss:" || isLoopback(url.hostname) ? { generateMask: (mask: Buffer) => mask.fill(0) } : {}),
    });
    this.ws = ws;
    // Head, body and end of a small response usually leave in one message: one relay event instead of three.
    this.batcher = new FrameBatcher((message) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(message);
    }, setImmediate);
    this.lastError = undefined;
    let opened = false;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      opened = true;
      this.lastPong = Date.now();
      const heartbeatMs = this.heartbeatMs;
      this.send({
        type: "hello",
        version: PROTOCOL_VERSION,
        agentId: this.agentId,
        client: "porthole-agent/0.1.0",
        force: !!this.o.force,
        heartbeatMs,
        captureBytes: this.o.captureBytes,
        sseKeepaliveMs: this.o.sseKeepaliveMs,
        policy: this.policyApplied ? undefined : this.o.policy,
      });
      this.heartbeat = setInterval(() => this.beat(ws), heartbeatMs);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.lastPong = Date.now();
      if (!isBinary && data.toString() === HEARTBEAT.pong) return;
      this.onMessage(ws, data, isBinary);
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => {
        const message = body.trim() || `relay answered HTTP ${res.statusCode}`;
        const code = res.headers["x-porthole-error"];
        // A wrong token or a bad name will not fix itself; anything else (a deploy, a restart) may.
        if (res.statusCode === 401 || res.statusCode === 400) return this.fatal(String(code ?? res.statusCode), message);
        this.retry(`relay answered HTTP ${res.statusCode}: ${message}`);
      });
    });
    ws.on("error", (err) => {
      if (!opened) this.retry(`cannot reach the relay at ${this.o.relay} (${err.message})`);
    });
    // A socket that never opened was already handled by "error" or "unexpected-response".
    ws.on("close", (code, reasonBuf) => {
      if (opened) this.onClose(ws, code, reasonBuf.toString());
    });
    return this;
  }

  /** Stops the agent: closes the relay socket and every local stream. */
  async close(): Promise<void> {
    this.stopped = true;
    process.off(STATS_SIGNAL, this.reportStats);
    clearTimeout(this.retryTimer);
    this.stopStreams("agent shutting down");
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => ws.once("close", resolve));
      ws.close(CloseCode.normal, "agent shutting down");
      // Shutdown must not hang on a relay that never completes the close handshake.
      const timer = setTimeout(() => ws.terminate(), AGENT_DEFAULTS.closeTimeoutMs);
      await closed;
      clearTimeout(timer);
    }
    this.settle.resolve();
  }

  private emit(e: AgentEvent): void {
    this.o.onEvent?.(e);
  }

  private send(f: AgentFrame): void {
    this.batcher?.push(encodeFrameParts(f));
  }

  private get heartbeatMs(): number {
    return this.o.heartbeatMs ?? AGENT_DEFAULTS.heartbeatMs;
  }

  private beat(ws: WebSocket): void {
    const silentMs = Date.now() - this.lastPong;
    if (silentMs > 3 * this.heartbeatMs) {
      this.lastError = { code: "heartbeat", message: `no answer from the relay for ${Math.round(silentMs / 1000)} s` };
      ws.terminate();
      return;
    }
    ws.send(HEARTBEAT.ping);
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    let frames: RelayFrame[];
    try {
      frames = decodeRelayMessage(isBinary ? data : data.toString());
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.send({ type: "error", code: "protocol-error", message: err.message });
      this.batcher?.flush();
      ws.close(err.closeCode, err.message.slice(0, 123));
      return;
    }
    for (const f of frames) {
      try {
        this.dispatch(f);
      } catch (err) {
        // Public input reaches these handlers; one bad stream must not take the agent down.
        if (!("stream" in f)) throw err;
        this.failStream(f.stream, f.type, err as Error);
      }
    }
  }

  private failStream(stream: number, frameType: string, err: Error): void {
    const message = `the agent could not handle ${frameType} (${err.message})`;
    this.send({ type: "reset", stream, code: err instanceof ProtocolError ? "flow-control" : "local-error", message });
    this.streams.get(stream)?.destroy(message);
    this.streams.delete(stream);
  }

  private dispatch(f: RelayFrame): void {
    switch (f.type) {
      case "ready": {
        this.attempt = 0;
        const rules = this.o.policy && (this.o.policy.verify.length > 0 || Object.keys(this.o.policy.access).length > 0);
        if (rules && !this.policyApplied && !f.policy) {
          // A relay that dropped the rules would leave the URL open while the user believes it is protected.
          this.fatal("policy-ignored", `the relay did not apply the tunnel's --verify and access options; update the relay`);
          return;
        }
        this.policyApplied = true;
        const ready = { event: "ready", name: f.name, url: f.url, pathUrl: f.pathUrl, policy: f.policy } as const;
        this.emit(ready);
        this.settleReady.resolve(ready);
        return;
      }
      case "notice":
        this.emit({ event: "refused", method: f.method, path: f.path, status: f.status, reason: f.reason });
        return;
      case "error":
      case "goaway":
        this.lastError = { code: f.code, message: f.message };
        return;
      case "request-head":
        this.streams.set(f.stream, new LocalHttp(f, this.context(f.stream, f.method, f.path, f.note)));
        return;
      case "ws-open":
        this.streams.set(f.stream, new LocalWs(f, this.context(f.stream, "GET", f.path)));
        return;
      case "data":
      case "end":
      case "reset":
      case "credit":
      case "ws-message":
      case "ws-close": {
        const stream = this.streams.get(f.stream);
        if (stream instanceof LocalWs) return stream.onFrame(f);
        if (stream && f.type !== "ws-message" && f.type !== "ws-close") return stream.onFrame(f);
        if (f.type === "data" || f.type === "ws-message") {
          this.send({ type: "reset", stream: f.stream, code: "unknown-stream", message: "the agent has no such stream" });
        }
        return;
      }
      default:
        return assertNever(f);
    }
  }

  private context(stream: number, method: string, path: string, note?: string): StreamContext {
    const started = performance.now();
    return {
      target: this.o.target,
      hostHeader: this.o.hostHeader ?? "rewrite",
      send: (frame) => this.send(frame),
      credit: this.credit,
      onDone: (summary) => {
        this.streams.delete(stream);
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        // The stream's last frames go out before the line is printed: printing is a blocking write to a pipe or file.
        this.batcher?.flush();
        this.emit({ event: "exchange", stream, method, path, durationMs, ...summary, ...(note ? { note } : {}) });
      },
    };
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    clearInterval(this.heartbeat);
    this.stopStreams("the relay connection was lost");
    if (this.stopped) return;
    const why = this.lastError ? `${this.lastError.code}: ${this.lastError.message}` : reason || `code ${code}`;
    this.emit({ event: "disconnected", code, reason: why });
    if (FATAL_CLOSE.has(code)) return this.fatal(this.lastError?.code ?? String(code), this.lastError?.message ?? reason);
    this.retry(`relay connection closed (${why})`);
  }

  private retry(cause: string): void {
    if (this.stopped || this.retryTimer) return;
    this.attempt += 1;
    // Equal jitter on an exponential ceiling, so many agents do not reconnect in lockstep after a deploy.
    const ceiling = Math.min(AGENT_DEFAULTS.backoffMaxMs, AGENT_DEFAULTS.backoffInitialMs * 2 ** (this.attempt - 1));
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.emit({ event: "reconnecting", attempt: this.attempt, delayMs, cause });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.start();
    }, delayMs);
  }

  private fatal(code: string, message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off(STATS_SIGNAL, this.reportStats);
    this.emit({ event: "fatal", code, message });
    this.ws?.terminate();
    const err = new AgentFatalError(code, message);
    this.settleReady.reject(err);
    this.settle.reject(err);
  }

  private stopStreams(reason: string): void {
    for (const stream of [...this.streams.values()]) stream.destroy(reason);
    this.streams.clear();
  }
}

/** Starts an agent and returns it; await `agent.ready` for the public URLs. */
export function startAgent(options: AgentOptions): Agent {
  return new Agent(options).start();
}
