// Deterministic bulk content shared by the origin and the client: one pseudo-random block
// (AES-CTR keystream) repeated and cut to length. The block size is deliberately not a power of
// two, so a dropped, duplicated or reordered 64 KiB frame changes the sha256.
import { createCipheriv, createHash } from "node:crypto";

/** Bytes in the repeated block (a prime just under 1 MiB). */
export const BLOCK_BYTES = 1_048_573;

/** The block, the same in every process. */
export function makeBlock() {
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 3));
  return Buffer.concat([cipher.update(Buffer.alloc(BLOCK_BYTES)), cipher.final()]);
}

/** Yields `total` bytes of content as slices of at most `sliceBytes`. */
export function* slices(block, total, sliceBytes = 64 * 1024) {
  let sent = 0;
  while (sent < total) {
    const offset = sent % block.length;
    const n = Math.min(sliceBytes, block.length - offset, total - sent);
    yield block.subarray(offset, offset + n);
    sent += n;
  }
}

/** sha256 (hex) of the first `total` bytes of content. */
export function expectedDigest(block, total) {
  const hash = createHash("sha256");
  let left = total;
  while (left > 0) {
    const n = Math.min(block.length, left);
    hash.update(n === block.length ? block : block.subarray(0, n));
    left -= n;
  }
  return hash.digest("hex");
}
