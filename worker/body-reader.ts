// Reading a body in pieces as large as a data frame.
// workerd hands a default reader a public request's body 4 KiB at a time, and each piece would become a
// frame and a WebSocket message of its own: uploads ran at a third of the speed. A BYOB reader returns
// whatever has arrived, up to the size of the buffer it is given.

import { LIMITS } from "./protocol";

/** The reading half of a stream reader, whichever kind is underneath. */
export type ChunkReader = {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
};

/** A reader of `body` that returns up to a data frame's worth per read, or the stream's own chunks when it is not a byte stream. */
export function chunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  return { read: () => byob.read(new Uint8Array(LIMITS.maxChunkBytes)), cancel: (reason) => byob.cancel(reason) };
}

/** `body` as a byte stream that fails with `tooLarge()` once more than `limit` bytes went through. */
export function capped(body: ReadableStream<Uint8Array>, limit: number, tooLarge: () => Error): ReadableStream<Uint8Array> {
  const source = chunkReader(body);
  let seen = 0;
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      const { done, value } = await source.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen <= limit) return controller.enqueue(value);
      controller.error(tooLarge());
      await source.cancel().catch(() => {});
    },
    cancel: (reason) => source.cancel(reason),
  });
}
