// Webhook signers and checkers written from the providers' documented schemes with node:crypto alone.
// They share no code with worker/webhooks on purpose: the end-to-end tests hold the relay against an
// independent reading of each scheme, so a misreading in the product cannot agree with itself.

import { createHmac, timingSafeEqual } from "node:crypto";

type Bytes = string | Buffer;

/** The current Unix time in seconds, as providers write timestamps. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

function hmac(algorithm: "sha1" | "sha256", key: Bytes, ...parts: Bytes[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a Unix timestamp is outside a symmetric window of `tolerance` seconds, or null when it is inside. */
function staleness(text: string, tolerance: number, now: number): string | null {
  if (!/^\d+$/.test(text)) return `timestamp ${JSON.stringify(text)} is not a number`;
  const age = now - Number(text);
  return Math.abs(age) > tolerance ? `timestamp ${age} s old, outside ${tolerance} s` : null;
}

/**
 * Stripe (docs.stripe.com/webhooks#verify-manually): `t=<unix>,v1=<hex>`, HMAC-SHA256 over `<t>.<body>`
 * keyed by the endpoint secret exactly as shown, `whsec_` prefix included.
 */
export function stripeSignature(secret: string, body: Bytes, t = unixNow()): string {
  return `t=${t},v1=${hmac("sha256", secret, `${t}.`, body).toString("hex")}`;
}

/** Checks a Stripe-Signature: any v1 may match (key rotation), and t must be within `tolerance` s of now; null when it passes. */
export function checkStripe(secret: string, header: string | undefined, body: Buffer, now = unixNow(), tolerance = 300): string | null {
  if (!header) return "no Stripe-Signature header";
  const pairs = header.split(",").map((item) => item.split("=", 2) as [string, string?]);
  const t = pairs.find(([k]) => k === "t")?.[1];
  if (t === undefined) return "no timestamp in Stripe-Signature";
  const expected = hmac("sha256", secret, `${t}.`, body).toString("hex");
  if (!pairs.some(([k, v]) => k === "v1" && v !== undefined && sameText(v, expected))) return "no matching v1 signature";
  return staleness(t, tolerance, now);
}

/** Slack (api.slack.com/authentication/verifying-requests-from-slack): `v0=` HMAC-SHA256 hex over `v0:<ts>:<body>`. */
export function slackHeaders(secret: string, body: Bytes, ts = unixNow()): Record<string, string> {
  return {
    "X-Slack-Request-Timestamp": String(ts),
    "X-Slack-Signature": `v0=${hmac("sha256", secret, `v0:${ts}:`, body).toString("hex")}`,
  };
}

/** The key of a Standard Webhooks `whsec_<base64>` secret: the base64-decoded bytes after the prefix. */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ""), "base64");
}

/** Standard Webhooks (standardwebhooks.com, spec 1.0): `v1,<base64>` HMAC-SHA256 over `<id>.<timestamp>.<body>`. */
export function standardWebhooksHeaders(secret: string, id: string, body: Bytes, ts = unixNow()): Record<string, string> {
  const signature = hmac("sha256", standardKey(secret), `${id}.${ts}.`, body).toString("base64");
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${signature}` };
}

/** Checks Standard Webhooks headers as the reference libraries do (any `v1,` entry, ±300 s); null when it passes. */
export function checkStandardWebhooks(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  now = unixNow(),
): string | null {
  const [id, ts, list] = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => headers[name]);
  if (typeof id !== "string" || typeof ts !== "string" || typeof list !== "string") return "missing webhook-* headers";
  const expected = hmac("sha256", standardKey(secret), `${id}.${ts}.`, body).toString("base64");
  const found = list.split(" ").some((entry) => entry.startsWith("v1,") && sameText(entry.slice(3), expected));
  return found ? staleness(ts, 300, now) : "no matching v1 signature";
}

/** GitHub (docs.github.com, "Validating webhook deliveries"): `sha256=` HMAC-SHA256 hex over the body. */
export function githubSignature(secret: string, body: Bytes): string {
  return `sha256=${hmac("sha256", secret, body).toString("hex")}`;
}

/**
 * Twilio (twilio.com/docs/usage/security): HMAC-SHA1 base64 under the auth token over the full URL
 * Twilio called, followed by each POST parameter as name+value with names sorted.
 */
export function twilioSignature(authToken: string, url: string, params: [string, string][]): string {
  const sorted = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hmac("sha1", authToken, url + sorted.map(([k, v]) => k + v).join("")).toString("base64");
}

/** Checks an X-Twilio-Signature over the public URL and a url-encoded form body; null when it passes. */
export function checkTwilio(authToken: string, url: string, form: string, signature: string | undefined): string | null {
  if (!signature) return "no X-Twilio-Signature header";
  return sameText(signature, twilioSignature(authToken, url, [...new URLSearchParams(form)])) ? null : `signature is not for ${url}`;
}
