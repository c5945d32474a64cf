// The one HMAC machine behind every shared-secret provider: a scheme says where the signatures and the
// timestamp are, what text precedes the body, and how to write a fresh signature back; this file does
// the reading, signing, constant-time matching, window check and re-signing for all of them.

import type { HeaderList } from "../protocol";
import { concat, encode, utf8 } from "./encoding";
import { type Clock, formatTime, staleReason, type Tolerance } from "./freshness";
import { hmac, matchesAny } from "./hmac";
import { hasAny, header, missing, withHeader } from "./request";
import { type Check, fail, type HmacAlgorithm, PASS, type Provider, type SignedRequest, type VerifySpec } from "./types";

/** What a scheme reads from a request: candidate signatures (encoded, prefixes removed) and the signed timestamp. */
export type Reading = { signatures: string[]; timestamp?: { text: string; where: string } };

/** One HMAC signature layout. */
export type HmacScheme = {
  /** The signature header; its presence selects this scheme among the provider's schemes. */
  header: string;
  /** Companion headers (timestamp, message id) that also mark the provider's requests. */
  also?: string[];
  algorithm: HmacAlgorithm;
  encoding: "hex" | "base64";
  /** Key bytes from the user's secret; the default is its UTF-8. */
  key?: (secret: string) => Uint8Array<ArrayBuffer>;
  /** How timestamps are written; set when re-signing must mint a fresh one. */
  clock?: Clock;
  tolerance?: Tolerance;
  /** The signatures and timestamp in `value` (the signature header) and the rest of the request, or why they cannot be read. */
  read(value: string, req: SignedRequest): Reading | string;
  /** Signed text that precedes the body; the default is none. */
  signed?(req: SignedRequest, timestamp: string): string;
  /** The headers with a new signature (and timestamp) in place. */
  write(headers: HeaderList, signature: string, timestamp: string): HeaderList;
};

async function mac(scheme: HmacScheme, secret: string, req: SignedRequest, timestamp: string): Promise<Uint8Array> {
  const key = scheme.key ? scheme.key(secret) : utf8(secret);
  return hmac(scheme.algorithm, key, concat(scheme.signed?.(req, timestamp) ?? "", req.body));
}

/** Verifies one request against one scheme: signature first, then the replay window. */
async function verifyScheme(scheme: HmacScheme, secret: string, req: SignedRequest, now: number): Promise<Check> {
  const value = header(req, scheme.header);
  if (value === undefined) return missing(scheme.header);
  const reading = scheme.read(value, req);
  if (typeof reading === "string") return fail(reading);
  if (reading.signatures.length === 0) return fail(`no signature in header ${scheme.header}`);
  const expected = await mac(scheme, secret, req, reading.timestamp?.text ?? "");
  if (!(await matchesAny(expected, reading.signatures, scheme.encoding))) return fail("signature mismatch");
  if (reading.timestamp && scheme.clock) {
    const stale = staleReason({ tolerance: scheme.tolerance, clock: scheme.clock, now, ...reading.timestamp });
    if (stale) return fail(stale);
  }
  return PASS;
}

/** The request's headers signed afresh at `now` under one scheme. */
async function resignScheme(scheme: HmacScheme, secret: string, req: SignedRequest, now: number): Promise<HeaderList> {
  const timestamp = scheme.clock ? formatTime(scheme.clock, now) : "";
  const signature = encode(await mac(scheme, secret, req, timestamp), scheme.encoding);
  return scheme.write(req.headers, signature, timestamp);
}

/** The `key=value` parts of a header such as `t=1,v1=a,v1=b`: the first value of each key, and all values of one key. */
export function parseParts(value: string, separator: string): { first: Map<string, string>; all: (key: string) => string[] } {
  const parts = value.split(separator).map((part): [string, string] => {
    const eq = part.indexOf("=");
    return eq < 0 ? [part.trim(), ""] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
  const first = new Map<string, string>();
  for (const [k, v] of parts) if (!first.has(k)) first.set(k, v);
  return { first, all: (key) => parts.filter(([k]) => k === key).map(([, v]) => v) };
}

/** A header value without its expected prefix, as a one-signature Reading; a value lacking the prefix holds no signature. */
export function prefixed(value: string, prefix: string): Reading {
  return { signatures: value.startsWith(prefix) ? [value.slice(prefix.length)] : [] };
}

/** A scheme whose header holds one signature after a fixed prefix, over optional text and the body. */
export function headerScheme(opts: {
  header: string;
  algorithm: HmacAlgorithm;
  encoding: "hex" | "base64";
  prefix?: string;
  signed?: HmacScheme["signed"];
}): HmacScheme {
  const prefix = opts.prefix ?? "";
  return {
    ...opts,
    read: (value) => prefixed(value, prefix),
    write: (headers, signature) => withHeader(headers, opts.header, prefix + signature),
  };
}

type Schemes = HmacScheme[] | ((spec: VerifySpec) => HmacScheme[]);

/**
 * A Provider built from HMAC schemes. A request is checked against the first scheme whose header it
 * carries (GitHub's SHA-256 header before the legacy SHA-1 one); re-signing rewrites every scheme the
 * request carries, or the first when it carries none.
 */
export function hmacProvider(schemes: Schemes, extra: Partial<Provider> = {}): Provider {
  const of = (spec: VerifySpec) => (typeof schemes === "function" ? schemes(spec) : schemes);
  return {
    headers: (spec) => [...new Set(of(spec).flatMap((s) => [s.header, ...(s.also ?? [])]))],
    async verify(spec, req, now) {
      const all = of(spec);
      const scheme = all.find((s) => header(req, s.header) !== undefined);
      if (scheme) return verifyScheme(scheme, spec.secret, req, now);
      // Name the signature header of the scheme whose companions did come (svix-signature beside svix-id).
      const named = all.find((s) => hasAny(req, s.also ?? [])) ?? all[0];
      return named ? missing(named.header) : fail(`no signature scheme for ${spec.provider}`);
    },
    async resign(spec, req, now) {
      const all = of(spec);
      const present = all.filter((s) => header(req, s.header) !== undefined);
      let headers = req.headers;
      for (const scheme of present.length > 0 ? present : all.slice(0, 1)) {
        headers = await resignScheme(scheme, spec.secret, { ...req, headers }, now);
      }
      return headers;
    },
    ...extra,
  };
}
