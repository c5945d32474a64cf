// Joining byte arrays. Platform-neutral, like protocol.ts, which uses it.

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
