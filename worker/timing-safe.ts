// The one constant-time comparison every secret check uses: webhook signatures and GitLab's token,
// tunnel credentials, and the control-plane token. Web Crypto only, so it runs in workerd and Node >= 20.
//
// Both sides are SHA-256 digests before they are compared, so the work never depends on the length or
// the content of the secret, and the digests are compared by a byte loop that never exits early.
// crypto.subtle.timingSafeEqual is not used: workerd has it, Node does not.

const encoder = new TextEncoder();

/** SHA-256 of `data`. */
export async function sha256(data: BufferSource): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * 1 when two digests are equal, else 0; looks at every byte whatever it finds. Digests of unequal
 * length (never two SHA-256 digests) are unequal: the length of a digest is not secret.
 */
export function sameDigest(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return (diff - 1) >>> 31;
}

/** Whether two byte strings are equal, in time independent of where they differ and of their lengths. */
export async function sameBytes(a: BufferSource, b: BufferSource): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)]);
  return sameDigest(da, db) === 1;
}

/** Whether two strings are equal as UTF-8, in constant time (GitLab's token, the control-plane token). */
export function sameText(a: string, b: string): Promise<boolean> {
  return sameBytes(encoder.encode(a), encoder.encode(b));
}
