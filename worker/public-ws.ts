// Live public WebSockets proxied to the agent. Both ends are hibernatable sockets, so an idle
// proxied socket lets the Durable Object hibernate; everything here is rebuilt from tags and
// attachments after a wake. The in-memory flow state starts fresh then, which is right because
// both sides grant back all credit whenever a message completes: an idle link is at full window.

import type { Outcome } from "./capture-model";
import { Inbox, MessageAssembler, Outbox } from "./flow";
import { LIMITS, ProtocolError, type RelayFrame, type WsClose, type WsMessage } from "./protocol";
import type { Recorder } from "./recorder";

/** Attachment stored on each public socket. */
export type PublicAttachment = { role: "public"; id: number; tunnel: string };

/** Bytes the relay queues for one public socket before it gives up on a local server that does not keep up. */
export const WS_BACKLOG_BYTES = 4 * LIMITS.initialWindow;

type Link = {
  ws: WebSocket;
  toAgent: Outbox<boolean>;
  fromAgent: Inbox;
  assembler: MessageAssembler;
  /** The socket's capture; a link rebuilt after hibernation records no further messages. */
  recorder?: Recorder;
  flushTimer?: ReturnType<typeof setTimeout>;
};

/** Quiet time after which a socket's messages so far are written, so a hibernation loses none of them. */
const FLUSH_AFTER_MS = 2000;

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

/** Close codes a peer may not send itself; they are mapped before being forwarded. */
export function sendableCloseCode(code: number): number | undefined {
  if (code === 1005) return undefined;
  if (code === 1006 || code === 1015) return 1011;
  return code >= 1000 && code <= 4999 ? code : 1011;
}

/** Manages public sockets tagged `public:<id>`. */
export class PublicSockets {
  private readonly links = new Map<number, Link>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly send: (frame: RelayFrame) => void,
    private readonly save: (recorder: Recorder, final: boolean) => void,
  ) {}

  /** Accepts the public side of an upgrade the local server has accepted. */
  accept(id: number, tunnel: string, protocol: string, recorder: Recorder): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, ["public", `public:${id}`]);
    server.serializeAttachment({ role: "public", id, tunnel } satisfies PublicAttachment);
    (this.link(id, server) as Link).recorder = recorder;
    const headers = protocol ? { "Sec-WebSocket-Protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Public client → agent, fragmented under the stream's credit. */
  fromPublic(ws: WebSocket, att: PublicAttachment, message: string | ArrayBuffer): void {
    const link = this.link(att.id, ws) as Link; // Defined: the socket is given.
    const binary = typeof message !== "string";
    const bytes = binary ? new Uint8Array(message) : utf8.encode(message);
    if (bytes.byteLength > LIMITS.maxWsMessageBytes) return this.refuse(ws, att.id, 1009, "porthole: message too large");
    // Measured before this message, so one large message is fine; a pile-up behind a slow local server is not.
    if (link.toAgent.pending > WS_BACKLOG_BYTES) return this.refuse(ws, att.id, 1008, "porthole: the local server is not keeping up");
    this.recordMessage(link, "in", binary, bytes);
    link.toAgent.push(bytes, binary);
  }

  /** Agent → public client: reassembles fragments, then sends the whole message. */
  fromAgent(f: WsMessage): void {
    const link = this.link(f.stream);
    if (!link) return this.send({ type: "reset", stream: f.stream, code: "unknown-stream", message: "no such public WebSocket" });
    const { ws } = link;
    let whole: Uint8Array | undefined;
    try {
      link.fromAgent.accept(f.chunk.byteLength);
      whole = link.assembler.push(f.chunk, f.fin);
    } catch (err) {
      const reason = err instanceof ProtocolError ? err.message : String(err);
      this.closePublic(ws, f.stream, 1009, "porthole: message too large");
      return this.send({ type: "reset", stream: f.stream, code: "too-large", message: reason });
    }
    // A socket already closing cannot take the message; its close is on its way to the agent.
    if (whole && ws.readyState === WebSocket.OPEN) {
      this.recordMessage(link, "out", f.binary, whole);
      ws.send(f.binary ? whole : utf8Decode.decode(whole));
    }
    const grant = link.fromAgent.release(f.chunk.byteLength, f.fin);
    if (grant > 0) this.send({ type: "credit", stream: f.stream, bytes: grant });
  }

  /** The agent granted credit for public → local bytes. */
  credit(stream: number, bytes: number): void {
    this.links.get(stream)?.toAgent.grant(bytes);
  }

  /** The local server closed, or the agent failed the local socket. */
  closeFromAgent(f: WsClose): void {
    const link = this.link(f.stream);
    if (link) this.closePublic(link.ws, f.stream, sendableCloseCode(f.code) ?? 1000, f.reason);
  }

  /** The public client closed: tell the agent, complete the close handshake and forget the link. */
  closedByPublic(ws: WebSocket, att: PublicAttachment, code: number, reason: string): void {
    this.send({ type: "ws-close", stream: att.id, code, reason });
    this.closePublic(ws, att.id, sendableCloseCode(code) ?? 1000, reason);
  }

  /** Closes every public socket, e.g. when the agent disconnects. */
  closeAll(code: number, reason: string): void {
    for (const ws of this.ctx.getWebSockets("public")) {
      const att = ws.deserializeAttachment() as PublicAttachment;
      this.closePublic(ws, att.id, code, reason, "agent-gone");
    }
  }

  /** Public sockets still open, counted from the runtime's list so hibernated ones count too. */
  openCount(): number {
    return this.ctx.getWebSockets("public").filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  /** True when a public socket uses this stream id (ids outlive hibernation in tags). */
  has(stream: number): boolean {
    return this.links.has(stream) || this.socket(stream) !== undefined;
  }

  /** Closes a public socket the relay will not serve further, and tells the agent. */
  private refuse(ws: WebSocket, id: number, code: number, reason: string): void {
    this.closePublic(ws, id, code, reason);
    this.send({ type: "ws-close", stream: id, code, reason });
  }

  private recordMessage(link: Link, direction: "in" | "out", binary: boolean, bytes: Uint8Array): void {
    const { recorder } = link;
    if (!recorder) return;
    recorder.wsMessage(direction, binary, bytes);
    if (link.flushTimer !== undefined) clearTimeout(link.flushTimer);
    link.flushTimer = setTimeout(() => {
      link.flushTimer = undefined;
      this.save(recorder, false);
    }, FLUSH_AFTER_MS);
  }

  private closePublic(ws: WebSocket, id: number, code: number, reason: string, outcome: Outcome = "ok"): void {
    const link = this.links.get(id);
    if (link?.recorder) {
      if (link.flushTimer !== undefined) clearTimeout(link.flushTimer);
      link.recorder.end(outcome, code === 1000 || code === 1005 ? undefined : `closed ${code}${reason ? ` ${reason}` : ""}`);
      this.save(link.recorder, true);
    }
    link?.toAgent.cancel();
    this.links.delete(id);
    try {
      ws.close(code === 1005 ? 1000 : code, reason.slice(0, 123));
    } catch {
      // Already closed: the close handshake finished on its own.
    }
  }

  private socket(stream: number): WebSocket | undefined {
    return this.ctx.getWebSockets(`public:${stream}`)[0];
  }

  /** The link for a stream, rebuilt after a wake from the socket's tag; undefined when no such socket is open. */
  private link(id: number, known?: WebSocket): Link | undefined {
    let link = this.links.get(id);
    if (!link) {
      const ws = known ?? this.socket(id);
      if (!ws) return undefined;
      link = {
        ws,
        toAgent: new Outbox<boolean>((chunk, fin, binary) => this.send({ type: "ws-message", stream: id, binary, fin, chunk })),
        fromAgent: new Inbox(),
        assembler: new MessageAssembler(),
      };
      this.links.set(id, link);
    }
    return link;
  }
}
