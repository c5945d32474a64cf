// Providers that sign a timestamp together with the body, HMAC-SHA256: Stripe and Calendly
// (`t=…,v1=…`), Slack and Zoom (`v0=` plus a timestamp header), Paddle (`ts=…;h1=…`) and Twitch
// (message id + RFC 3339 time). Re-signing mints a fresh timestamp, so replays pass the window again.

import { TOLERANCE, type Tolerance } from "./freshness";
import { type HmacScheme, hmacProvider, parseParts, prefixed } from "./hmac-scheme";
import { bodyJson, field, header, withHeader } from "./request";
import type { Provider, SignedRequest } from "./types";

/** One header of separated parts holding the timestamp under `tsKey` and signatures under `sigKey`. */
function partsScheme(opts: {
  header: string;
  separator: string;
  tsKey: string;
  sigKey: string;
  joiner: string;
  tolerance: Tolerance;
}): HmacScheme {
  const { header: name, separator, tsKey, sigKey, joiner } = opts;
  return {
    header: name,
    algorithm: "SHA-256",
    encoding: "hex",
    clock: "unix",
    tolerance: opts.tolerance,
    read(value) {
      const parts = parseParts(value, separator);
      const ts = parts.first.get(tsKey);
      if (ts === undefined) return `no ${tsKey}= timestamp in header ${name}`;
      return { signatures: parts.all(sigKey), timestamp: { text: ts, where: `header ${name}` } };
    },
    signed: (_req, ts) => `${ts}${joiner}`,
    write: (headers, signature, ts) => withHeader(headers, name, `${tsKey}=${ts}${separator}${sigKey}=${signature}`),
  };
}

/** A `v0=<hex>` signature header with its timestamp in a second header, over `v0:<ts>:<body>`. */
function v0Scheme(sigHeader: string, tsHeader: string, tolerance?: Tolerance): HmacScheme {
  return {
    header: sigHeader,
    also: [tsHeader],
    algorithm: "SHA-256",
    encoding: "hex",
    clock: "unix",
    tolerance,
    read(value, req) {
      const ts = header(req, tsHeader);
      if (ts === undefined) return `missing header ${tsHeader}`;
      return { ...prefixed(value, "v0="), timestamp: { text: ts, where: `header ${tsHeader}` } };
    },
    signed: (_req, ts) => `v0:${ts}:`,
    write: (headers, signature, ts) => withHeader(withHeader(headers, sigHeader, `v0=${signature}`), tsHeader, ts),
  };
}

/** The body's JSON value at `key`, when the body is a JSON object. */
function bodyField(req: SignedRequest, key: string): unknown {
  return field(bodyJson(req), key);
}

/** Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` over `<t>.<body>`; the `whsec_` secret is the key as typed. */
export const stripe: Provider = hmacProvider([
  partsScheme({ header: "Stripe-Signature", separator: ",", tsKey: "t", sigKey: "v1", joiner: ".", tolerance: TOLERANCE.stripe }),
]);

/** Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>`, Stripe's layout. */
export const calendly: Provider = hmacProvider([
  partsScheme({
    header: "Calendly-Webhook-Signature",
    separator: ",",
    tsKey: "t",
    sigKey: "v1",
    joiner: ".",
    tolerance: TOLERANCE.calendly,
  }),
]);

/** Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]` over `<ts>:<body>`. */
export const paddle: Provider = hmacProvider([
  partsScheme({ header: "Paddle-Signature", separator: ";", tsKey: "ts", sigKey: "h1", joiner: ":", tolerance: TOLERANCE.paddle }),
]);

/** Slack: `X-Slack-Signature: v0=<hex>` and `X-Slack-Request-Timestamp`; the Events API's first call is `url_verification`. */
export const slack: Provider = hmacProvider([v0Scheme("X-Slack-Signature", "X-Slack-Request-Timestamp", TOLERANCE.slack)], {
  handshake: (req) => (bodyField(req, "type") === "url_verification" ? "url_verification" : undefined),
});

/** Zoom: `x-zm-signature: v0=<hex>` and `x-zm-request-timestamp`; `endpoint.url_validation` is its challenge. */
export const zoom: Provider = hmacProvider([v0Scheme("x-zm-signature", "x-zm-request-timestamp")], {
  handshake: (req) => (bodyField(req, "event") === "endpoint.url_validation" ? "endpoint.url_validation" : undefined),
});

const TWITCH_ID = "Twitch-Eventsub-Message-Id";
const TWITCH_TIME = "Twitch-Eventsub-Message-Timestamp";
const TWITCH_SIG = "Twitch-Eventsub-Message-Signature";

/** Twitch EventSub: `sha256=<hex>` over `<message id><RFC 3339 timestamp><body>`; `webhook_callback_verification` is its challenge. */
export const twitch: Provider = hmacProvider(
  [
    {
      header: TWITCH_SIG,
      also: [TWITCH_ID, TWITCH_TIME],
      algorithm: "SHA-256",
      encoding: "hex",
      clock: "rfc3339",
      tolerance: TOLERANCE.twitch,
      read(value, req) {
        if (header(req, TWITCH_ID) === undefined) return `missing header ${TWITCH_ID}`;
        const ts = header(req, TWITCH_TIME);
        if (ts === undefined) return `missing header ${TWITCH_TIME}`;
        return { ...prefixed(value, "sha256="), timestamp: { text: ts, where: `header ${TWITCH_TIME}` } };
      },
      signed: (req, ts) => `${header(req, TWITCH_ID) ?? ""}${ts}`,
      write: (headers, signature, ts) => withHeader(withHeader(headers, TWITCH_SIG, `sha256=${signature}`), TWITCH_TIME, ts),
    },
  ],
  {
    // dev.twitch.tv: the subscription secret is an ASCII string of 10 to 100 characters.
    checkSecret: (secret) => (/^[\x20-\x7e]{10,100}$/.test(secret) ? undefined : "a Twitch secret is 10 to 100 ASCII characters"),
    handshake: (req) =>
      header(req, "Twitch-Eventsub-Message-Type") === "webhook_callback_verification" ? "webhook_callback_verification" : undefined,
  },
);
