// A fake agent: it speaks the wire protocol over `response.webSocket`, keeps every relay frame
// in arrival order, and lets a test await the next frame that matches, or the socket's close.
// Every socket it opens is closed when the test finishes.

import { onTestFinished } from "vitest";
import {
  decodeRelayMessage,
  encodeFrame,
  type Frame,
  type HeaderList,
  LIMITS,
  PROTOCOL_VERSION,
  type Ready,
  type RelayFrame,
} from "../../worker/protocol";
import { type Closed, closeQuietly, concat, connectRequest, Mailbox, onClose, publicFetch, WAIT_MS, within } from "./helpers";

type FrameOf<T extends RelayFrame["type"]> = Extract<RelayFrame, { type: T }>;
export type HelloOptions = { agentId?: string; force?: boolean; version?: number; sseKeepaliveMs?: number; policy?: unknown };
export type Answer = { status?: number; headers?: HeaderList; body?: Uint8Array | string };

/** An agent under the test's control, connected to the relay in this workerd. */
export class FakeAgent {
  private readonly frames = new Mailbox<RelayFrame>();
  /** Text messages: only the heartbeat's "pong" is expected. */
  private readonly texts = new Mailbox<string>();
  /** Resolves with the close the relay sent (or the one that ended the socket). */
  readonly closed: Promise<Closed>;
  /** The relay's ready frame, once `connect` completed the handshake. */
  ready?: Ready;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer"; // The compat date makes "blob" the default.
    this.closed = onClose(ws, ({ code, reason }) => {
      const closed = new Error(`the agent socket closed (${code} ${reason})`);
      this.frames.end(closed);
      this.texts.end(closed);
    });
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") return this.texts.push(e.data);
      try {
        for (const f of decodeRelayMessage(e.data as ArrayBuffer)) this.frames.push(f);
      } catch (err) {
        this.frames.end(new Error(`the relay sent an undecodable frame: ${(err as Error).message}`));
      }
    });
    ws.accept();
    onTestFinished(() => this.close());
  }

  /** Opens the agent socket without saying hello. Throws unless the relay upgrades. */
  static async open(name: string): Promise<FakeAgent> {
    const res = await connectRequest(name);
    if (res.status !== 101 || !res.webSocket) throw new Error(`connect to "${name}" answered ${res.status}: ${await res.text()}`);
    return new FakeAgent(res.webSocket);
  }

  /** Opens the socket, says hello and waits for `ready`. */
  static async connect(name: string, hello: HelloOptions = {}): Promise<FakeAgent> {
    const agent = await FakeAgent.open(name);
    agent.hello(hello);
    agent.ready = await agent.next("ready");
    return agent;
  }

  hello({ agentId = "a1", force = false, version = PROTOCOL_VERSION, sseKeepaliveMs, policy }: HelloOptions = {}): void {
    this.send({ type: "hello", version, agentId, client: "fake-agent", force, heartbeatMs: 15_000, sseKeepaliveMs, policy });
  }

  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  /** Sends frames in one message, as the agent's batcher packs the frames of one turn. */
  sendTogether(frames: Frame[]): void {
    this.ws.send(concat(frames.map(encodeFrame)));
  }

  /** Sends bytes that need not be a valid frame. */
  sendRaw(message: Uint8Array | string): void {
    this.ws.send(message);
  }

  /** Takes the first unread frame of one of `types` that satisfies `where`, waiting for it if needed. */
  next<T extends RelayFrame["type"]>(types: T | T[], where: (f: FrameOf<T>) => boolean = () => true, ms = WAIT_MS): Promise<FrameOf<T>> {
    const wanted = new Set<string>(Array.isArray(types) ? types : [types]);
    const match = (f: RelayFrame): f is FrameOf<T> => wanted.has(f.type) && where(f as FrameOf<T>);
    return this.frames.take(match, ms, `a ${[...wanted].join("/")} frame`) as Promise<FrameOf<T>>;
  }

  /** Takes the next text message, waiting for it if needed. */
  nextText(ms = WAIT_MS): Promise<string> {
    return this.texts.take(() => true, ms, "a text message");
  }

  /** Frames received and not yet taken by `next`. */
  pending(): readonly RelayFrame[] {
    return this.frames.unread;
  }

  /** Collects a request body: data frames for `stream` up to its end frame. */
  async body(stream: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const f = await this.next(["data", "end"], (x) => x.stream === stream);
      if (f.type === "end") return concat(parts);
      parts.push(f.chunk);
    }
  }

  /** Answers a request: response head, the body in chunks of at most LIMITS.maxChunkBytes, and end. */
  respond(stream: number, { status = 200, headers = [], body }: Answer = {}): void {
    this.send({ type: "response-head", stream, status, statusText: "", headers, body: body !== undefined });
    if (body === undefined) return;
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    for (let at = 0; at < bytes.byteLength; at += LIMITS.maxChunkBytes) {
      this.send({ type: "data", stream, chunk: bytes.subarray(at, at + LIMITS.maxChunkBytes) });
    }
    this.send({ type: "end", stream });
  }

  /** Serves the next request (reading its body) with a fixed answer, and returns its head. */
  async serveNext(answer: Answer = { body: "ok" }): Promise<FrameOf<"request-head">> {
    const head = await this.next("request-head");
    if (head.body) await this.body(head.stream);
    this.respond(head.stream, answer);
    return head;
  }

  /** The close the relay sent, within a short wait. */
  closeEvent(ms = WAIT_MS): Promise<Closed> {
    return within(this.closed, ms, "the agent socket to close");
  }

  close(code = 1000, reason = ""): void {
    closeQuietly(this.ws, code, reason);
  }
}

/** One public GET through the tunnel, answered by the agent with "pong <path>". */
export async function roundTrip(agent: FakeAgent, name: string, path = "/ping"): Promise<Response> {
  const res = publicFetch(name, path);
  await agent.serveNext({ status: 200, body: `pong ${path}` });
  return within(res, WAIT_MS, `the public response for ${path}`);
}
