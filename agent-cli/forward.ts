// Forwards one relayed HTTP stream to the local target and streams the response back under credit.

import http from "node:http";
import https from "node:https";
import { type CreditPool, Inbox, Outbox } from "../worker/flow";
import { applyHost, type HostHeaderMode, stripHopByHop } from "../worker/headers";
import { type AgentFrame, type HeaderList, LIMITS, type RequestHead, type ResetCode } from "../worker/protocol";
import type { Target } from "./target";

/** What a stream needs from the agent around it. */
export type StreamContext = {
  target: Target;
  hostHeader: HostHeaderMode;
  send: (frame: AgentFrame) => void;
  /** The agent's credit for widening fast uploads (see WIDEN). */
  credit: CreditPool;
  /** Called once when the stream ends, with a summary for the console. */
  onDone: (summary: { status: number; bytesIn: number; bytesOut: number; error?: string }) => void;
};

/** Relay frames that belong to a stream the agent has open. */
export type StreamFrame =
  | { type: "data"; stream: number; chunk: Uint8Array }
  | { type: "end"; stream: number }
  | { type: "reset"; stream: number; code: ResetCode; message: string }
  | { type: "credit"; stream: number; bytes: number };

/** Keep-alive pools, so small requests do not pay for a new local connection each time. */
const pools = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
  // Local dev servers use self-signed certificates; skipping verification is fine only on this machine.
  loopbackHttps: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
};

/** True for targets on this machine, where a self-signed certificate is expected. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "::1" || hostname.startsWith("127.");
}

/**
 * Header values as Node must send them. The runtime hands the relay header bytes decoded as UTF-8;
 * re-encoding them as latin1 restores the exact bytes (Node would refuse characters above U+00FF).
 */
export function wireHeaders(headers: HeaderList): HeaderList {
  return headers.map(([k, v]) => [k, /[\u0080-\uffff]/.test(v) ? Buffer.from(v, "utf8").toString("latin1") : v]);
}

const NO_BODY_STATUS = new Set([204, 304]);

/** Pairs from Node's flat rawHeaders list, in order, with repeats. */
export function pairs(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** Maps a local socket error to a reset code and a sentence naming the target. */
export function localFailure(err: NodeJS.ErrnoException, target: Target): { code: ResetCode; message: string } {
  const unreachable = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE"];
  if (err.code && unreachable.includes(err.code)) {
    return { code: "local-unreachable", message: `the local server at ${target.origin} is unreachable (${err.code})` };
  }
  if (err.code === "ETIMEDOUT") return { code: "local-timeout", message: `the local server at ${target.origin} timed out` };
  return { code: "local-error", message: `the local request to ${target.origin} failed (${err.message})` };
}

/**
 * Streams a local response back to the relay: head, then data under credit, then end.
 * Returns the outbox so credit frames can reach it.
 */
export function pumpResponse(
  res: http.IncomingMessage,
  stream: number,
  method: string,
  ctx: StreamContext,
  finish: (error?: string) => void,
  counters: { bytesOut: number },
): Outbox {
  const status = res.statusCode ?? 502;
  const body = method !== "HEAD" && !NO_BODY_STATUS.has(status);
  ctx.send({
    type: "response-head",
    stream,
    status,
    statusText: res.statusMessage ?? "",
    headers: stripHopByHop(pairs(res.rawHeaders)),
    body,
  });
  const outbox = new Outbox(
    (chunk) => ctx.send({ type: "data", stream, chunk }),
    () => {
      ctx.send({ type: "end", stream });
      finish();
    },
  );
  if (!body) {
    res.resume();
    res.on("end", () => finish());
    return outbox;
  }
  res.on("data", (chunk: Buffer) => {
    counters.bytesOut += chunk.byteLength;
    if (!outbox.push(chunk, undefined)) {
      res.pause();
      outbox.drained().then(() => res.resume());
    }
  });
  res.on("end", () => outbox.end());
  res.on("error", (err) => {
    ctx.send({ type: "reset", stream, code: "local-error", message: `the local response broke off (${err.message})` });
    finish(err.message);
  });
  return outbox;
}

/** One relayed HTTP request to the local target. */
export class LocalHttp {
  private readonly req: http.ClientRequest;
  private readonly inbox: Inbox;
  private outbox?: Outbox;
  private status = 0;
  private bytesIn = 0;
  private readonly counters = { bytesOut: 0 };
  private done = false;

  constructor(
    private readonly head: RequestHead,
    private readonly ctx: StreamContext,
  ) {
    const { target } = ctx;
    this.inbox = new Inbox(LIMITS.initialWindow, ctx.credit);
    const headers = wireHeaders(applyHost(stripHopByHop(head.headers), ctx.hostHeader, target.host));
    const request = target.protocol === "https:" ? https.request : http.request;
    // The path is always origin-form on the configured target: "//evil.example/x" stays a path there.
    this.req = request({
      host: target.hostname,
      port: target.port,
      method: head.method,
      path: head.path.startsWith("/") ? head.path : `/${head.path}`,
      headers: headers.flat(),
      setHost: false,
      agent: target.protocol === "http:" ? pools.http : isLoopback(target.hostname) ? pools.loopbackHttps : pools.https,
    });
    this.req.on("response", (res) => {
      this.status = res.statusCode ?? 0;
      this.outbox = pumpResponse(res, head.stream, head.method, ctx, (error) => this.finish(error), this.counters);
      res.on("close", () => {
        if (!res.complete && !this.done) this.fail("local-error", "the local server closed the response early");
      });
    });
    this.req.on("error", (err: NodeJS.ErrnoException) => {
      const failure = localFailure(err, target);
      this.fail(failure.code, failure.message);
    });
    if (!head.body) this.req.end();
  }

  /** Routes a relay frame for this stream. */
  onFrame(f: StreamFrame): void {
    switch (f.type) {
      case "data": {
        this.inbox.accept(f.chunk.byteLength);
        this.bytesIn += f.chunk.byteLength;
        const size = f.chunk.byteLength;
        // Credit goes back only once the local socket took the bytes: that is the upload's backpressure.
        this.req.write(f.chunk, () => {
          const grant = this.inbox.release(size);
          if (grant > 0 && !this.done) this.ctx.send({ type: "credit", stream: this.head.stream, bytes: grant });
        });
        return;
      }
      case "end":
        this.req.end();
        return;
      case "credit":
        this.outbox?.grant(f.bytes);
        return;
      case "reset":
        this.destroy(`${f.code}: ${f.message}`);
        return;
    }
  }

  /** Aborts the local request, so the local server sees it closed. */
  destroy(reason: string): void {
    if (this.done) return;
    this.req.destroy();
    this.finish(reason);
  }

  private fail(code: ResetCode, message: string): void {
    if (this.done) return;
    this.ctx.send({ type: "reset", stream: this.head.stream, code, message });
    this.req.destroy();
    this.finish(message);
  }

  private finish(error?: string): void {
    if (this.done) return;
    this.done = true;
    // The local socket took every byte it was given credit for, so what was lent is free again.
    this.inbox.close();
    // A server that answered before reading the whole upload must not keep a pooled socket busy.
    if (!this.req.writableEnded) this.req.destroy();
    this.outbox?.cancel();
    this.ctx.onDone({ status: this.status, bytesIn: this.bytesIn, bytesOut: this.counters.bytesOut, error });
  }
}
