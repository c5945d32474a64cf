// Replay windows: how old (or how far ahead) a signed timestamp may be, per provider, as each one
// documents or as its official SDK enforces. One table, so the numbers are reviewed in one place.

/** How a provider writes its timestamp. */
export type Clock = "unix" | "unix-ms" | "rfc3339";

/** Largest accepted age in seconds; `future` also rejects timestamps that far ahead of the relay's clock. */
export type Tolerance = { seconds: number; future: boolean };

/**
 * The replay windows. Providers not listed document none: GitHub, Shopify, Twilio, Square, Intercom,
 * PagerDuty, GitLab, Typeform, Vercel (no timestamp at all), and Zoom, Discord, SendGrid and Mailgun
 * (timestamp signed, but no window in their docs or SDKs), so those verdicts never fail on age.
 */
export const TOLERANCE = {
  /** stripe-node Webhooks DEFAULT_TOLERANCE = 300; it checks age only. */
  stripe: { seconds: 300, future: false },
  /** Slack "Verifying requests": reject if "more than five minutes from local time" (abs). */
  slack: { seconds: 300, future: true },
  /** standard-webhooks libraries: WEBHOOK_TOLERANCE_IN_SECONDS = 300, "too old" and "too new". */
  "standard-webhooks": { seconds: 300, future: true },
  /** dev.twitch.tv "Handling webhook events": reject messages older than 10 minutes. */
  twitch: { seconds: 600, future: false },
  /** paddle-node-sdk webhooks-validator MAX_VALID_TIME_DIFFERENCE = 5: rejects now > ts + 5 s. */
  paddle: { seconds: 5, future: false },
  /** @linear/sdk LinearWebhookClient.verify: |now - timestamp| > 60 s fails. */
  linear: { seconds: 60, future: true },
  /** developer.calendly.com "Webhook signatures" sample: three minutes, age only. */
  calendly: { seconds: 180, future: false },
} as const satisfies Record<string, Tolerance>;

const FORMATS: Record<Clock, { pattern: RegExp; noun: string }> = {
  unix: { pattern: /^\d{1,11}$/, noun: "a Unix time in seconds" },
  "unix-ms": { pattern: /^\d{1,14}$/, noun: "a Unix time in milliseconds" },
  rfc3339: { pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i, noun: "an RFC 3339 time" },
};

/** Milliseconds since the epoch for a timestamp as the provider wrote it, or undefined when malformed. */
export function parseTime(clock: Clock, text: string): number | undefined {
  if (!FORMATS[clock].pattern.test(text)) return undefined;
  if (clock === "unix") return Number(text) * 1000;
  if (clock === "unix-ms") return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `now` written the way the provider writes timestamps, for re-signing. */
export function formatTime(clock: Clock, now: number): string {
  if (clock === "unix") return String(Math.floor(now / 1000));
  if (clock === "unix-ms") return String(now);
  return new Date(now).toISOString();
}

/**
 * Why a timestamp fails its window, or undefined when it is fresh (or there is no window).
 * `where` names the header or field it came from, for the malformed case.
 */
export function staleReason(opts: { tolerance?: Tolerance; clock: Clock; text: string; where: string; now: number }): string | undefined {
  const at = parseTime(opts.clock, opts.text);
  if (at === undefined) return `timestamp ${JSON.stringify(opts.text.slice(0, 40))} in ${opts.where} is not ${FORMATS[opts.clock].noun}`;
  const tolerance = opts.tolerance;
  if (!tolerance) return undefined;
  const age = opts.now - at;
  const limit = tolerance.seconds * 1000;
  if (age > limit) return `timestamp ${Math.ceil(age / 1000)} s outside the ${tolerance.seconds} s tolerance`;
  if (tolerance.future && -age > limit) {
    return `timestamp ${Math.ceil(-age / 1000)} s in the future, outside the ${tolerance.seconds} s tolerance`;
  }
  return undefined;
}
