// Credentials that do not cover the raw body: Mailgun's signature fields in the body, GitLab's shared token
// (the one header whose value is a secret, which captures redact and re-signing restores).

import { describe, expect, it } from "vitest";
import { missingReason, parseVerifySpec, resign, secretHeaders, signatureHeaders, verifyWebhook } from "../../worker/webhooks/verify";
import { at, describeVectors, nodeHmac, signed, T, vectorRequest, vectorSpec, verifyOne } from "./webhooks-fixtures";

const MAILGUN = { provider: "mailgun" as const, secret: "mg-key" };
const TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef01";

/** Mailgun's fields for a timestamp, signed with node:crypto. */
const mailgunFields = (unix: number, key = "mg-key") => ({
  timestamp: String(unix),
  token: TOKEN,
  signature: nodeHmac("sha256", key, `${unix}${TOKEN}`, "hex"),
});

const jsonBody = (fields: Record<string, string>, event = "delivered") => JSON.stringify({ signature: fields, "event-data": { event } });

describe("vectors", () => {
  describeVectors(["mailgun-derived", "gitlab-token"]);
});

describe("mailgun", () => {
  it("verifies the signature object of a JSON body", async () => {
    const req = signed(jsonBody(mailgunFields(T)), { "Content-Type": "application/json" });
    expect(await verifyOne(MAILGUN, req, at(T))).toEqual({ provider: "mailgun", ok: true, reason: "valid mailgun signature" });
  });

  it("verifies legacy url-encoded and multipart form fields", async () => {
    const f = mailgunFields(T);
    const form = `event=delivered&timestamp=${f.timestamp}&token=${f.token}&signature=${f.signature}`;
    const urlencoded = signed(form, { "Content-Type": "application/x-www-form-urlencoded" });
    expect(await verifyOne(MAILGUN, urlencoded, at(T))).toMatchObject({ ok: true });
    const parts = Object.entries({ event: "delivered", ...f }).map(
      ([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
    );
    const multipart = signed(`${parts.join("")}--XyZ--\r\n`, { "Content-Type": "multipart/form-data; boundary=XyZ" });
    expect(await verifyOne(MAILGUN, multipart, at(T))).toMatchObject({ ok: true });
  });

  it("rejects another key and a tampered signed field", async () => {
    const req = signed(jsonBody(mailgunFields(T)), {});
    expect(await verifyOne({ provider: "mailgun", secret: "other" }, req, at(T))).toMatchObject({
      ok: false,
      reason: "signature mismatch",
    });
    const tampered = signed(jsonBody({ ...mailgunFields(T), timestamp: String(T + 1) }), {});
    expect(await verifyOne(MAILGUN, tampered, at(T))).toMatchObject({ ok: false, reason: "signature mismatch" });
  });

  it("does not bind the rest of the body: an edited event still passes (Mailgun's design)", async () => {
    const edited = signed(jsonBody(mailgunFields(T), "failed"), {});
    expect(await verifyOne(MAILGUN, edited, at(T))).toMatchObject({ ok: true });
  });

  it("has no replay window and cannot be re-signed", async () => {
    const req = signed(jsonBody(mailgunFields(T)), {});
    expect(await verifyOne(MAILGUN, req, at(T + 90 * 86400))).toMatchObject({ ok: true });
    expect(await resign(MAILGUN, req, at(T))).toBeNull();
  });

  it("a body without the fields is not Mailgun's; the missing reason says where they belong", async () => {
    const partial = signed(JSON.stringify({ signature: { timestamp: "1", token: "t" } }), {});
    expect(await verifyWebhook([MAILGUN], partial, at(T))).toBeNull();
    expect(await verifyWebhook([MAILGUN], signed("not json", {}), at(T))).toBeNull();
    expect(signatureHeaders("mailgun")).toEqual([]);
    expect(missingReason([MAILGUN])).toBe("missing signature fields (timestamp, token, signature) in the body");
  });
});

describe("gitlab", () => {
  const spec = { provider: "gitlab" as const, secret: "gitlab-secret-token" };

  it("passes the configured token, case-insensitive header name", async () => {
    const req = signed("{}", { "x-gitlab-token": "gitlab-secret-token" });
    expect(await verifyOne(spec, req, 0)).toEqual({ provider: "gitlab", ok: true, reason: "valid gitlab token" });
  });

  it("rejects another token of any length", async () => {
    for (const token of ["gitlab-secret-tokeN", "gitlab-secret-token-longer", "g", ""]) {
      expect(await verifyOne(spec, signed("{}", { "X-Gitlab-Token": token }), 0)).toMatchObject({ ok: false, reason: "token mismatch" });
    }
  });

  it("a request without the header is not GitLab's", async () => {
    expect(await verifyOne(spec, signed("{}", { "X-Gitlab-Event": "Push Hook" }), 0)).toBeNull();
    expect(missingReason([spec])).toBe("missing header X-Gitlab-Token");
    expect(vectorSpec("gitlab-token")).toEqual(spec);
  });

  it("re-signing puts the configured token back, so a capture with the token redacted replays and passes", async () => {
    const redacted = signed("{}", [
      ["X-Gitlab-Event", "Push Hook"],
      ["x-gitlab-token", "[redacted]"],
      ["X-Trace", "1"],
    ]);
    const headers = await resign(spec, redacted, 0);
    expect(headers).toEqual([
      ["X-Gitlab-Event", "Push Hook"],
      ["x-gitlab-token", "gitlab-secret-token"],
      ["X-Trace", "1"],
    ]);
    expect(await verifyOne(spec, { ...redacted, headers: headers! }, 0)).toMatchObject({ ok: true });
    expect(await resign(spec, vectorRequest("gitlab-token"), 0)).toEqual([["X-Gitlab-Token", "gitlab-secret-token"]]);
  });

  it("its token header is the one secret header; no other provider or recipe has one", () => {
    const others = ["github:s", "stripe:whsec_x", "slack:s", "mailgun:k", "linear:k", "hmac-sha256:header=X-Token:s"].map((t) =>
      parseVerifySpec(t),
    );
    expect(secretHeaders([spec])).toEqual(["X-Gitlab-Token"]);
    expect(secretHeaders(others)).toEqual([]);
    expect(secretHeaders([...others, spec, { provider: "gitlab", secret: "second-token" }])).toEqual(["X-Gitlab-Token"]);
    expect(secretHeaders([])).toEqual([]);
  });
});
