// Packing frames into WebSocket messages. Platform-neutral, like protocol.ts.

import { concatBytes } from "./bytes";
import { byteLength, LIMITS } from "./protocol";

/**
 * Packs the frames sent in one turn into a single message. `schedule` runs the flush after the
 * current turn (setImmediate in Node), so nothing waits longer than that; a message never
 * exceeds LIMITS.maxMessageBytes.
 */
export class FrameBatcher {
  private parts: Uint8Array[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly write: (message: Uint8Array) => void,
    private readonly schedule: (flush: () => void) => void,
  ) {}

  /** Queues one frame, as encodeFrameParts laid it out. */
  push(frame: Uint8Array[]): void {
    const size = byteLength(frame);
    if (this.size + size > LIMITS.maxMessageBytes) this.flush();
    this.parts.push(...frame);
    this.size += size;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Sends whatever is queued now, e.g. before closing the socket. */
  flush(): void {
    if (this.parts.length === 0) return;
    const message = concatBytes(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.write(message);
  }
}
