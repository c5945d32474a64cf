// Forwards one relayed public WebSocket to the local target's WebSocket server.

import WebSocket from "ws";
import { Inbox, MessageAssembler, Outbox } from "../worker/flow";
import { applyHost, stripForWebSocket } from "../worker/headers";
import { LIMITS, type WsClose, type WsMessage, type WsOpen } from "../worker/protocol";
import { isLoopback, localFailure, pumpResponse, type StreamContext, type StreamFrame, wireHeaders } from "./forward";

export type WsFrame = StreamFrame | WsMessage | WsClose;

/** A subprotocol token (RFC 6455 §4.1), as ws checks it. */
const SUBPROTOCOL = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** A local WebSocket client standing in for one public client. */
export class LocalWs {
  private readonly ws: WebSocket;
  private readonly inbox = new Inbox();
  private readonly assembler = new MessageAssembler();
  private readonly outbox: Outbox<boolean>;
  private response?: Outbox;
  private opened = false;
  private done = false;
  private status = 0;
  private bytesIn = 0;
  private readonly counters = { bytesOut: 0 };

  constructor(
    private readonly open: WsOpen,
    private readonly ctx: StreamContext,
  ) {
    const { target } = ctx;
    const stream = open.stream;
    const headers = Object.fromEntries(wireHeaders(applyHost(stripForWebSocket(open.headers), ctx.hostHeader, target.host)));
    const scheme = target.protocol === "https:" ? "wss:" : "ws:";
    // The public client chose these; ws throws on a repeated or malformed one, so those are dropped.
    const protocols = [...new Set(open.protocols)].filter((p) => SUBPROTOCOL.test(p));
    this.ws = new WebSocket(`${scheme}//${target.host}${open.path.startsWith("/") ? "" : "/"}${open.path}`, protocols, {
      headers,
      perMessageDeflate: false,
      maxPayload: LIMITS.maxWsMessageBytes,
      rejectUnauthorized: !isLoopback(target.hostname),
    });
    this.outbox = new Outbox<boolean>((chunk, fin, binary) => ctx.send({ type: "ws-message", stream, binary, fin, chunk }));
    this.ws.on("open", () => {
      this.opened = true;
      this.status = 101;
      ctx.send({ type: "ws-accept", stream, protocol: this.ws.protocol });
    });
    // The local server refused the upgrade: its HTTP answer goes back as an ordinary response.
    this.ws.on("unexpected-response", (_req, res) => {
      this.status = res.statusCode ?? 0;
      this.response = pumpResponse(res, stream, "GET", ctx, (error) => this.finish(error), this.counters);
    });
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.counters.bytesOut += data.byteLength;
      if (!this.outbox.push(data, isBinary)) {
        this.ws.pause();
        this.outbox.drained().then(() => this.ws.resume());
      }
    });
    this.ws.on("close", (code, reason) => {
      if (this.opened && !this.done) ctx.send({ type: "ws-close", stream, code, reason: reason.toString() });
      this.finish();
    });
    this.ws.on("error", (err: NodeJS.ErrnoException) => {
      if (this.opened || this.response || this.done) return;
      const failure = localFailure(err, target);
      ctx.send({ type: "reset", stream, code: failure.code, message: failure.message });
      this.finish(failure.message);
    });
  }

  /** Routes a relay frame for this stream. */
  onFrame(f: WsFrame): void {
    switch (f.type) {
      case "ws-message": {
        this.inbox.accept(f.chunk.byteLength);
        this.bytesIn += f.chunk.byteLength;
        const size = f.chunk.byteLength;
        const whole = this.assembler.push(f.chunk, f.fin);
        const grant = () => {
          const bytes = this.inbox.release(size, whole !== undefined);
          if (bytes > 0 && !this.done) this.ctx.send({ type: "credit", stream: this.open.stream, bytes });
        };
        if (whole) this.ws.send(whole, { binary: f.binary }, grant);
        else grant();
        return;
      }
      case "ws-close":
        try {
          if (f.code === 1005) this.ws.close();
          else this.ws.close(f.code, f.reason);
        } catch {
          // Codes a client may not send (1006, 1015, …) end the local socket without a close frame.
          this.ws.terminate();
        }
        return;
      case "credit":
        (this.response ?? this.outbox).grant(f.bytes);
        return;
      case "reset":
        this.destroy(`${f.code}: ${f.message}`);
        return;
      case "data":
      case "end":
        return;
    }
  }

  /** Drops the local socket. */
  destroy(reason: string): void {
    if (this.done) return;
    this.ws.terminate();
    this.finish(reason);
  }

  private finish(error?: string): void {
    if (this.done) return;
    this.done = true;
    this.outbox.cancel();
    this.response?.cancel();
    this.ctx.onDone({ status: this.status, bytesIn: this.bytesIn, bytesOut: this.counters.bytesOut, error });
  }
}
