// Providers whose signature is an HMAC over the raw body alone: GitHub, Shopify, Intercom, PagerDuty,
// Typeform, Vercel and Linear. They differ only in header, hash, encoding and prefix, except that
// PagerDuty lists several signatures and Linear carries its timestamp beside the signature.

import { TOLERANCE } from "./freshness";
import { headerScheme, hmacProvider } from "./hmac-scheme";
import { bodyJson, field, header, withHeader } from "./request";
import type { Provider } from "./types";

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

/**
 * Linear: `Linear-Signature: <hex>` over the body. The timestamp (ms) is the `Linear-Timestamp` header,
 * else the body's `webhookTimestamp`, as @linear/sdk reads it; neither is signed, and with neither there
 * is no window. Re-signing sets the header, which the SDK prefers over the (now stale) body field.
 */
export const linear: Provider = hmacProvider([
  {
    header: "Linear-Signature",
    algorithm: "SHA-256",
    encoding: "hex",
    clock: "unix-ms",
    tolerance: TOLERANCE.linear,
    read(value, req) {
      const fromHeader = header(req, LINEAR_TIMESTAMP);
      if (fromHeader !== undefined) return { signatures: [value], timestamp: { text: fromHeader, where: `header ${LINEAR_TIMESTAMP}` } };
      const fromBody = field(bodyJson(req), "webhookTimestamp");
      if (typeof fromBody !== "number" && typeof fromBody !== "string") return { signatures: [value] };
      return { signatures: [value], timestamp: { text: String(fromBody), where: "body field webhookTimestamp" } };
    },
    write: (headers, signature, timestamp) => withHeader(withHeader(headers, "Linear-Signature", signature), LINEAR_TIMESTAMP, timestamp),
  },
]);
