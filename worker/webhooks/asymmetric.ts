// Providers that sign with a private key we never hold: Discord (Ed25519) and SendGrid (ECDSA P-256).
// The user gives the public key, so these verify but can never be re-signed.

import { concat, fromBase64, fromHex, toHex } from "./encoding";
import { bodyJson, field, header, missing } from "./request";
import { fail, PASS, type Provider, type SignedRequest } from "./types";

/** Whether `signature` is a valid Ed25519 signature of `data` under the raw 32-byte public key. */
export async function ed25519Verify(
  publicKey: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, data);
  } catch {
    // A point that is not on the curve is a bad key or signature, not a relay fault.
    return false;
  }
}

/** DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes). */
const P256_SPKI_PREFIX = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
const P256_SPKI_BYTES = 91;

/** Whether bytes are a DER SPKI of an uncompressed P-256 public key, the form SendGrid shows. */
function isP256Spki(der: Uint8Array): boolean {
  return der.length === P256_SPKI_BYTES && toHex(der.subarray(0, 26)) === P256_SPKI_PREFIX && der[26] === 0x04;
}

/**
 * The raw `r || s` form Web Crypto verifies, from a DER `SEQUENCE { INTEGER r, INTEGER s }`
 * (what SendGrid sends), or undefined when it is not that shape.
 */
export function derToRaw(der: Uint8Array, size = 32): Uint8Array<ArrayBuffer> | undefined {
  if (der[0] !== 0x30 || der[1] !== der.length - 2 || der[1]! >= 0x80) return undefined;
  const out = new Uint8Array(size * 2);
  let at = 2;
  for (const slot of [0, 1]) {
    const len = der[at + 1];
    if (der[at] !== 0x02 || len === undefined || len === 0 || at + 2 + len > der.length) return undefined;
    let int = der.subarray(at + 2, at + 2 + len);
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return undefined;
    out.set(int, slot * size + size - int.length);
    at += 2 + len;
  }
  return at === der.length ? out : undefined;
}

/** Whether a base64 DER ECDSA signature of `data` verifies under the base64 DER SPKI P-256 key. */
async function p256Verify(spkiBase64: string, signatureBase64: string, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const spki = fromBase64(spkiBase64);
  const der = fromBase64(signatureBase64);
  const raw = der && derToRaw(der);
  if (!spki || !raw) return false;
  try {
    const key = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, data);
  } catch {
    // The key passed the shape check at parse time; a point off the curve can only fail here.
    return false;
  }
}

/** A provider signing `<timestamp header><body>` with a key we hold only the public half of. */
function publicKeyProvider(opts: {
  sigHeader: string;
  tsHeader: string;
  check: (key: string, signature: string, data: Uint8Array<ArrayBuffer>) => Promise<boolean>;
  checkSecret: (secret: string) => string | undefined;
  handshake?: (req: SignedRequest) => string | undefined;
}): Provider {
  return {
    headers: () => [opts.sigHeader, opts.tsHeader],
    checkSecret: opts.checkSecret,
    handshake: opts.handshake,
    async verify(spec, req) {
      const signature = header(req, opts.sigHeader);
      if (signature === undefined) return missing(opts.sigHeader);
      const ts = header(req, opts.tsHeader);
      if (ts === undefined) return missing(opts.tsHeader);
      return (await opts.check(spec.secret, signature.trim(), concat(ts, req.body))) ? PASS : fail("signature mismatch");
    },
  };
}

/** Discord interactions: Ed25519 (hex) over `<X-Signature-Timestamp><body>` with the application's public key (64 hex). */
export const discord: Provider = publicKeyProvider({
  sigHeader: "X-Signature-Ed25519",
  tsHeader: "X-Signature-Timestamp",
  check: async (key, signature, data) => {
    const sig = fromHex(signature);
    return sig !== undefined && ed25519Verify(fromHex(key)!, sig, data);
  },
  checkSecret: (secret) => (/^[0-9a-fA-F]{64}$/.test(secret) ? undefined : "a Discord public key is 64 hex characters"),
  // Interaction type 1 is PING, sent when the endpoint URL is saved (along with deliberately bad signatures).
  handshake: (req) => (field(bodyJson(req), "type") === 1 ? "PING" : undefined),
});

/** SendGrid Event Webhook: ECDSA P-256/SHA-256, base64 DER, over `<timestamp><body>`, with the base64 SPKI verification key. */
export const sendgrid: Provider = publicKeyProvider({
  sigHeader: "X-Twilio-Email-Event-Webhook-Signature",
  tsHeader: "X-Twilio-Email-Event-Webhook-Timestamp",
  check: p256Verify,
  checkSecret: (secret) => {
    const der = fromBase64(secret);
    return der && isP256Spki(der) ? undefined : "a SendGrid verification key is a base64 DER SPKI P-256 public key";
  },
});
