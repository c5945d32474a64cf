// The webhook verifiers' entry point: picks the spec a request belongs to, verifies it, re-signs it
// for replays, and names handshakes. Everything the relay needs is exported from here.

import type { HeaderList } from "../protocol";
import { PROVIDERS } from "./registry";
import { hasAny } from "./request";
import type { ProviderId, SignedRequest, Verdict, VerifySpec } from "./types";
import { MAILGUN_FIELDS } from "./unbound";

export { TOLERANCE } from "./freshness";
export { parseVerifySpec, VerifySpecError } from "./spec";
export type { HmacRecipe, ProviderId, SignedRequest, Verdict, VerifySpec } from "./types";

const asSpec = (p: ProviderId | VerifySpec): VerifySpec => (typeof p === "string" ? { provider: p, secret: "" } : p);

/** The headers that identify a provider's requests (a recipe's come from its spec; Mailgun has none: its fields are in the body). */
export function signatureHeaders(provider: ProviderId | VerifySpec): string[] {
  const spec = asSpec(provider);
  return PROVIDERS[spec.provider].headers(spec);
}

/**
 * The headers whose value is a secret for these specs (GitLab's X-Gitlab-Token), so captures can redact
 * them; no other provider, and no recipe, sends its secret. Deduplicated, in spec order.
 */
export function secretHeaders(specs: VerifySpec[]): string[] {
  return [...new Set(specs.flatMap((spec) => PROVIDERS[spec.provider].secretHeaders ?? []))];
}

/** The reason for enforce mode when verifyWebhook found no signature at all, e.g. "missing header Stripe-Signature". */
export function missingReason(specs: VerifySpec[]): string {
  const wanted = specs.map((spec) => (spec.provider === "mailgun" ? MAILGUN_FIELDS : `header ${signatureHeaders(spec)[0] ?? "?"}`));
  return `missing ${[...new Set(wanted)].join(" or ")}`;
}

/** The provider handshake a request is (url_verification, endpoint.url_validation, webhook_callback_verification, PING), if any. */
export function detectHandshake(provider: ProviderId, req: SignedRequest): string | undefined {
  return PROVIDERS[provider].handshake?.(req);
}

async function carries(spec: VerifySpec, req: SignedRequest): Promise<boolean> {
  const provider = PROVIDERS[spec.provider];
  return provider.carries ? provider.carries(req) : hasAny(req, provider.headers(spec));
}

async function verifyOne(spec: VerifySpec, req: SignedRequest, now: number): Promise<Verdict> {
  const provider = PROVIDERS[spec.provider];
  const handshake = provider.handshake?.(req);
  let verdict: Verdict;
  try {
    const check = await provider.verify(spec, req, now);
    const reason = check.ok ? `valid ${spec.provider} ${provider.credential ?? "signature"}` : check.reason;
    verdict = { provider: spec.provider, ok: check.ok, reason };
  } catch (err) {
    // A verifier bug must not take the request down with it; the verdict says what happened.
    verdict = { provider: spec.provider, ok: false, reason: `verifier failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return handshake ? { ...verdict, handshake } : verdict;
}

/**
 * Verifies the request against the specs whose signature headers it carries, in order: the first
 * passing verdict wins (several specs may share a header, e.g. GitHub and Intercom, or two secrets
 * of one provider); when none passes, the first failure is returned; null when none applies.
 * `now` is ms since the epoch.
 */
export async function verifyWebhook(specs: VerifySpec[], req: SignedRequest, now: number): Promise<Verdict | null> {
  let firstFailure: Verdict | undefined;
  for (const spec of specs) {
    if (!(await carries(spec, req))) continue;
    const verdict = await verifyOne(spec, req, now);
    if (verdict.ok) return verdict;
    firstFailure ??= verdict;
  }
  return firstFailure ?? null;
}

/**
 * The request's whole header list, in order, with signature (and timestamp) headers replaced by ones
 * signed at `now` (GitLab: X-Gitlab-Token set to the configured token); null when we cannot sign for
 * the provider: Discord, SendGrid and Standard Webhooks `whpk_` hold only a public key, Mailgun signs
 * fields inside the body, and a Linear body carrying `webhookTimestamp` holds its own signed time.
 */
export async function resign(spec: VerifySpec, req: SignedRequest, now: number): Promise<HeaderList | null> {
  const provider = PROVIDERS[spec.provider];
  return provider.resign ? provider.resign(spec, req, now) : null;
}
