// Signatures bound to the URL the provider called: Twilio (URL + sorted form fields, or bodySHA256) and Square (URL + body).

import { describe, expect, it } from "vitest";
import { resign } from "../../worker/webhooks/verify";
import { describeProvider, describeVectors, nodeHmac, signed, T, vectorRequest, vectorSpec, verifyOne } from "./webhooks-fixtures";

const FORM = "application/x-www-form-urlencoded";
const TUNNEL_URL = "https://abc123.tunnel.example/twilio/voice?x=1";

/** Twilio's documented signing: the URL, then each POST field name and value, sorted by name. */
function twilioReference(token: string, url: string, form: string): string {
  const params = new URLSearchParams(form);
  const names = [...new Set(params.keys())].sort();
  return nodeHmac("sha1", token, url + names.map((n) => n + params.get(n)).join(""), "base64");
}

describe("vectors", () => {
  describeVectors(["twilio-docs", "twilio-python-tests", "twilio-python-tests-port443"], { "Content-Type": FORM });
  describeVectors(["twilio-python-tests-json-body"], { "Content-Type": "application/json" });
  describeVectors(["square-sdk-1", "square-sdk-1-negative-url", "square-sdk-2", "square-sdk-3-escaped"]);
});

describeProvider("twilio", {
  spec: { provider: "twilio", secret: "auth-token-1" },
  wrongSpec: { provider: "twilio", secret: "auth-token-2" },
  body: "CallSid=CA1&From=%2B15550001111&Body=Hello+w%C3%B6rld&To=%2B15550002222",
  url: TUNNEL_URL,
  contentType: FORM,
  sign: (body, _unix, url) => [["X-Twilio-Signature", twilioReference("auth-token-1", url, body)]],
  missing: { header: "X-Twilio-Signature", carried: false },
  resignable: true,
});

describeProvider("square", {
  spec: { provider: "square", secret: "sq-key" },
  wrongSpec: { provider: "square", secret: "sq-key2" },
  body: '{"merchant_id":"M1","type":"payment.created"}',
  url: "https://abc123.tunnel.example/square",
  sign: (body, _unix, url) => [["x-square-hmacsha256-signature", nodeHmac("sha256", "sq-key", url + body, "base64")]],
  missing: { header: "x-square-hmacsha256-signature", carried: false },
  resignable: true,
});

describe("Twilio URL rules", () => {
  const spec = { provider: "twilio" as const, secret: "tok" };
  const form = "Digits=42&CallSid=CA9";
  const request = (url: string, signedUrl: string) =>
    signed(form, { "Content-Type": FORM, "X-Twilio-Signature": twilioReference("tok", signedUrl, form) }, url);

  it("tries the URL with and without the default port, both ways", async () => {
    const bare = "https://abc123.tunnel.example/hook";
    const ported = "https://abc123.tunnel.example:443/hook";
    expect(await verifyOne(spec, request(bare, ported), 0)).toMatchObject({ ok: true });
    expect(await verifyOne(spec, request(ported, bare), 0)).toMatchObject({ ok: true });
    expect(await verifyOne(spec, request("http://abc123.tunnel.example/hook", "http://abc123.tunnel.example:80/hook"), 0)).toMatchObject({
      ok: true,
    });
  });

  it("a local relay's explicit port is signed as is, and also tried without it", async () => {
    const local = "http://abc123.localhost:8787/hook";
    expect(await verifyOne(spec, request(local, local), 0)).toMatchObject({ ok: true });
    expect(await verifyOne(spec, request(local, "http://abc123.localhost/hook"), 0)).toMatchObject({ ok: true });
  });

  it("another host or path is a mismatch (the local URL after a Host rewrite would be one)", async () => {
    expect(await verifyOne(spec, request("http://127.0.0.1:3000/hook", "https://abc123.tunnel.example/hook"), 0)).toMatchObject({
      ok: false,
      reason: "signature mismatch",
    });
    expect(await verifyOne(spec, request("https://relay.example/t/abc123/hook", "https://abc123.tunnel.example/hook"), 0)).toMatchObject({
      ok: false,
    });
  });

  it("repeated field names are signed once per distinct value, values sorted (twilio-node)", async () => {
    const body = "To=1&Media=b&Media=a&Media=b";
    const url = "https://abc123.tunnel.example/m";
    const req = signed(
      body,
      { "Content-Type": FORM, "X-Twilio-Signature": nodeHmac("sha1", "tok", `${url}MediaaMediabTo1`, "base64") },
      url,
    );
    expect(await verifyOne(spec, req, 0)).toMatchObject({ ok: true });
  });

  it("a GET signs only the URL with its query", async () => {
    const url = "https://abc123.tunnel.example/status?CallSid=CA1&CallStatus=completed";
    const req = { ...signed("", { "X-Twilio-Signature": nodeHmac("sha1", "tok", url, "base64") }, url), method: "GET" };
    expect(await verifyOne(spec, req, 0)).toMatchObject({ ok: true });
  });

  it("a JSON body must match the signed bodySHA256 parameter", async () => {
    const req = vectorRequest("twilio-python-tests-json-body", { "Content-Type": "application/json" });
    const tampered = { ...req, body: new TextEncoder().encode('{"property": "value", "boolean": false}') };
    expect(await verifyOne(vectorSpec("twilio-python-tests-json-body"), tampered, 0)).toMatchObject({
      ok: false,
      reason: "body SHA-256 does not match the bodySHA256 URL parameter",
    });
  });

  it("re-signing uses the public URL and the form fields", async () => {
    const req = signed(form, { "Content-Type": FORM, "X-Twilio-Signature": "stale" }, TUNNEL_URL);
    expect(await resign(spec, req, T)).toEqual([
      ["Content-Type", FORM],
      ["X-Twilio-Signature", twilioReference("tok", TUNNEL_URL, form)],
    ]);
  });
});

describe("Square details", () => {
  it("the legacy x-square-signature (HMAC-SHA1 over URL + body) verifies", async () => {
    const url = "https://abc123.tunnel.example/square";
    const req = signed("{}", { "x-square-signature": nodeHmac("sha1", "k", `${url}{}`, "base64") }, url);
    expect(await verifyOne({ provider: "square", secret: "k" }, req, 0)).toMatchObject({ ok: true });
  });
});
