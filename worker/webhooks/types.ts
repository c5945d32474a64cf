// The shapes shared by every webhook verifier: the public contract the relay codes against, and the
// internal Provider record each scheme family fills in. Platform-neutral: Web Crypto only.

import type { HeaderList } from "../protocol";

/** Every provider `--verify` knows; `hmac` is the user-defined recipe. */
export type ProviderId =
  | "github"
  | "stripe"
  | "slack"
  | "standard-webhooks"
  | "shopify"
  | "twilio"
  | "square"
  | "linear"
  | "discord"
  | "twitch"
  | "paddle"
  | "zoom"
  | "sendgrid"
  | "mailgun"
  | "intercom"
  | "pagerduty"
  | "gitlab"
  | "typeform"
  | "calendly"
  | "vercel"
  | "hmac";

/** The HMAC algorithms a recipe may name, spelled as Web Crypto wants them. */
export type HmacAlgorithm = "SHA-1" | "SHA-256" | "SHA-512";

/** A user-defined HMAC scheme (`--verify hmac-sha256:header=…:SECRET`); see recipe.ts for the grammar. */
export type HmacRecipe = {
  algorithm: HmacAlgorithm;
  /** Header carrying the signature. */
  header: string;
  encoding: "hex" | "base64";
  /** Text before the encoded signature in the header, e.g. `sha256=`. */
  prefix: string;
  /** Header carrying a Unix-seconds timestamp; set only for timestamped recipes. */
  timestampHeader?: string;
  /** Signed text: literal text and `{timestamp}`, ending with `{body}`. */
  template: string;
  /** Largest accepted timestamp age either way, in seconds (timestamped recipes only). */
  toleranceSeconds: number;
};

/** One `--verify PROVIDER:SECRET` option, parsed. `svix` is an alias of standard-webhooks. */
export type VerifySpec = { provider: ProviderId; secret: string; recipe?: HmacRecipe };

/** What the verifier sees: the exact bytes and the URL the provider called (public URL, host or path mode). */
export type SignedRequest = { method: string; url: string; headers: HeaderList; body: Uint8Array };

/** The outcome for one request; `handshake` names a provider handshake (e.g. `url_verification`). */
export type Verdict = { provider: ProviderId; ok: boolean; reason: string; handshake?: string };

/** A verifier's answer before the registry names the provider: pass, or one sentence saying why not. */
export type Check = { ok: true } | { ok: false; reason: string };

/** What each provider module supplies to the registry. */
export type Provider = {
  /** What a valid request carries, for the ok reason ("valid gitlab token"); the default is "signature". */
  credential?: string;
  /** Headers that mark the provider's requests; the first is the one a "missing header" reason names. */
  headers(spec: VerifySpec): string[];
  /** Headers whose value is the secret itself (GitLab's token), so captures must redact them; none by default. */
  secretHeaders?: string[];
  /** Why a secret cannot be this provider's key (a clause for the spec error), or undefined when it can. */
  checkSecret?(secret: string): string | undefined;
  /** Whether a request is this provider's, for providers whose signature is not in a header (Mailgun). */
  carries?(req: SignedRequest): Promise<boolean>;
  verify(spec: VerifySpec, req: SignedRequest, now: number): Promise<Check>;
  /** New headers signed at `now`; absent for providers we cannot sign for. */
  resign?(spec: VerifySpec, req: SignedRequest, now: number): Promise<HeaderList | null>;
  /** The handshake this request is, if any (Slack url_verification, Discord PING, …). */
  handshake?(req: SignedRequest): string | undefined;
};

/** A failed Check with its reason. */
export function fail(reason: string): Check {
  return { ok: false, reason };
}

/** The passing Check. */
export const PASS: Check = { ok: true };
