// The crypto every verifier shares: HMAC over bytes, and matching candidate signatures with the
// relay's one constant-time comparison (../timing-safe). Web Crypto only, so it runs in workerd and Node >= 20.

import { sameBytes } from "../timing-safe";
import { decode } from "./encoding";
import type { HmacAlgorithm } from "./types";

/** Most signatures read from one header; providers send at most a few during key rotation, so more is noise or an attack. */
export const MAX_SIGNATURES = 16;

/** HMAC of `data` under `key`. */
export async function hmac(algorithm: HmacAlgorithm, key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: algorithm }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
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
