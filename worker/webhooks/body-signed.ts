// Providers whose signature is an HMAC over the raw body alone: GitHub, Shopify, Intercom, PagerDuty,
// Typeform, Vercel and Linear. They differ only in header, hash, encoding and prefix, except that
// PagerDuty lists several signatures and Linear dates its deliveries (in the body, else a header).

import { TOLERANCE } from "./freshness";
import { headerScheme, hmacProvider } from "./hmac-scheme";
import { bodyJson, field, header, withHeader } from "./request";
import type { Provider, SignedRequest } from "./types";

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`, falling back to the legacy `X-Hub-Signature: sha1=<hex>`. */
export const github: Provider = hmacProvider([
  headerScheme({ header: "X-Hub-Signature-256", algorithm: "SHA-256", encoding: "hex", prefix: "sha256=" }),
  headerScheme({ header: "X-Hub-Signature", algorithm: "SHA-1", encoding: "hex", prefix: "sha1=" }),
]);

/** Shopify: `X-Shopify-Hmac-Sha256: <base64>` under the app's client secret. */
export const shopify: Provider = hmacProvider([
  headerScheme({ header: "X-Shopify-Hmac-Sha256", algorithm: "SHA-256", encoding: "base64" }),
]);

/** Intercom: `X-Hub-Signature: sha1=<hex>` under the app's client secret. */
export const intercom: Provider = hmacProvider([
  headerScheme({ header: "X-Hub-Signature", algorithm: "SHA-1", encoding: "hex", prefix: "sha1=" }),
]);

/** Typeform: `Typeform-Signature: sha256=<base64>`. */
export const typeform: Provider = hmacProvider([
  headerScheme({ header: "Typeform-Signature", algorithm: "SHA-256", encoding: "base64", prefix: "sha256=" }),
]);

/** Vercel: `x-vercel-signature: <hex>`, HMAC-SHA1. */
export const vercel: Provider = hmacProvider([headerScheme({ header: "x-vercel-signature", algorithm: "SHA-1", encoding: "hex" })]);

/** PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`, one per secret during rotation. */
export const pagerduty: Provider = hmacProvider([
  {
    header: "X-PagerDuty-Signature",
    algorithm: "SHA-256",
    encoding: "hex",
    read: (value) => ({
      signatures: value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.startsWith("v1="))
        .map((s) => s.slice(3)),
    }),
    write: (headers, signature) => withHeader(headers, "X-PagerDuty-Signature", `v1=${signature}`),
  },
]);

const LINEAR_TIMESTAMP = "Linear-Timestamp";
const LINEAR_BODY_TIME = "webhookTimestamp";

/** The body's `webhookTimestamp`, or undefined when the body has none (or is not a JSON object). */
function bodyTimestamp(req: SignedRequest): unknown {
  return field(bodyJson(req), LINEAR_BODY_TIME);
}

const linearHmac = hmacProvider([
  {
    header: "Linear-Signature",
    algorithm: "SHA-256",
    encoding: "hex",
    clock: "unix-ms",
    tolerance: TOLERANCE.linear,
    read(value, req) {
      // The body's field is covered by the signature; the header is not, so it counts only when the body has no time.
      const fromBody = bodyTimestamp(req);
      if (fromBody !== undefined)
        return { signatures: [value], timestamp: { text: String(fromBody), where: `body field ${LINEAR_BODY_TIME}` } };
      const fromHeader = header(req, LINEAR_TIMESTAMP);
      if (fromHeader === undefined) return { signatures: [value] };
      return { signatures: [value], timestamp: { text: fromHeader, where: `header ${LINEAR_TIMESTAMP}` } };
    },
    write: (headers, signature, timestamp) => withHeader(withHeader(headers, "Linear-Signature", signature), LINEAR_TIMESTAMP, timestamp),
  },
]);

/**
 * Linear: `Linear-Signature: <hex>` over the body. The timestamp (ms) is the body's `webhookTimestamp`,
 * which the signature covers; only a body without one falls back to the unsigned `Linear-Timestamp`
 * header, and with neither there is no window. Trusting the header first would let anyone replay an old
 * delivery with a fresh header. So a body carrying `webhookTimestamp` cannot be re-signed: a fresh time
 * would mean editing the body, and the stale one fails the window (resign returns null); a body
 * without one is re-signed with a fresh header.
 */
export const linear: Provider = {
  ...linearHmac,
  resign: async (spec, req, now) => (bodyTimestamp(req) !== undefined ? null : linearHmac.resign!(spec, req, now)),
};
