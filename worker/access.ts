// Per-tunnel access rules for public URLs, checked at the relay before a request reaches the agent.
// Platform-neutral (Web Crypto only), so the agent CLI validates with the same code the relay enforces.

import { type Cidr, CidrError, cidrContains, formatCidr, type IpAddress, MAX_CIDR_CHARS, parseCidr, parseIp } from "./cidr";
import { type CredentialDigests, challenge, digestCredentials, verifyAuthorization } from "./credentials";
import { clientKey, RATE_LIMIT, type RateLimiter } from "./rate-limit";

export { RateLimiter } from "./rate-limit";

/** A tunnel's access rules as given on the CLI / API. All optional; empty = open. */
export type AccessRules = {
  basicAuth?: string[];
  bearer?: string[];
  allowIp?: string[];
  rateLimitPerMinute?: number;
};

/** Why checkAccess refused a request: the relay's status, X-Porthole-Error code, one-sentence body and extra headers. */
export type Denial = {
  status: 401 | 403 | 429;
  code: "unauthorized" | "ip-denied" | "rate-limited";
  reason: string;
  headers: Record<string, string>;
};

/** Bounds on a tunnel's rules, so they fit a hello frame and stored state. */
export const ACCESS_LIMITS = {
  /** Entries in --basic-auth, and separately in --bearer. */
  maxCredentials: 32,
  /** Characters in one "user:password" or one token. */
  maxCredentialChars: 512,
  /** Entries in --allow-ip. */
  maxAllowIp: 128,
} as const;

/** A rule that cannot be applied; the message names the option and the cause, never a secret. */
export class AccessRuleError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = "AccessRuleError";
  }
}

const FLAGS = { basicAuth: "--basic-auth", bearer: "--bearer", allowIp: "--allow-ip", rateLimitPerMinute: "--rate-limit" } as const;
const CONTROL = /\p{Cc}/u;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Validates rules (from the agent's hello or the API); throws AccessRuleError naming the option and the cause. Returns a normalised, frozen copy. */
export function parseAccessRules(input: unknown): AccessRules {
  if (input === undefined) return Object.freeze({});
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new AccessRuleError("access", "Cannot apply access rules: expected an object of options");
  }
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    // An option this relay does not know must not be silently dropped: that would open a tunnel meant to be closed.
    if (!Object.hasOwn(FLAGS, key)) throw new AccessRuleError(key, `Cannot apply access rules: unknown option ${JSON.stringify(key)}`);
  }
  const rules: AccessRules = {};
  const basicAuth = stringList(given.basicAuth, FLAGS.basicAuth, ACCESS_LIMITS.maxCredentials).map(checkBasicEntry);
  const bearer = stringList(given.bearer, FLAGS.bearer, ACCESS_LIMITS.maxCredentials).map(checkBearerEntry);
  const allowIp = stringList(given.allowIp, FLAGS.allowIp, ACCESS_LIMITS.maxAllowIp).map(normaliseAllowIp);
  if (basicAuth.length) rules.basicAuth = Object.freeze([...new Set(basicAuth)]) as string[];
  if (bearer.length) rules.bearer = Object.freeze([...new Set(bearer)]) as string[];
  if (allowIp.length) rules.allowIp = Object.freeze([...new Set(allowIp)]) as string[];
  if (given.rateLimitPerMinute !== undefined)
    rules.rateLimitPerMinute = checkRate(given.rateLimitPerMinute, String(given.rateLimitPerMinute));
  return Object.freeze(rules);
}

/** CLI helper: "100/min" (also "100/m", "100") → 100; "0" or junk → AccessRuleError. */
export function parseRateLimit(text: string): number {
  const match = /^\s*([0-9]+)\s*(?:\/\s*(?:min|m))?\s*$/i.exec(text);
  if (!match) {
    throw new AccessRuleError(
      FLAGS.rateLimitPerMinute,
      `${FLAGS.rateLimitPerMinute} ${JSON.stringify(text)}: expected requests per minute, such as "60/min"`,
    );
  }
  return checkRate(Number(match[1]), text);
}

function checkRate(value: unknown, shown: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > RATE_LIMIT.maxPerMinute) {
    throw new AccessRuleError(
      FLAGS.rateLimitPerMinute,
      `${FLAGS.rateLimitPerMinute} ${JSON.stringify(shown)}: expected a whole number of requests per minute from 1 to ${RATE_LIMIT.maxPerMinute}`,
    );
  }
  return value;
}

function stringList(value: unknown, flag: string, max: number): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new AccessRuleError(flag, `${flag}: expected a list of strings`);
  }
  if (value.length > max) throw new AccessRuleError(flag, `${flag}: ${value.length} entries is over the limit of ${max}`);
  return value;
}

function checkSecret(flag: string, label: string, secret: string): void {
  if (secret.length > ACCESS_LIMITS.maxCredentialChars) {
    throw new AccessRuleError(flag, `${flag} (${label}): longer than ${ACCESS_LIMITS.maxCredentialChars} characters`);
  }
  if (CONTROL.test(secret)) throw new AccessRuleError(flag, `${flag} (${label}): contains a control character`);
}

function checkBasicEntry(entry: string, index: number): string {
  const flag = FLAGS.basicAuth;
  // The whole entry may be a mistyped password, so until a ":" is found only its position is named.
  checkSecret(flag, `entry ${index + 1}`, entry);
  const colon = entry.indexOf(":");
  if (colon < 0) throw new AccessRuleError(flag, `${flag} (entry ${index + 1}): expected "user:password" but there is no ":"`);
  if (colon === 0) throw new AccessRuleError(flag, `${flag} (entry ${index + 1}): the user name is empty`);
  if (colon === entry.length - 1) {
    throw new AccessRuleError(flag, `${flag} (user ${JSON.stringify(entry.slice(0, colon))}): the password is empty`);
  }
  return entry;
}

function checkBearerEntry(token: string, index: number): string {
  const flag = FLAGS.bearer;
  checkSecret(flag, `token ${index + 1}`, token);
  if (!VISIBLE_ASCII.test(token)) {
    throw new AccessRuleError(flag, `${flag} (token ${index + 1}): only visible ASCII characters, without spaces, are allowed`);
  }
  return token;
}

function normaliseAllowIp(entry: string, index: number): string {
  const flag = FLAGS.allowIp;
  if (entry.length > MAX_CIDR_CHARS)
    throw new AccessRuleError(flag, `${flag} (entry ${index + 1}): longer than ${MAX_CIDR_CHARS} characters`);
  try {
    return formatCidr(parseCidr(entry));
  } catch (err) {
    if (err instanceof CidrError) throw new AccessRuleError(flag, `${flag} ${JSON.stringify(entry)}: ${err.message}`);
    throw err;
  }
}

/** What checkAccess derives from a rules object once: parsed ranges and credential digests. */
type Compiled = { ranges: Cidr[]; digests: Promise<CredentialDigests> };

// Rules are immutable once parsed (parseAccessRules freezes them), so a rules object's ranges and
// digests can be kept for as long as the object lives.
const compiledRules = new WeakMap<AccessRules, Compiled>();

function compile(rules: AccessRules): Compiled {
  let compiled = compiledRules.get(rules);
  if (!compiled) {
    compiled = { ranges: (rules.allowIp ?? []).map(parseCidr), digests: digestCredentials(rules.basicAuth ?? [], rules.bearer ?? []) };
    compiledRules.set(rules, compiled);
  }
  return compiled;
}

function authorizationOf(headers: Headers | [string, string][]): string | null {
  if (!Array.isArray(headers)) return headers.get("authorization");
  // Repeats are joined as Headers.get joins them, so both forms of one request get the same answer.
  const values = headers.filter(([name]) => name.toLowerCase() === "authorization").map(([, value]) => value);
  return values.length ? values.join(", ") : null;
}

function ipDenial(ranges: Cidr[], clientIp: string): Denial | null {
  const denied = (reason: string): Denial => ({ status: 403, code: "ip-denied", reason, headers: {} });
  if (clientIp === "") return denied("the client's address is unknown, so it is not in the tunnel's allowed addresses");
  let ip: IpAddress;
  try {
    ip = parseIp(clientIp);
  } catch {
    return denied(`client address ${JSON.stringify(clientIp.slice(0, MAX_CIDR_CHARS))} is not a valid IP address, so it is not allowed`);
  }
  return ranges.some((range) => cidrContains(range, ip)) ? null : denied(`client ${clientIp} is not in the tunnel's allowed addresses`);
}

/**
 * Checks one request: allow-ip (403), then the rate limit (429 with Retry-After), then credentials (401).
 * Rate limiting comes before credentials so that failed guesses use up the limit too.
 * `limiter` must have been made for `rules.rateLimitPerMinute`; it is not used when the rules set no limit.
 */
export async function checkAccess(
  rules: AccessRules,
  req: { headers: Headers | [string, string][]; clientIp: string },
  limiter: RateLimiter,
  now: number,
): Promise<Denial | null> {
  const compiled = compile(rules);
  if (compiled.ranges.length) {
    const denial = ipDenial(compiled.ranges, req.clientIp);
    if (denial) return denial;
  }
  if (rules.rateLimitPerMinute !== undefined) {
    if (limiter.perMinute !== rules.rateLimitPerMinute) {
      throw new Error(`Cannot check access: the limiter allows ${limiter.perMinute}/min but the rules say ${rules.rateLimitPerMinute}/min`);
    }
    const retryAfter = limiter.take(req.clientIp, now);
    if (retryAfter !== null) {
      // Named as it is limited: an IPv6 client by its /64.
      const from = req.clientIp === "" ? "an unknown address" : clientKey(req.clientIp);
      return {
        status: 429,
        code: "rate-limited",
        reason: `more than ${limiter.perMinute} request${limiter.perMinute === 1 ? "" : "s"} per minute from ${from}; retry in ${retryAfter} s`,
        headers: { "Retry-After": String(retryAfter) },
      };
    }
  }
  if (!consumesAuthorization(rules)) return null;
  const digests = await compiled.digests;
  const reason = await verifyAuthorization(authorizationOf(req.headers), digests);
  return reason === null ? null : { status: 401, code: "unauthorized", reason, headers: { "WWW-Authenticate": challenge(digests) } };
}

/** Whether the relay should remove Authorization before forwarding: the credential belongs to the tunnel, not the local app. */
export function consumesAuthorization(rules: AccessRules): boolean {
  return Boolean(rules.basicAuth?.length || rules.bearer?.length);
}

const SCHEME = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32})[ \t]+\S/;

/** Header list for captures: Authorization values become "<scheme> [redacted]" when the tunnel has credential rules; order kept. */
export function redactCredentials(headers: [string, string][], rules: AccessRules): [string, string][] {
  const redact = consumesAuthorization(rules);
  return headers.map(([name, value]): [string, string] => {
    if (!redact || name.toLowerCase() !== "authorization") return [name, value];
    // Keep the scheme word only where it is clearly a scheme followed by a credential, never a bare secret.
    const scheme = SCHEME.exec(value)?.[1];
    return [name, scheme ? `${scheme} [redacted]` : "[redacted]"];
  });
}

/** A short human summary for the agent console, e.g. "basic-auth (1 user), allow-ip 10.0.0.0/8, 60/min"; never includes secrets; "" when open. */
export function describeAccess(rules: AccessRules): string {
  const parts: string[] = [];
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  if (rules.basicAuth?.length) {
    const users = new Set(rules.basicAuth.map((entry) => entry.slice(0, entry.indexOf(":"))));
    parts.push(`basic-auth (${count(users.size, "user")})`);
  }
  if (rules.bearer?.length) parts.push(`bearer (${count(rules.bearer.length, "token")})`);
  if (rules.allowIp?.length) {
    const shown = rules.allowIp.slice(0, 5).join(" ");
    const more = rules.allowIp.length - 5;
    parts.push(`allow-ip ${shown}${more > 0 ? ` (+${more} more)` : ""}`);
  }
  if (rules.rateLimitPerMinute !== undefined) parts.push(`${rules.rateLimitPerMinute}/min`);
  return parts.join(", ");
}
