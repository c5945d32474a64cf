// Matching an Authorization header against a tunnel's basic-auth and bearer credentials.
// Platform-neutral: digests and comparison come from the relay's one constant-time module, timing-safe.ts.
//
// Timing: every comparison is between SHA-256 digests, so neither the length nor the content of a
// configured secret shapes the work; each digest pair is compared with a byte loop that never exits
// early (sameDigest), and every configured entry of the presented scheme is compared before the answer
// is known, so the timing does not tell which entry matched. What timing does reveal is the scheme the client
// chose itself and how many entries that scheme has, which is unavoidable and not secret.

import { sameDigest, sha256 } from "./timing-safe";

/** The SHA-256 digests of a tunnel's credentials: "user:password" as UTF-8 for Basic, the token for Bearer. */
export type CredentialDigests = { basic: Uint8Array[]; bearer: Uint8Array[] };

const encoder = new TextEncoder();
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+(.*))?$/;

/** Digests the configured credentials once, so each request costs one digest of what it presents. */
export async function digestCredentials(basicAuth: readonly string[], bearer: readonly string[]): Promise<CredentialDigests> {
  const all = (list: readonly string[]) => Promise.all(list.map((secret) => sha256(encoder.encode(secret))));
  const [basic, tokens] = await Promise.all([all(basicAuth), all(bearer)]);
  return { basic, bearer: tokens };
}

/** The WWW-Authenticate value offering every scheme the tunnel accepts. */
export function challenge(digests: CredentialDigests): string {
  const offers: string[] = [];
  if (digests.basic.length) offers.push('Basic realm="porthole", charset="UTF-8"');
  if (digests.bearer.length) offers.push('Bearer realm="porthole"');
  return offers.join(", ");
}

async function matchesAny(presented: BufferSource, configured: readonly Uint8Array[]): Promise<boolean> {
  const digest = await sha256(presented);
  let found = 0;
  for (const entry of configured) found |= sameDigest(digest, entry);
  return found === 1;
}

/**
 * The user-pass bytes of a Basic credential, or null when it is not strict base64 of something with a ":".
 * The bytes are compared as they are rather than decoded to a string: decoding invalid UTF-8 to U+FFFD
 * would let different byte strings match the same configured password.
 */
function basicBytes(encoded: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(encoded)) return null;
  let binary: string;
  try {
    binary = atob(encoded);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return bytes.includes(0x3a) ? bytes : null;
}

/** Checks an Authorization value (null when absent); returns null when it matches, else the one-sentence 401 reason. */
export async function verifyAuthorization(header: string | null, digests: CredentialDigests): Promise<string | null> {
  const value = header?.trim() ?? "";
  if (value === "") return "missing Authorization header";
  const match = CREDENTIALS.exec(value);
  const scheme = match?.[1]?.toLowerCase();
  const credentials = match?.[2]?.trim() ?? "";
  if (scheme === "basic" && digests.basic.length) {
    const bytes = basicBytes(credentials);
    if (!bytes) return "malformed Basic credentials";
    return (await matchesAny(bytes, digests.basic)) ? null : "wrong credentials";
  }
  if (scheme === "bearer" && digests.bearer.length) {
    return (await matchesAny(encoder.encode(credentials), digests.bearer)) ? null : "wrong credentials";
  }
  const accepted = [digests.basic.length ? "Basic" : "", digests.bearer.length ? "Bearer" : ""].filter(Boolean).join(" or ");
  return `unsupported Authorization scheme; this tunnel accepts ${accepted}`;
}
