// One public request carried over the agent socket: an HTTP request/response pair, or a
// WebSocket upgrade until the local server accepts or refuses it.

import { chunkReader } from "./body-reader";
import { concatBytes } from "./bytes";
import type { Outcome } from "./capture-model";
import { RelayError } from "./errors";
import { type CreditPool, Inbox, Outbox } from "./flow";
import { type HeaderList, LIMITS, type RelayFrame, type Reset, type ResetCode, type ResponseHead, type WsAccept } from "./protocol";
import type { Recorder } from "./recorder";
import { SseKeepalive } from "./sse-keepalive";

/** Frames the agent sends for an exchange that is still in memory. */
export type ExchangeFrame =
  | ResponseHead
  | WsAccept
  | Reset
  | { type: "data"; stream: number; chunk: Uint8Array }
  | { type: "end"; stream: number }
  | { type: "credit"; stream: number; bytes: number };

export type ExchangeOptions = {
  id: number;
  tunnel: string;
  method: string;
  path: string;
  headers: HeaderList;
  body: ReadableStream<Uint8Array> | null;
  /** What the relay checked, for the agent's console. */
  note?: string;
  /** For an upgrade: the subprotocols offered, and how to accept the public side once the local server did. */
  upgrade?: { protocols: string[]; accept: (protocol: string) => Response };
  headTimeoutMs: number;
  send: (frame: RelayFrame) => void;
  /** Records the exchange as it streams. */
  recorder: Recorder;
  /** Path mode: the tunnel shares the relay's origin with the inspector. */
  pathMode: boolean;
  /** Idle time before a keepalive comment goes into an event stream; 0 for none. */
  sseKeepaliveMs: number;
  /** Called once, when the exchange leaves memory, with how it ended. */
  onDone: (outcome: Outcome, error?: string) => void;
  /** The tunnel's credit for widening fast downloads (see WIDEN). */
  credit: CreditPool;
};

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

const RESET_ERRORS: Record<ResetCode, "local-unreachable" | "local-timeout" | "body-too-large" | "tunnel-offline"> = {
  "local-unreachable": "local-unreachable",
  "local-error": "local-unreachable",
  "local-timeout": "local-timeout",
  "too-large": "body-too-large",
  "agent-gone": "tunnel-offline",
  "client-aborted": "local-unreachable",
  "flow-control": "local-unreachable",
  "unknown-stream": "local-unreachable",
};

/** The response's Content-Length, when it declares one valid length (repeated lines join, as Headers.get joins them). */
function declaredLength(headers: HeaderList): number | undefined {
  const values = headers.filter(([k]) => k.toLowerCase() === "content-length").map(([, v]) => v);
  const length = values.length === 0 ? Number.NaN : Number(values.join(", "));
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** How a reset code reads as a capture outcome. */
function outcomeOf(code: ResetCode): Outcome {
  switch (code) {
    case "client-aborted":
    case "local-unreachable":
    case "local-timeout":
    case "agent-gone":
      return code;
    default:
      return "local-error";
  }
}

/** A public request in flight. Frames are routed to it synchronously, so body chunks never reorder. */
export class HttpExchange {
  private settle?: { resolve: (response: Response) => void; reject: (err: RelayError) => void };
  private timer?: ReturnType<typeof setTimeout>;
  private writer?: WritableStreamDefaultWriter<Uint8Array>;
  /** Writes into the public response that the client has not read yet. */
  private unreadWrites = 0;
  private keepalive?: SseKeepalive;
  /** A response head whose body is still being gathered from the message that brought it. */
  private held?: { head: ResponseHead; chunks: Uint8Array[]; bytes: number };
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  private finished = false;
  /** True once the whole request body went to the agent (or there was none). */
  private requestDone: boolean;

  constructor(private readonly o: ExchangeOptions) {
    this.requestDone = o.body === null;
    this.inbox = new Inbox(LIMITS.initialWindow, o.credit);
    this.outbox = new Outbox(
      (chunk) => o.send({ type: "data", stream: o.id, chunk }),
      () => o.send({ type: "end", stream: o.id }),
    );
  }

  /** Sends the request to the agent and resolves with the public response once the head arrives. */
  async start(): Promise<Response> {
    const { o } = this;
    const answer = new Promise<Response>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.timer = setTimeout(() => {
      const seconds = o.headTimeoutMs / 1000;
      this.rejectHead(new RelayError("local-timeout", `Tunnel "${o.tunnel}" got no response to "${this.label}" within ${seconds} s.`));
      this.fail("local-timeout", `local server sent no response head within ${seconds} s`);
    }, o.headTimeoutMs);
    if (o.upgrade) {
      o.send({ type: "ws-open", stream: o.id, path: o.path, headers: o.headers, protocols: o.upgrade.protocols });
    } else {
      const note = o.note === undefined ? {} : { note: o.note };
      o.send({ type: "request-head", stream: o.id, method: o.method, path: o.path, headers: o.headers, body: o.body !== null, ...note });
      if (o.body) void this.pump(o.body);
    }
    return answer.finally(() => this.clearTimer());
  }

  /** Routes one agent frame. Must stay synchronous: awaiting here would let chunks reorder. */
  onFrame(f: ExchangeFrame): void {
    // Any other frame (a reset, say) acts on the answer as it would have stood: the streamed one.
    if (this.held && f.type !== "data" && f.type !== "end") this.answerHeld(false);
    switch (f.type) {
      case "response-head":
        if (!this.settle) return this.fail("flow-control", "a second response head");
        if (this.nullBody(f)) return this.answer(() => this.response(f, null));
        // The rest of this message is routed before the answer is built (frames of one message are routed in one
        // task): a response that ends in it goes out as one body, which costs the runtime far less than a stream.
        this.held = { head: f, chunks: [], bytes: 0 };
        queueMicrotask(() => this.answerHeld(false));
        return;
      case "ws-accept": {
        const { upgrade } = this.o;
        if (!upgrade) return this.fail("local-error", "ws-accept for a plain HTTP request");
        this.o.recorder.responseHead(101, f.protocol ? [["sec-websocket-protocol", f.protocol]] : []);
        this.answer(() => upgrade.accept(f.protocol));
        return this.finish("ok");
      }
      case "data":
        return this.onData(f.chunk);
      case "end":
        if (this.held) return this.answerHeld(true);
        this.writer?.close().catch(() => {});
        this.finish("ok");
        return;
      case "credit":
        this.outbox.grant(f.bytes);
        return;
      case "reset":
        return this.onReset(f);
    }
  }

  /** What has been recorded so far, for views of exchanges still in flight. */
  get recorder(): Recorder {
    return this.o.recorder;
  }

  /** Fails the exchange because the agent went away. */
  agentGone(): void {
    this.onReset({ type: "reset", stream: this.o.id, code: "agent-gone", message: "the agent disconnected" });
  }

  private get label(): string {
    return `${this.o.method} ${this.o.path}`;
  }

  private onData(chunk: Uint8Array): void {
    const { writer, held } = this;
    if (!writer && !held) return this.fail("flow-control", "data before the response head");
    try {
      this.inbox.accept(chunk.byteLength);
    } catch (err) {
      writer?.abort(err).catch(() => {});
      return this.fail("flow-control", (err as Error).message);
    }
    if (held) {
      held.chunks.push(chunk);
      held.bytes += chunk.byteLength;
      return;
    }
    this.o.recorder.responseChunk(chunk);
    this.forward(chunk);
  }

  /** Writes a response chunk for the client, and grants its window back once the client has taken it. */
  private forward(chunk: Uint8Array): void {
    this.write(this.keepalive?.sent(chunk) ?? chunk, () => {
      const grant = this.inbox.release(chunk.byteLength);
      if (grant > 0 && !this.finished) this.o.send({ type: "credit", stream: this.o.id, bytes: grant });
    });
  }

  /**
   * Answers with the held head: with the whole body when the end came in the same message (and matches a declared
   * length, so that a short body still fails as it would streamed), else with a stream that starts with what came.
   */
  private answerHeld(ended: boolean): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    const length = declaredLength(held.head.headers);
    const whole = ended && (length === undefined || length === held.bytes);
    this.answer(() => this.response(held.head, whole ? concatBytes(held.chunks, held.bytes) : undefined));
    if (this.finished) return; // The runtime refused the head.
    // Recorded after the head, which tells the capture how to read the body (as events, say).
    for (const chunk of held.chunks) {
      this.o.recorder.responseChunk(chunk);
      if (!whole) this.forward(chunk);
    }
    if (!ended) return;
    this.writer?.close().catch(() => {});
    this.finish("ok");
  }

  /** Writes into the public response; a failed write means the client went away. */
  private write(bytes: Uint8Array, written?: () => void): void {
    const writer = this.writer;
    if (!writer) return;
    this.unreadWrites++;
    writer.write(bytes).then(
      () => {
        this.unreadWrites--;
        written?.();
      },
      () => this.fail("client-aborted", "the public client went away"),
    );
  }

  private onReset(f: Reset): void {
    if (this.finished) return;
    const code = RESET_ERRORS[f.code] ?? "local-unreachable";
    const extra: Record<string, string> = code === "tunnel-offline" ? { "Retry-After": "1" } : {};
    this.rejectHead(new RelayError(code, `Tunnel "${this.o.tunnel}" could not complete "${this.label}": ${f.message}.`, extra));
    this.writer?.abort(new Error(f.message)).catch(() => {});
    this.finish(outcomeOf(f.code), f.message);
  }

  /** Streams the request body to the agent, reading only while the agent has granted credit. */
  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = chunkReader(body);
    try {
      for (;;) {
        await this.outbox.drained();
        if (this.finished) return void reader.cancel().catch(() => {});
        const { done, value } = await reader.read();
        if (this.finished) return void reader.cancel().catch(() => {});
        if (done) {
          this.requestDone = true;
          return this.outbox.end();
        }
        this.o.recorder.requestChunk(value);
        this.outbox.push(value, undefined);
      }
    } catch (err) {
      // A body the relay itself cut off (over its limit) answers with that error; any other loss is the client's.
      if (err instanceof RelayError) {
        this.rejectHead(err);
        return this.fail("client-aborted", err.message);
      }
      this.rejectHead(new RelayError("bad-request", `Tunnel "${this.o.tunnel}" lost the body of "${this.label}".`));
      this.fail("client-aborted", `the public client aborted the upload (${(err as Error).message})`);
    }
  }

  private nullBody(head: ResponseHead): boolean {
    return !head.body || this.o.method === "HEAD" || NULL_BODY_STATUS.has(head.status);
  }

  /** The public response: no body (`null`), the whole body, or (`undefined`) a pipe the body is written into. */
  private response(head: ResponseHead, body: Uint8Array | null | undefined): Response {
    const headers = new Headers();
    for (const [k, v] of head.headers) headers.append(k, v);
    // A path-mode page may not claim the whole relay origin for a service worker (and so the inspector's login).
    if (this.o.pathMode) headers.delete("Service-Worker-Allowed");
    const encoded = headers.has("Content-Encoding");
    this.o.recorder.responseHead(head.status, head.headers);
    if (body === null) {
      this.finish("ok");
      return new Response(null, { status: head.status, statusText: head.statusText, headers });
    }
    // Local workerd gzips some types (and then holds the whole stream); identity keeps the bytes as they came.
    if (!encoded) headers.set("Content-Encoding", "identity");
    const init = {
      status: head.status,
      statusText: head.statusText,
      headers,
      encodeBody: encoded ? ("manual" as const) : ("automatic" as const),
    };
    if (body) return new Response(body, init);
    const length = declaredLength(head.headers);
    const pipe = length === undefined ? new IdentityTransformStream() : new FixedLengthStream(length);
    this.writer = pipe.writable.getWriter();
    // Not into a fixed-length or encoded body: the comment would break the length or the encoding.
    const eventStream = /^text\/event-stream\b/i.test(headers.get("Content-Type") ?? "");
    if (eventStream && this.o.sseKeepaliveMs > 0 && !encoded && !(pipe instanceof FixedLengthStream)) {
      this.keepalive = new SseKeepalive(
        this.o.sseKeepaliveMs,
        (bytes) => this.write(bytes),
        () => this.unreadWrites === 0,
      );
    }
    return new Response(pipe.readable, init);
  }

  /** Resets the stream on the agent side and drops it. */
  private fail(code: ResetCode, message: string): void {
    if (this.finished) return;
    this.o.send({ type: "reset", stream: this.o.id, code, message });
    this.writer?.abort(new Error(message)).catch(() => {});
    this.finish(outcomeOf(code), message);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves the head wait once; an agent head the runtime rejects (a bad header, say) fails the exchange. */
  private answer(make: () => Response): void {
    const settle = this.settle;
    if (!settle) return this.fail("flow-control", "a second response head");
    this.settle = undefined;
    try {
      settle.resolve(make());
    } catch (err) {
      const message = `the local response head was not valid HTTP (${(err as Error).message})`;
      this.settle = settle;
      this.rejectHead(new RelayError("local-unreachable", `Tunnel "${this.o.tunnel}" could not complete "${this.label}": ${message}.`));
      this.fail("local-error", message);
    }
  }

  /** Answers a public client still waiting for the head, and records that answer; later calls are no-ops. */
  private rejectHead(err: RelayError): void {
    if (!this.settle) return;
    this.o.recorder.relayAnswer(err.status, err.code, err.message);
    this.settle.reject(err);
    this.settle = undefined;
  }

  private finish(outcome: Outcome, error?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.held = undefined;
    this.clearTimer();
    this.keepalive?.stop();
    // Built only when a client still waits: an Error's stack trace costs more than the rest of a small request.
    if (this.settle) {
      this.rejectHead(
        new RelayError("local-unreachable", `Tunnel "${this.o.tunnel}" got no response head for "${this.label}" from the agent.`),
      );
    }
    this.outbox.cancel();
    // Lent window goes back once the client has read the body: until then its bytes are still held here.
    const repay = () => this.inbox.close();
    if (this.writer) this.writer.closed.then(repay, repay);
    else repay();
    // An answer that came before the upload finished: the capture holds only part of the body.
    if (!this.requestDone) this.o.recorder.requestCutShort();
    this.o.onDone(outcome, error);
  }
}
