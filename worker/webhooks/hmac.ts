// The crypto every verifier shares: HMAC over bytes, SHA-256, and a constant-time comparison.
// Web Crypto only, so the same code runs in workerd and in Node >= 20.

import { decode, utf8 } from "./encoding";
import type { HmacAlgorithm } from "./types";

/** Most signatures read from one header; providers send at most a few during key rotation, so more is noise or an attack. */
export const MAX_SIGNATURES = 16;

/** HMAC of `data` under `key`. */
export async function hmac(algorithm: HmacAlgorithm, key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: algorithm }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/** SHA-256 of `data`. */
export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * Whether two byte strings are equal, in time independent of where they differ and of their lengths:
 * both are hashed first, so the loop always runs over 32 bytes (workerd's timingSafeEqual would throw
 * on unequal lengths, and Node has none on crypto.subtle).
 */
export async function sameBytes(a: Uint8Array<ArrayBuffer>, b: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < da.length; i++) diff |= da[i]! ^ db[i]!;
  return diff === 0;
}

/** Whether any of the encoded candidates decodes to `expected`; every candidate is compared, so timing says nothing of which. */
export async function matchesAny(expected: Uint8Array, candidates: string[], encoding: "hex" | "base64"): Promise<boolean> {
  const want = new Uint8Array(expected);
  let found = false;
  for (const candidate of candidates.slice(0, MAX_SIGNATURES)) {
    const got = decode(candidate.trim(), encoding);
    if (got && (await sameBytes(want, got))) found = true;
  }
  return found;
}

/** Whether two strings are equal as UTF-8, in constant time (GitLab's shared token). */
export function sameText(a: string, b: string): Promise<boolean> {
  return sameBytes(utf8(a), utf8(b));
}
