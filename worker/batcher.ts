// Packing frames into WebSocket messages, and joining bytes. Platform-neutral, like protocol.ts.

import { LIMITS } from "./protocol";

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

  /** Queues one encoded frame. */
  push(encoded: Uint8Array): void {
    if (this.size + encoded.byteLength > LIMITS.maxMessageBytes) this.flush();
    this.parts.push(encoded);
    this.size += encoded.byteLength;
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

/** Joins byte arrays of known total size; a single part is returned as is, without a copy. */
export function concatBytes(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
