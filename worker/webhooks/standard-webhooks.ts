// Standard Webhooks (and Svix, which sends the same scheme under `svix-*` header names; Clerk, Resend,
// Replicate and OpenAI use it too): `<id>.<timestamp>.<body>` signed with HMAC-SHA256 (`v1,<base64>`,
// key = base64 after `whsec_`) or with Ed25519 (`v1a,<base64>`, public key `whpk_<base64>`).

import { ed25519Verify } from "./asymmetric";
import { concat, fromBase64 } from "./encoding";
import { staleReason, TOLERANCE } from "./freshness";
import { MAX_SIGNATURES } from "./hmac";
import { type HmacScheme, hmacProvider } from "./hmac-scheme";
import { header, missing, withHeader } from "./request";
import { fail, PASS, type Provider, type SignedRequest, type VerifySpec } from "./types";

const BRANDS = ["webhook", "svix"] as const;
type Brand = (typeof BRANDS)[number];

const names = (brand: Brand) => ({ id: `${brand}-id`, ts: `${brand}-timestamp`, sig: `${brand}-signature` });

/** The id, timestamp and signatures of one version (`v1` or `v1a`) from a brand's headers, or why they are absent. */
function readHeaders(brand: Brand, req: SignedRequest, version: "v1" | "v1a"): { id: string; ts: string; signatures: string[] } | string {
  const n = names(brand);
  const id = header(req, n.id);
  if (id === undefined) return `missing header ${n.id}`;
  const ts = header(req, n.ts);
  if (ts === undefined) return `missing header ${n.ts}`;
  // A space-separated list; several entries during key rotation, possibly of both versions.
  const signatures = (header(req, n.sig) ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith(`${version},`))
    .map((entry) => entry.slice(version.length + 1));
  return { id, ts, signatures };
}

/** The HMAC key: base64 after an optional `whsec_`, as the reference libraries read it. */
function hmacKey(secret: string): Uint8Array<ArrayBuffer> {
  return fromBase64(secret.replace(/^whsec_/, "")) ?? new Uint8Array();
}

function brandScheme(brand: Brand): HmacScheme {
  const n = names(brand);
  return {
    header: n.sig,
    also: [n.id, n.ts],
    algorithm: "SHA-256",
    encoding: "base64",
    key: hmacKey,
    clock: "unix",
    tolerance: TOLERANCE["standard-webhooks"],
    read(_value, req) {
      const read = readHeaders(brand, req, "v1");
      return typeof read === "string" ? read : { signatures: read.signatures, timestamp: { text: read.ts, where: `header ${n.ts}` } };
    },
    signed: (req, ts) => `${header(req, n.id) ?? ""}.${ts}.`,
    write: (headers, signature, ts) => withHeader(withHeader(headers, n.sig, `v1,${signature}`), n.ts, ts),
  };
}

const symmetric = hmacProvider(BRANDS.map(brandScheme));

const isPublicKey = (spec: VerifySpec) => spec.secret.startsWith("whpk_");

/** Verifies `v1a` Ed25519 signatures under a `whpk_` public key. */
async function verifyAsymmetric(spec: VerifySpec, req: SignedRequest, now: number) {
  const brand = BRANDS.find((b) => header(req, names(b).sig) !== undefined);
  if (!brand) return missing(names("webhook").sig);
  const read = readHeaders(brand, req, "v1a");
  if (typeof read === "string") return fail(read);
  if (read.signatures.length === 0) return fail(`no v1a signature in header ${names(brand).sig}`);
  const key = fromBase64(spec.secret.slice("whpk_".length))!;
  const data = concat(`${read.id}.${read.ts}.`, req.body);
  let found = false;
  for (const candidate of read.signatures.slice(0, MAX_SIGNATURES)) {
    const sig = fromBase64(candidate);
    if (sig && (await ed25519Verify(key, sig, data))) found = true;
  }
  if (!found) return fail("signature mismatch");
  const stale = staleReason({
    tolerance: TOLERANCE["standard-webhooks"],
    clock: "unix",
    text: read.ts,
    where: `header ${names(brand).ts}`,
    now,
  });
  return stale ? fail(stale) : PASS;
}

/** Standard Webhooks / Svix, symmetric (`whsec_`) or asymmetric (`whpk_`, verify only). */
export const standardWebhooks: Provider = {
  headers: symmetric.headers,
  checkSecret(secret) {
    if (secret.startsWith("whpk_")) {
      return fromBase64(secret.slice(5))?.length === 32 ? undefined : "a whpk_ key is the base64 of a 32-byte Ed25519 public key";
    }
    return hmacKey(secret).length > 0 ? undefined : "a Standard Webhooks secret is whsec_ followed by base64";
  },
  verify: (spec, req, now) => (isPublicKey(spec) ? verifyAsymmetric(spec, req, now) : symmetric.verify(spec, req, now)),
  resign: async (spec, req, now) => (isPublicKey(spec) ? null : symmetric.resign!(spec, req, now)),
};
