// Keeps a quiet `text/event-stream` response alive through intermediaries that cut idle
// connections, by writing an SSE comment. A comment may only go in between events: inside one,
// its bytes would become part of that event's data.

const LF = 0x0a;
const CR = 0x0d;

/** The comment the relay writes; SSE parsers ignore lines that start with ":". */
export const KEEPALIVE_COMMENT = new TextEncoder().encode(": keepalive\n\n");

/**
 * Follows an SSE byte stream line by line (LF, CR or CRLF, as the spec allows) and knows when it
 * sits at an event boundary: at the start, or right after a blank line.
 */
export class SseBoundary {
  private boundary = true;
  private lineEmpty = true;
  private afterCr = false;

  /** Feeds the next bytes the server sent. */
  feed(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === LF && this.afterCr) {
        // The LF of a CRLF: the CR already ended the line.
        this.afterCr = false;
        continue;
      }
      this.afterCr = byte === CR;
      if (byte === LF || byte === CR) {
        this.boundary = this.lineEmpty;
        this.lineEmpty = true;
      } else {
        this.boundary = false;
        this.lineEmpty = false;
      }
    }
  }

  /** True when a comment written now cannot land inside an event. */
  get atBoundary(): boolean {
    return this.boundary;
  }
}

/**
 * Writes KEEPALIVE_COMMENT into a response that has been quiet for `idleMs`, once it is at an
 * event boundary and the client is keeping up. The timer is re-armed by every write.
 */
export class SseKeepalive {
  private readonly boundary = new SseBoundary();
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  /** Whether the server has sent a byte yet, and whether a comment went out before it did. */
  private started = false;
  private wroteFirst = false;

  constructor(
    private readonly idleMs: number,
    private readonly write: (bytes: Uint8Array) => void,
    /** False while the client has not read what it was sent: a keepalive would only queue behind it. */
    private readonly clientKeepingUp: () => boolean,
  ) {
    this.arm();
  }

  /**
   * Notes bytes the server sent, which also restarts the idle clock, and returns what to write. A byte
   * order mark only counts at the very start of a stream: behind a comment it would corrupt the first
   * field, so it is dropped there (the capture keeps it).
   */
  sent(chunk: Uint8Array): Uint8Array {
    this.boundary.feed(chunk);
    this.arm();
    const first = !this.started;
    this.started = true;
    const bom = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
    return first && this.wroteFirst && bom ? chunk.subarray(3) : chunk;
  }

  /** Stops for good; called when the response ends or fails. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.idleMs);
  }

  private fire(): void {
    this.timer = undefined;
    // Mid-event (a server that sends half an event and pauses): wait for the boundary instead.
    if (this.boundary.atBoundary && this.clientKeepingUp()) {
      this.wroteFirst ||= !this.started;
      this.write(KEEPALIVE_COMMENT);
    }
    this.arm();
  }
}
