// One public request from its arrival at the tunnel to the exchange that carries it: the gate,
// the wait for an agent, the headers the local server gets, and the capture of it all.

import { redactCredentials } from "./access";
import type { AgentLink } from "./agent-link";
import { capped } from "./body-reader";
import type { Settings } from "./env";
import { RelayError } from "./errors";
import { HttpExchange } from "./exchange";
import { broadcast } from "./feed";
import { CreditPool } from "./flow";
import { type TunnelGate, verdictLine } from "./gate";
import { addForwarded, stripForWebSocket, stripHopByHop } from "./headers";
import type { HeaderList } from "./protocol";
import type { PublicSockets } from "./public-ws";
import { newCaptureId, Recorder } from "./recorder";
import type { TunnelRecords } from "./records";
import { ROUTE_HEADER, type Route } from "./routing";
import { secretHeaders } from "./webhooks/verify";

/** The route of a public request. */
export type PublicRoute = Extract<Route, { kind: "public" }>;

/** What the forwarder shares with its tunnel. */
export type ForwarderDeps = {
  ctx: DurableObjectState;
  settings: Settings;
  records: TunnelRecords;
  gate: TunnelGate;
  link: AgentLink;
  sockets: PublicSockets;
  /** The exchanges in flight, by stream id; the tunnel routes the agent's frames through it. */
  exchanges: Map<number, HttpExchange>;
};

/** Carries public requests to the agent. */
export class Forwarder {
  private readonly credit = new CreditPool();

  constructor(private readonly d: ForwarderDeps) {}

  /** Carries one public request to the agent; the capture id names its record in the store. */
  async forward(request: Request, route: PublicRoute, replayOf: string | null = null): Promise<{ response: Response; captureId: string }> {
    const { d } = this;
    const method = request.method;
    const label = `${method} ${route.path}`;
    const upgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
    // Names that never had an agent are not captured: probing random names must not create storage.
    if (!d.records.known()) {
      throw new RelayError("tunnel-not-found", `Tunnel "${route.name}" does not exist on this relay: no agent has ever connected to it.`);
    }
    const policy = d.gate.policy(route.name);
    const raw: [string, string][] = [];
    for (const [k, v] of request.headers) if (k !== ROUTE_HEADER) raw.push([k, v]);
    const recorder = new Recorder({
      id: newCaptureId(),
      method,
      url: route.publicUrl,
      path: route.path,
      clientIp: route.clientIp,
      requestHeaders: redactSecrets(redactCredentials(raw, policy.access), secretHeaders(policy.specs)),
      kind: upgrade ? "websocket" : "http",
      replayOf,
      cap: d.records.captureBytes(),
      budget: d.records.budget,
    });
    const admitted = await d.gate.pass(policy, recorder, {
      tunnel: route.name,
      label,
      method,
      path: route.path,
      url: route.publicUrl,
      clientIp: route.clientIp,
      headers: raw,
      body: upgrade ? null : request.body,
      replay: replayOf !== null,
      upgrade,
    });
    const body = upgrade ? null : await this.limitBody(admitted.body, request, route, label, recorder);
    try {
      await this.waitForAgent(route, label);
    } catch (err) {
      if (err instanceof RelayError && err.code === "tunnel-offline") {
        recorder.relayAnswer(err.status, err.code, err.message);
        recorder.end("tunnel-offline", err.message);
        d.records.save(recorder);
      }
      throw err;
    }
    broadcast(d.ctx, { type: "start", capture: recorder.summary() });
    const id = this.newStreamId();
    const url = new URL(route.publicUrl);
    let headers = addForwarded(upgrade ? stripForWebSocket(admitted.headers) : stripHopByHop(admitted.headers), {
      clientIp: route.clientIp,
      proto: url.protocol.replace(":", ""),
      host: url.host,
    });
    if (route.prefix) headers = [...headers, ["X-Forwarded-Prefix", route.prefix]];
    const exchange = new HttpExchange({
      id,
      tunnel: route.name,
      method,
      path: route.path,
      headers,
      body,
      note: admitted.verification ? verdictLine(admitted.verification) : undefined,
      upgrade: upgrade
        ? { protocols: protocols(request), accept: (protocol) => d.sockets.accept(id, route.name, protocol, recorder) }
        : undefined,
      headTimeoutMs: d.settings.responseHeadTimeoutMs,
      send: (f) => d.link.send(f),
      recorder,
      pathMode: route.mode === "path",
      sseKeepaliveMs: d.records.sseKeepaliveMs(),
      credit: this.credit,
      onDone: (outcome, error) => {
        d.exchanges.delete(id);
        if (d.exchanges.size === 0) d.link.disarmWatchdog();
        // An accepted WebSocket goes on recording its messages until it closes; public-ws saves it then.
        if (recorder.status === 101 && outcome === "ok") return;
        recorder.end(outcome, error);
        d.records.save(recorder);
      },
    });
    d.exchanges.set(id, exchange);
    d.link.armWatchdog();
    return { response: await exchange.start(), captureId: recorder.id };
  }

  /**
   * Holds the body to the relay's limit: a declared length over it is refused before anything is forwarded
   * (and captured); an undeclared (chunked) body that grows past it fails the upload at the limit.
   */
  private async limitBody(
    body: ReadableStream<Uint8Array> | null,
    request: Request,
    route: PublicRoute,
    label: string,
    recorder: Recorder,
  ): Promise<ReadableStream<Uint8Array> | null> {
    const limit = this.d.settings.maxRequestBodyBytes;
    const tooLarge = (size: string) =>
      new RelayError(
        "body-too-large",
        `Tunnel "${route.name}" refused "${label}": the request body (${size}) exceeds the ${limit / 1024 / 1024} MiB limit of this relay.`,
      );
    const declared = Number(request.headers.get("Content-Length") ?? Number.NaN);
    if (declared > limit) {
      await body?.cancel().catch(() => {});
      const error = tooLarge(`${declared} bytes`);
      recorder.relayAnswer(error.status, error.code, error.message);
      recorder.end("denied", error.message);
      this.d.records.save(recorder);
      throw error;
    }
    // workerd holds a declared body to its Content-Length, so only an undeclared one needs counting.
    if (body === null || declared >= 0) return body;
    return capped(body, limit, () => tooLarge(`over ${limit} bytes, sent without a Content-Length`));
  }

  /** Resolves when an agent is ready; holds the request through the reconnect grace, then fails. */
  private async waitForAgent(route: PublicRoute, label: string): Promise<void> {
    if (this.d.link.alive()) return;
    const graceMs = this.d.settings.reconnectGraceMs;
    if (!(await this.d.link.waitFor(graceMs))) {
      throw new RelayError(
        "tunnel-offline",
        `Tunnel "${route.name}" is offline: no agent reconnected within ${graceMs / 1000} s to serve "${label}".`,
        { "Retry-After": String(Math.max(1, Math.ceil(graceMs / 1000))) },
      );
    }
  }

  /** Random ids: a counter would restart after hibernation and collide with live public sockets. */
  private newStreamId(): number {
    const ids = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(ids);
      const id = ids[0] ?? 0;
      if (id !== 0 && !this.d.exchanges.has(id) && !this.d.sockets.has(id)) return id;
    }
  }
}

/** Headers whose value is a webhook secret (GitLab's token), kept in the capture by name only. */
function redactSecrets(headers: HeaderList, names: string[]): HeaderList {
  if (names.length === 0) return headers;
  const secret = new Set(names.map((n) => n.toLowerCase()));
  return headers.map(([k, v]) => (secret.has(k.toLowerCase()) ? [k, "[redacted]"] : [k, v]));
}

/** The subprotocols a WebSocket upgrade offers. */
function protocols(request: Request): string[] {
  const header = request.headers.get("Sec-WebSocket-Protocol");
  return header
    ? header
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)
    : [];
}
