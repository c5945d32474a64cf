// HMAC over the raw body: GitHub, Shopify, Intercom, Typeform, Vercel, PagerDuty, Linear.

import { describe, expect, it } from "vitest";
import { resign } from "../../worker/webhooks/verify";
import { at, describeProvider, describeVectors, nodeHmac, signed, T, vectorRequest, vectorSpec, verifyOne } from "./webhooks-fixtures";
import { VECTORS } from "./webhooks-vectors";

const BODY = '{"action":"opened","number":1,"note":"ünïcode ✓"}';

describe("vectors", () => {
  describeVectors([
    "github-docs-sha256",
    "github-legacy-sha1-derived",
    "shopify-derived",
    "intercom-derived",
    "typeform-derived",
    "vercel-derived",
    "pagerduty-go-sdk",
    "pagerduty-go-sdk-negative",
    "linear-derived",
  ]);
});

describeProvider("github", {
  spec: { provider: "github", secret: "gh-secret" },
  wrongSpec: { provider: "github", secret: "gh-secret2" },
  body: BODY,
  sign: (body) => [["X-Hub-Signature-256", `sha256=${nodeHmac("sha256", "gh-secret", body, "hex")}`]],
  missing: { header: "X-Hub-Signature-256", carried: false },
  resignable: true,
});

describeProvider("github legacy SHA-1", {
  spec: { provider: "github", secret: "gh-secret" },
  wrongSpec: { provider: "github", secret: "other" },
  body: BODY,
  sign: (body) => [["X-Hub-Signature", `sha1=${nodeHmac("sha1", "gh-secret", body, "hex")}`]],
  missing: { header: "X-Hub-Signature", carried: false, named: "X-Hub-Signature-256" },
  resignable: true,
});

describeProvider("shopify", {
  spec: { provider: "shopify", secret: "shpss_1" },
  wrongSpec: { provider: "shopify", secret: "shpss_2" },
  body: BODY,
  sign: (body) => [["X-Shopify-Hmac-Sha256", nodeHmac("sha256", "shpss_1", body, "base64")]],
  missing: { header: "X-Shopify-Hmac-Sha256", carried: false },
  resignable: true,
});

describeProvider("intercom", {
  spec: { provider: "intercom", secret: "ic-secret" },
  wrongSpec: { provider: "intercom", secret: "ic-other" },
  body: BODY,
  sign: (body) => [["X-Hub-Signature", `sha1=${nodeHmac("sha1", "ic-secret", body, "hex")}`]],
  missing: { header: "X-Hub-Signature", carried: false },
  resignable: true,
});

describeProvider("typeform", {
  spec: { provider: "typeform", secret: "tf" },
  wrongSpec: { provider: "typeform", secret: "tf2" },
  body: BODY,
  sign: (body) => [["Typeform-Signature", `sha256=${nodeHmac("sha256", "tf", body, "base64")}`]],
  missing: { header: "Typeform-Signature", carried: false },
  resignable: true,
});

describeProvider("vercel", {
  spec: { provider: "vercel", secret: "vc" },
  wrongSpec: { provider: "vercel", secret: "vc2" },
  body: BODY,
  sign: (body) => [["x-vercel-signature", nodeHmac("sha1", "vc", body, "hex")]],
  missing: { header: "x-vercel-signature", carried: false },
  resignable: true,
});

describeProvider("pagerduty", {
  spec: { provider: "pagerduty", secret: "pd" },
  wrongSpec: { provider: "pagerduty", secret: "pd2" },
  body: BODY,
  sign: (body) => [["X-PagerDuty-Signature", `v1=${nodeHmac("sha256", "pd", body, "hex")}`]],
  missing: { header: "X-PagerDuty-Signature", carried: false },
  resignable: true,
});

describeProvider("linear (Linear-Timestamp header)", {
  spec: { provider: "linear", secret: "lin" },
  wrongSpec: { provider: "linear", secret: "lin2" },
  body: BODY,
  sign: (body, unix) => [
    ["Linear-Signature", nodeHmac("sha256", "lin", body, "hex")],
    ["Linear-Timestamp", String(unix * 1000)],
  ],
  missing: { header: "Linear-Signature", carried: false },
  tolerance: { seconds: 60, future: true },
  resignable: true,
});

describe("provider details", () => {
  it("GitHub prefers the SHA-256 header when both are sent", async () => {
    const good256 = `sha256=${nodeHmac("sha256", "s", BODY, "hex")}`;
    const both = signed(BODY, { "X-Hub-Signature": "sha1=0000", "X-Hub-Signature-256": good256 });
    expect(await verifyOne({ provider: "github", secret: "s" }, both, 0)).toMatchObject({ ok: true });
    const bad256 = signed(BODY, { "X-Hub-Signature": `sha1=${nodeHmac("sha1", "s", BODY, "hex")}`, "X-Hub-Signature-256": "sha256=00" });
    expect(await verifyOne({ provider: "github", secret: "s" }, bad256, 0)).toMatchObject({ ok: false, reason: "signature mismatch" });
  });

  it("GitHub re-signs both headers when both are present", async () => {
    const req = signed("old", { "X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": "sha1=00" });
    expect(await resign({ provider: "github", secret: "s" }, req, 0)).toEqual([
      ["X-Hub-Signature-256", `sha256=${nodeHmac("sha256", "s", "old", "hex")}`],
      ["X-Hub-Signature", `sha1=${nodeHmac("sha1", "s", "old", "hex")}`],
    ]);
  });

  it("a header without the expected prefix holds no signature", async () => {
    const req = signed(BODY, { "X-Hub-Signature-256": nodeHmac("sha256", "s", BODY, "hex") });
    expect(await verifyOne({ provider: "github", secret: "s" }, req, 0)).toMatchObject({
      ok: false,
      reason: "no signature in header X-Hub-Signature-256",
    });
  });

  it("the body is checked byte for byte: non-UTF-8 bytes verify as sent", async () => {
    const body = Uint8Array.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const req = signed(body, { "X-Shopify-Hmac-Sha256": nodeHmac("sha256", "k", Buffer.from(body), "base64") });
    expect(await verifyOne({ provider: "shopify", secret: "k" }, req, 0)).toMatchObject({ ok: true });
  });

  it("PagerDuty accepts any of several v1 signatures (rotation)", async () => {
    const v = VECTORS["pagerduty-go-sdk"];
    const req = vectorRequest("pagerduty-go-sdk");
    const rotated = {
      ...req,
      headers: [["X-PagerDuty-Signature", `v1=${"ab".repeat(32)}, ${v.headers["X-PagerDuty-Signature"]}`]] as [string, string][],
    };
    expect(await verifyOne(vectorSpec("pagerduty-go-sdk"), rotated, 0)).toMatchObject({ ok: true });
  });

  it("Linear reads webhookTimestamp from the body when there is no Linear-Timestamp header", async () => {
    const req = vectorRequest("linear-derived");
    const spec = vectorSpec("linear-derived");
    expect(await verifyOne(spec, req, at(T + 60))).toMatchObject({ ok: true });
    expect(await verifyOne(spec, req, at(T + 61))).toMatchObject({ ok: false, reason: "timestamp 61 s outside the 60 s tolerance" });
    expect(await verifyOne(spec, req, at(T) - 61_500)).toMatchObject({
      reason: "timestamp 62 s in the future, outside the 60 s tolerance",
    });
  });

  it("Linear checks the signed body's webhookTimestamp: an old body replayed with a fresh header fails", async () => {
    const req = vectorRequest("linear-derived");
    const later = at(T + 3600);
    const replayed = { ...req, headers: [...req.headers, ["Linear-Timestamp", String(later)]] as [string, string][] };
    expect(await verifyOne(vectorSpec("linear-derived"), replayed, later)).toMatchObject({
      ok: false,
      reason: "timestamp 3600 s outside the 60 s tolerance",
    });
    // A stale header beside a fresh body time does not fail it either: only the signed field counts.
    const staleHeader = { ...req, headers: [...req.headers, ["Linear-Timestamp", "1"]] as [string, string][] };
    expect(await verifyOne(vectorSpec("linear-derived"), staleHeader, at(T))).toMatchObject({ ok: true });
  });

  it("Linear names a webhookTimestamp that is not a time, whatever the header says", async () => {
    const body = '{"webhookTimestamp":null}';
    const req = signed(body, { "Linear-Signature": nodeHmac("sha256", "k", body, "hex"), "Linear-Timestamp": String(at(T)) });
    expect(await verifyOne({ provider: "linear", secret: "k" }, req, at(T))).toMatchObject({
      ok: false,
      reason: 'timestamp "null" in body field webhookTimestamp is not a Unix time in milliseconds',
    });
  });

  it("Linear cannot be re-signed when the body carries webhookTimestamp (a fresh time would edit the body)", async () => {
    expect(await resign(vectorSpec("linear-derived"), vectorRequest("linear-derived"), at(T + 3600))).toBeNull();
  });

  it("Linear without webhookTimestamp is re-signed with a fresh Linear-Timestamp header", async () => {
    const req = signed(BODY, { "Linear-Signature": "00", "Linear-Timestamp": String(at(T)) });
    const headers = await resign({ provider: "linear", secret: "k" }, req, at(T + 3600));
    expect(headers).toEqual([
      ["Linear-Signature", nodeHmac("sha256", "k", BODY, "hex")],
      ["Linear-Timestamp", String(at(T + 3600))],
    ]);
  });

  it("Linear without any timestamp has no window", async () => {
    const req = signed("{}", { "Linear-Signature": nodeHmac("sha256", "k", "{}", "hex") });
    expect(await verifyOne({ provider: "linear", secret: "k" }, req, at(T))).toMatchObject({ ok: true });
  });

  it("a malformed Linear-Timestamp is named", async () => {
    const req = signed("{}", { "Linear-Signature": nodeHmac("sha256", "k", "{}", "hex"), "Linear-Timestamp": "soon" });
    expect(await verifyOne({ provider: "linear", secret: "k" }, req, at(T))).toMatchObject({
      ok: false,
      reason: 'timestamp "soon" in header Linear-Timestamp is not a Unix time in milliseconds',
    });
  });
});
