// Shared pieces of the webhook verifier tests: request building, an injected clock, node:crypto
// reference signers (independent of worker/webhooks), and the cases every provider must pass.

import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import type { HeaderList } from "../../worker/protocol";
import { missingReason, parseVerifySpec, resign, type SignedRequest, type VerifySpec, verifyWebhook } from "../../worker/webhooks/verify";
import { VECTORS } from "./webhooks-vectors";

/** The clock's base for derived cases, Unix seconds (2023-11-14). */
export const T = 1_700_000_000;

/** Milliseconds for a Unix-seconds time: the form verifyWebhook's injected clock takes. */
export const at = (unix: number) => unix * 1000;

/** Where derived cases pretend the provider called. */
export const HOOK_URL = "https://hooks.example.test/webhooks/in?src=test";

/** A request as the relay would hand it over. */
export function signed(body: string | Uint8Array, headers: HeaderList | Record<string, string>, url = HOOK_URL): SignedRequest {
  return {
    method: "POST",
    url,
    headers: Array.isArray(headers) ? headers : Object.entries(headers),
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
  };
}

/** HMAC with node:crypto, the reference the Web Crypto code is checked against. */
export function nodeHmac(alg: "sha1" | "sha256" | "sha512", key: string | Buffer, data: string | Buffer, enc: "hex" | "base64"): string {
  return crypto.createHmac(alg, key).update(data).digest(enc);
}

/** Headers without any named `name`, case-insensitive. */
export function without(headers: HeaderList, name: string): HeaderList {
  return headers.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
}

/** Verifies one request against one spec. */
export function verifyOne(spec: VerifySpec, req: SignedRequest, now: number) {
  return verifyWebhook([spec], req, now);
}

/** A vector's request, with extra headers (a Content-Type the vector leaves implicit) in front. */
export function vectorRequest(id: keyof typeof VECTORS, extra: Record<string, string> = {}): SignedRequest {
  const v = VECTORS[id];
  return signed(v.body, { ...extra, ...v.headers }, "url" in v ? v.url : HOOK_URL);
}

/** The spec a vector's key parses to. */
export function vectorSpec(id: keyof typeof VECTORS): VerifySpec {
  const v = VECTORS[id];
  return parseVerifySpec(`${v.provider}:${v.key}`);
}

/** Each vector verifies (or is rejected, for negative ones) at its fresh time. */
export function describeVectors(ids: (keyof typeof VECTORS)[], extra: Record<string, string> = {}): void {
  it.each(ids)("vector %s", async (id) => {
    const v = VECTORS[id];
    const now = at("validAt" in v ? v.validAt : T);
    const verdict = await verifyOne(vectorSpec(id), vectorRequest(id, extra), now);
    expect(verdict).toMatchObject({
      provider: vectorSpec(id).provider,
      ok: v.valid,
      reason: v.valid ? expect.stringMatching(/^valid /) : "signature mismatch",
    });
  });
}

/** The cases every provider runs: how it signs, what to drop, and its replay window. */
export type ProviderCase = {
  spec: VerifySpec;
  /** A spec with another secret (or another public key). */
  wrongSpec: VerifySpec;
  body: string;
  url?: string;
  /** The request's Content-Type; default application/json. */
  contentType?: string;
  /** The provider's signature headers for `body` at `unix`, computed with node:crypto. */
  sign(body: string, unix: number, url: string): HeaderList;
  /**
   * A header to drop; `carried` says whether the remaining headers still mark the provider's request,
   * `named` which header the reason then names (default the dropped one).
   */
  missing: { header: string; carried: boolean; named?: string };
  /** The documented window, or undefined when stale timestamps must still pass. */
  tolerance?: { seconds: number; future: boolean };
  resignable: boolean;
};

/** Runs the shared valid/invalid/stale/re-sign cases for one provider. */
export function describeProvider(title: string, c: ProviderCase): void {
  const url = c.url ?? HOOK_URL;
  const provider = c.spec.provider;
  const contentType = c.contentType ?? "application/json";
  // Unrelated headers around the signature ones, to see order and values survive re-signing.
  const request = (body: string, unix: number, sigBody = body) =>
    signed(body, [["Content-Type", contentType], ...c.sign(sigBody, unix, url), ["X-Trace", "t-1"]], url);

  describe(`${title} (shared cases)`, () => {
    it("passes a fresh, correctly signed request", async () => {
      expect(await verifyOne(c.spec, request(c.body, T), at(T) + 1500)).toEqual({
        provider,
        ok: true,
        reason: `valid ${provider} signature`,
      });
    });

    it("rejects a tampered body", async () => {
      const verdict = await verifyOne(c.spec, request(`${c.body} `, T, c.body), at(T));
      expect(verdict).toMatchObject({ provider, ok: false });
      expect(verdict?.reason).toMatch(/mismatch|does not match/);
    });

    it("rejects another secret", async () => {
      expect(await verifyOne(c.wrongSpec, request(c.body, T), at(T))).toMatchObject({ ok: false, reason: "signature mismatch" });
    });

    it(`names the missing header ${c.missing.header}`, async () => {
      const req = request(c.body, T);
      const stripped = { ...req, headers: without(req.headers, c.missing.header) };
      const verdict = await verifyOne(c.spec, stripped, at(T));
      if (c.missing.carried) expect(verdict).toEqual({ provider, ok: false, reason: `missing header ${c.missing.header}` });
      else {
        expect(verdict).toBeNull();
        expect(missingReason([c.spec])).toBe(`missing header ${c.missing.named ?? c.missing.header}`);
      }
    });

    it("reads header names case-insensitively", async () => {
      const req = request(c.body, T);
      const lower = { ...req, headers: req.headers.map(([k, v]): [string, string] => [k.toLowerCase(), v]) };
      const upper = { ...req, headers: req.headers.map(([k, v]): [string, string] => [k.toUpperCase(), v]) };
      expect(await verifyOne(c.spec, lower, at(T))).toMatchObject({ ok: true });
      expect(await verifyOne(c.spec, upper, at(T))).toMatchObject({ ok: true });
    });

    const tol = c.tolerance;
    if (tol) {
      it(`rejects a timestamp older than ${tol.seconds} s with the exact reason, and passes at the edge`, async () => {
        const req = request(c.body, T);
        expect(await verifyOne(c.spec, req, at(T + tol.seconds))).toMatchObject({ ok: true });
        expect(await verifyOne(c.spec, req, at(T + tol.seconds + 12))).toEqual({
          provider,
          ok: false,
          reason: `timestamp ${tol.seconds + 12} s outside the ${tol.seconds} s tolerance`,
        });
      });

      it(
        tol.future ? "rejects a timestamp too far ahead" : "accepts a timestamp ahead of the clock (the provider checks age only)",
        async () => {
          const verdict = await verifyOne(c.spec, request(c.body, T), at(T - tol.seconds - 7));
          if (tol.future) {
            expect(verdict).toMatchObject({
              ok: false,
              reason: `timestamp ${tol.seconds + 7} s in the future, outside the ${tol.seconds} s tolerance`,
            });
          } else expect(verdict).toMatchObject({ ok: true });
        },
      );
    } else {
      it("has no replay window: a month-old request still verifies", async () => {
        expect(await verifyOne(c.spec, request(c.body, T), at(T + 30 * 86400))).toMatchObject({ ok: true });
      });
    }

    if (c.resignable) {
      it("re-signs at a later time: the new headers pass then, in the same order, the others untouched", async () => {
        const later = T + 3 * 86400;
        const original = request(c.body, T);
        const headers = await resign(c.spec, original, at(later));
        expect(headers).not.toBeNull();
        const replay = { ...original, headers: headers! };
        expect(await verifyOne(c.spec, replay, at(later))).toMatchObject({ ok: true });
        expect(headers!.map(([k]) => k)).toEqual(original.headers.map(([k]) => k));
        expect(headers![0]).toEqual(["Content-Type", contentType]);
        expect(headers!.at(-1)).toEqual(["X-Trace", "t-1"]);
        const stale = await verifyOne(c.spec, original, at(later));
        if (tol) expect(stale).toMatchObject({ ok: false, reason: expect.stringMatching(/^timestamp \d+ s outside/) });
        else expect(stale).toMatchObject({ ok: true });
      });

      it("re-signs an edited body so the replay verifies", async () => {
        const edited = request(`${c.body} `, T, c.body);
        const headers = await resign(c.spec, edited, at(T));
        expect(await verifyOne(c.spec, { ...edited, headers: headers! }, at(T))).toMatchObject({ ok: true });
      });
    } else {
      it("cannot be re-signed", async () => {
        expect(await resign(c.spec, request(c.body, T), at(T))).toBeNull();
      });
    }
  });
}
