// Records one exchange in memory while it streams, and hands back the finished capture. Taps copy
// at most the capture cap per direction, so recording costs no more than that whatever the body size.

import { concatBytes } from "./bytes";
import type { CaptureEvent, CaptureRecord, CaptureSummary, Outcome, Verification } from "./capture-model";
import { headerValue } from "./headers";
import type { HeaderList } from "./protocol";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A timeline is stored in one SQLite row with the rest of the detail; a value may not exceed 2 MB. */
const EVENTS_MAX_BYTES = 1024 * 1024;

/** Text when the bytes are valid UTF-8, else undefined. */
export function asText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Base64 without a dependency: the runtime's btoa over a binary string. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Bytes all live recordings of one tunnel may hold together. Each exchange keeps up to the cap,
 * but many stalled exchanges at once must not exhaust the object's memory (128 MB per isolate).
 */
export class RecordingBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Grants up to `bytes`; what it grants must be given back with `release`. */
  take(bytes: number): number {
    const granted = Math.max(0, Math.min(bytes, this.limit - this.held));
    this.held += granted;
    return granted;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/** Keeps the first `cap` bytes of a stream, within the tunnel's budget, and counts the rest. */
class Tap {
  private parts: Uint8Array[] = [];
  stored = 0;
  size = 0;
  /** Set when the exchange ended before this direction's body did. */
  cut = false;

  constructor(
    private readonly cap: number,
    private readonly budget: RecordingBudget,
  ) {}

  push(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    const room = this.budget.take(Math.min(this.cap - this.stored, chunk.byteLength));
    if (room <= 0) return;
    // Copied: the chunk's buffer belongs to a frame or a stream and may be reused.
    const kept = chunk.slice(0, room);
    this.parts.push(kept);
    this.stored += kept.byteLength;
  }

  get truncated(): boolean {
    return this.cut || this.size > this.stored;
  }

  /** Gives the held bytes back to the budget once the capture is written. */
  release(): void {
    this.budget.release(this.stored);
  }

  bytes(): Uint8Array {
    return this.parts.length === 0 ? new Uint8Array(0) : concatBytes(this.parts, this.stored);
  }
}

export type RecorderOptions = {
  id: string;
  method: string;
  url: string;
  path: string;
  clientIp: string;
  requestHeaders: HeaderList;
  kind: "http" | "websocket";
  replayOf: string | null;
  /** Bytes kept per direction, and for the event timeline. */
  cap: number;
  budget: RecordingBudget;
};

/** One exchange being recorded. */
export class Recorder {
  readonly startedAt = Date.now();
  private readonly request: Tap;
  private readonly response: Tap;
  private statusCode = 0;
  private responseHeaders: HeaderList | null = null;
  private readonly events: CaptureEvent[] = [];
  private eventBytes = 0;
  private eventsTruncated = false;
  private sseBuffer: string | undefined;
  /** Per recorder: a streaming decoder keeps state between chunks. */
  private sseDecoder: TextDecoder | undefined;
  private outcome: Outcome = "ok";
  private error: string | null = null;
  private endedAt: number | undefined;
  private verification: Verification | null = null;

  constructor(readonly o: RecorderOptions) {
    this.request = new Tap(o.cap, o.budget);
    this.response = new Tap(o.cap, o.budget);
  }

  get id(): string {
    return this.o.id;
  }

  requestChunk(chunk: Uint8Array): void {
    this.request.push(chunk);
  }

  /** The response head; an event-stream response also gets its events on the timeline. */
  responseHead(status: number, headers: HeaderList): void {
    this.statusCode = status;
    this.responseHeaders = headers;
    const type = headerValue(headers, "content-type") ?? "";
    if (type.toLowerCase().startsWith("text/event-stream")) {
      this.sseBuffer = "";
      this.sseDecoder = new TextDecoder();
    }
  }

  responseChunk(chunk: Uint8Array): void {
    this.response.push(chunk);
    if (this.sseBuffer === undefined || this.sseDecoder === undefined || this.eventsTruncated) return;
    this.sseBuffer += this.sseDecoder.decode(chunk, { stream: true });
    const parts = this.sseBuffer.split(/\r?\n\r?\n/);
    this.sseBuffer = parts.pop() ?? "";
    for (const text of parts)
      if (text.trim()) this.event({ type: "sse", direction: "out", binary: false, bytes: new TextEncoder().encode(text) });
  }

  private sseEvent(text: string): void {
    if (text.trim()) this.event({ type: "sse", direction: "out", binary: false, bytes: new TextEncoder().encode(text) });
  }

  /** The exchange ended before the request body was all read: what was kept is not the whole body. */
  requestCutShort(): void {
    this.request.cut = true;
  }

  /** A WebSocket message; `in` is public client → local server. */
  wsMessage(direction: "in" | "out", binary: boolean, bytes: Uint8Array): void {
    if (direction === "in") this.request.size += bytes.byteLength;
    else this.response.size += bytes.byteLength;
    this.event({ type: "ws", direction, binary, bytes });
  }

  /** The relay answered this exchange itself, with one of its own errors. */
  relayAnswer(status: number, code: string, message: string): void {
    this.statusCode = status;
    this.responseHeaders = [
      ["content-type", "text/plain; charset=utf-8"],
      ["x-porthole-error", code],
    ];
    this.response.push(new TextEncoder().encode(`${message}\n`));
  }

  /** Notes the webhook signature verdict. */
  verified(verification: Verification): void {
    this.verification = verification;
  }

  /** Marks how the exchange ended; the first call wins. */
  end(outcome: Outcome, error?: string): void {
    if (this.endedAt !== undefined) return;
    // A last event the stream ended without a blank line after still counts.
    if (this.sseBuffer) this.sseEvent(this.sseBuffer);
    this.sseBuffer = undefined;
    this.endedAt = Date.now();
    this.outcome = outcome;
    this.error = error ?? null;
  }

  summary(): CaptureSummary {
    const o = this.o;
    const type = (this.responseHeaders && headerValue(this.responseHeaders, "content-type")) ?? null;
    return {
      id: o.id,
      replayOf: o.replayOf,
      startedAt: this.startedAt,
      durationMs: (this.endedAt ?? Date.now()) - this.startedAt,
      method: o.method,
      url: o.url,
      path: o.path,
      status: this.statusCode,
      outcome: this.outcome,
      error: this.error,
      kind: o.kind,
      requestSize: this.request.size,
      responseSize: this.response.size,
      contentType: type,
      state: this.endedAt === undefined ? "open" : "done",
      verification: this.verification,
    };
  }

  /** The response status so far (101 once a WebSocket was accepted). */
  get status(): number {
    return this.statusCode;
  }

  /** The finished capture; the bytes it held go back to the budget. */
  record(): CaptureRecord {
    const record: CaptureRecord = {
      summary: this.summary(),
      detail: {
        clientIp: this.o.clientIp,
        requestHeaders: this.o.requestHeaders,
        responseHeaders: this.responseHeaders,
        requestTruncated: this.request.truncated,
        responseTruncated: this.response.truncated,
        events: this.events,
        eventsTruncated: this.eventsTruncated,
      },
      requestBody: this.request.bytes(),
      responseBody: this.response.bytes(),
    };
    return record;
  }

  /** Gives the held bytes back; call once, when the capture is written for the last time. */
  release(): void {
    this.request.release();
    this.response.release();
  }

  private event(e: { type: "sse" | "ws"; direction: "in" | "out"; binary: boolean; bytes: Uint8Array }): void {
    if (this.eventsTruncated) return;
    const text = e.binary ? undefined : asText(e.bytes);
    const entry: CaptureEvent = {
      t: Date.now() - this.startedAt,
      type: e.type,
      direction: e.direction,
      binary: e.binary,
      size: e.bytes.byteLength,
      ...(text === undefined ? { base64: toBase64(e.bytes) } : { text }),
    };
    // Counted as stored, JSON-escaped, so the timeline fits its row whatever the bytes are.
    const stored = JSON.stringify(entry).length;
    if (this.eventBytes + stored > Math.min(this.o.cap, EVENTS_MAX_BYTES)) {
      this.eventsTruncated = true;
      return;
    }
    this.eventBytes += stored;
    this.events.push(entry);
  }
}

/** Six hex digits of sequence after the time. */
const SEQUENCE_LIMIT = 0x1000000;
const lastId = { ms: 0, sequence: 0 };

/**
 * Capture ids that sort by age and never repeat: the time, then a sequence. The runtime's clock stands still
 * while an event runs, so a burst of requests shares one millisecond: random suffixes collided there (a capture
 * lost to a duplicate key in the soak) and sorted out of order. Within a millisecond the sequence counts up from
 * a random start; should it run out, the ids borrow the next millisecond.
 */
export function newCaptureId(): string {
  const now = Date.now();
  if (now > lastId.ms) {
    lastId.ms = now;
    lastId.sequence = (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % (SEQUENCE_LIMIT / 2);
  } else if (++lastId.sequence >= SEQUENCE_LIMIT) {
    lastId.ms += 1;
    lastId.sequence = 0;
  }
  return `${lastId.ms.toString(16).padStart(12, "0")}-${lastId.sequence.toString(16).padStart(6, "0")}`;
}
