// HMAC over a timestamp and the body: Stripe, Calendly, Paddle, Slack, Zoom, Twitch, Standard Webhooks / Svix.

import { describe, expect, it } from "vitest";
import type { HeaderList } from "../../worker/protocol";
import { parseVerifySpec, resign } from "../../worker/webhooks/verify";
import { at, describeProvider, describeVectors, nodeHmac, signed, T, vectorRequest, vectorSpec, verifyOne } from "./webhooks-fixtures";
import { VECTORS } from "./webhooks-vectors";

const BODY = '{"id":"evt_1","object":"event","data":{"amount":4200,"note":"naïve ✓"}}';
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_KEY = Buffer.from(SW_SECRET.slice(6), "base64");

describe("vectors", () => {
  describeVectors([
    "stripe-sdk-generated",
    "slack-docs",
    "standard-webhooks-repo",
    "paddle-sdk-1",
    "paddle-sdk-2-multi-h1",
    "twitch-derived",
    "zoom-derived",
    "calendly-derived",
  ]);
});

describeProvider("stripe", {
  spec: { provider: "stripe", secret: "whsec_abc" },
  wrongSpec: { provider: "stripe", secret: "whsec_abd" },
  body: BODY,
  sign: (body, unix) => [["Stripe-Signature", `t=${unix},v1=${nodeHmac("sha256", "whsec_abc", `${unix}.${body}`, "hex")}`]],
  missing: { header: "Stripe-Signature", carried: false },
  tolerance: { seconds: 300, future: false },
  resignable: true,
});

describeProvider("calendly", {
  spec: { provider: "calendly", secret: "cal" },
  wrongSpec: { provider: "calendly", secret: "cal2" },
  body: BODY,
  sign: (body, unix) => [["Calendly-Webhook-Signature", `t=${unix},v1=${nodeHmac("sha256", "cal", `${unix}.${body}`, "hex")}`]],
  missing: { header: "Calendly-Webhook-Signature", carried: false },
  tolerance: { seconds: 180, future: false },
  resignable: true,
});

describeProvider("paddle", {
  spec: { provider: "paddle", secret: "pdl_ntfset_1" },
  wrongSpec: { provider: "paddle", secret: "pdl_ntfset_2" },
  body: BODY,
  sign: (body, unix) => [["Paddle-Signature", `ts=${unix};h1=${nodeHmac("sha256", "pdl_ntfset_1", `${unix}:${body}`, "hex")}`]],
  missing: { header: "Paddle-Signature", carried: false },
  tolerance: { seconds: 5, future: false },
  resignable: true,
});

const slackSign = (body: string, unix: number): HeaderList => [
  ["X-Slack-Request-Timestamp", String(unix)],
  ["X-Slack-Signature", `v0=${nodeHmac("sha256", "slk", `v0:${unix}:${body}`, "hex")}`],
];

describeProvider("slack", {
  spec: { provider: "slack", secret: "slk" },
  wrongSpec: { provider: "slack", secret: "slk2" },
  body: BODY,
  sign: slackSign,
  missing: { header: "X-Slack-Request-Timestamp", carried: true },
  tolerance: { seconds: 300, future: true },
  resignable: true,
});

describeProvider("zoom", {
  spec: { provider: "zoom", secret: "zm" },
  wrongSpec: { provider: "zoom", secret: "zm2" },
  body: BODY,
  sign: (body, unix) => [
    ["x-zm-request-timestamp", String(unix)],
    ["x-zm-signature", `v0=${nodeHmac("sha256", "zm", `v0:${unix}:${body}`, "hex")}`],
  ],
  missing: { header: "x-zm-signature", carried: true },
  resignable: true,
});

const twitchSign = (body: string, unix: number): HeaderList => {
  const ts = new Date(unix * 1000).toISOString();
  return [
    ["Twitch-Eventsub-Message-Id", "msg-1"],
    ["Twitch-Eventsub-Message-Timestamp", ts],
    ["Twitch-Eventsub-Message-Signature", `sha256=${nodeHmac("sha256", "twitch-secret-123", `msg-1${ts}${body}`, "hex")}`],
  ];
};

describeProvider("twitch", {
  spec: { provider: "twitch", secret: "twitch-secret-123" },
  wrongSpec: { provider: "twitch", secret: "twitch-secret-456" },
  body: BODY,
  sign: twitchSign,
  missing: { header: "Twitch-Eventsub-Message-Id", carried: true },
  tolerance: { seconds: 600, future: false },
  resignable: true,
});

const swSign =
  (brand: "webhook" | "svix") =>
  (body: string, unix: number): HeaderList => [
    [`${brand}-id`, "msg_1"],
    [`${brand}-timestamp`, String(unix)],
    [`${brand}-signature`, `v1,${nodeHmac("sha256", SW_KEY, `msg_1.${unix}.${body}`, "base64")}`],
  ];

describeProvider("standard-webhooks (webhook-* headers)", {
  spec: { provider: "standard-webhooks", secret: SW_SECRET },
  wrongSpec: { provider: "standard-webhooks", secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  body: BODY,
  sign: swSign("webhook"),
  missing: { header: "webhook-timestamp", carried: true },
  tolerance: { seconds: 300, future: true },
  resignable: true,
});

describeProvider("standard-webhooks (svix-* headers)", {
  spec: { provider: "standard-webhooks", secret: SW_SECRET },
  wrongSpec: { provider: "standard-webhooks", secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  body: BODY,
  sign: swSign("svix"),
  missing: { header: "svix-signature", carried: true },
  tolerance: { seconds: 300, future: true },
  resignable: true,
});

describe("provider details", () => {
  it("Stripe accepts any of several v1 signatures and ignores v0", async () => {
    const good = nodeHmac("sha256", "k", `${T}.${BODY}`, "hex");
    const req = signed(BODY, { "Stripe-Signature": `t=${T},v1=${"0".repeat(64)},v0=${good},v1=${good}` });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, req, at(T))).toMatchObject({ ok: true });
    const v0Only = signed(BODY, { "Stripe-Signature": `t=${T},v0=${good}` });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, v0Only, at(T))).toMatchObject({
      ok: false,
      reason: "no signature in header Stripe-Signature",
    });
  });

  it("Stripe without t= names it", async () => {
    const req = signed(BODY, { "Stripe-Signature": "v1=abcd" });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, req, at(T))).toMatchObject({
      reason: "no t= timestamp in header Stripe-Signature",
    });
  });

  it("a well-signed but malformed timestamp is named, not silently accepted", async () => {
    const req = signed(BODY, { "Stripe-Signature": `t=soon,v1=${nodeHmac("sha256", "k", `soon.${BODY}`, "hex")}` });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, req, at(T))).toMatchObject({
      ok: false,
      reason: 'timestamp "soon" in header Stripe-Signature is not a Unix time in seconds',
    });
  });

  it("Paddle's SDK window: valid at ts + 1 s, rejected at ts + 6 s", async () => {
    const spec = vectorSpec("paddle-sdk-1");
    const req = vectorRequest("paddle-sdk-1");
    const ts = VECTORS["paddle-sdk-1"].validAt;
    expect(await verifyOne(spec, req, at(ts + 1))).toMatchObject({ ok: true });
    expect(await verifyOne(spec, req, at(ts + 6))).toMatchObject({ ok: false, reason: "timestamp 6 s outside the 5 s tolerance" });
  });

  it("Paddle's SDK test: extra spaces in the body fail", async () => {
    const req = vectorRequest("paddle-sdk-1");
    const spaced = { ...req, body: new TextEncoder().encode('{ "data": [ "1", "2" ]}') };
    expect(await verifyOne(vectorSpec("paddle-sdk-1"), spaced, at(VECTORS["paddle-sdk-1"].validAt))).toMatchObject({ ok: false });
  });

  it("the Standard Webhooks vector verifies under svix-* names and in a multi-signature header", async () => {
    const v = VECTORS["standard-webhooks-repo"];
    const h = v.headers;
    const svix = signed(v.body, {
      "svix-id": h["webhook-id"],
      "svix-timestamp": h["webhook-timestamp"],
      "svix-signature": h["webhook-signature"],
    });
    const spec = vectorSpec("standard-webhooks-repo");
    expect(await verifyOne(spec, svix, at(v.validAt))).toMatchObject({ ok: true });
    const multi = signed(v.body, { ...h, "webhook-signature": `v1,Zm9v v1a,${"A".repeat(86)}== ${h["webhook-signature"]}` });
    expect(await verifyOne(spec, multi, at(v.validAt))).toMatchObject({ ok: true });
  });

  it("svix is an alias, and a secret without whsec_ is read as base64 like the reference libraries", async () => {
    const v = VECTORS["standard-webhooks-repo"];
    for (const secret of [`svix:${v.key}`, `standard-webhooks:${v.key.slice(6)}`]) {
      const spec = parseVerifySpec(secret);
      expect(spec.provider).toBe("standard-webhooks");
      expect(await verifyOne(spec, vectorRequest("standard-webhooks-repo"), at(v.validAt))).toMatchObject({ ok: true });
    }
  });

  it("Twitch timestamps are RFC 3339 with nanoseconds; anything else is named", async () => {
    const req = signed(BODY, twitchSign(BODY, T));
    const bad = { ...req, headers: req.headers.map(([k, v]): [string, string] => [k, k.endsWith("Timestamp") ? String(T) : v]) };
    const verdict = await verifyOne({ provider: "twitch", secret: "twitch-secret-123" }, bad, at(T));
    // The timestamp is signed, so changing it breaks the signature before the format is looked at.
    expect(verdict).toMatchObject({ ok: false, reason: "signature mismatch" });
    const ts = String(T);
    const resignedAsUnix = signed(BODY, {
      "Twitch-Eventsub-Message-Id": "m",
      "Twitch-Eventsub-Message-Timestamp": ts,
      "Twitch-Eventsub-Message-Signature": `sha256=${nodeHmac("sha256", "twitch-secret-123", `m${ts}${BODY}`, "hex")}`,
    });
    expect(await verifyOne({ provider: "twitch", secret: "twitch-secret-123" }, resignedAsUnix, at(T))).toMatchObject({
      reason: `timestamp "${ts}" in header Twitch-Eventsub-Message-Timestamp is not an RFC 3339 time`,
    });
  });

  it("Slack's docs vector is stale on the real clock", async () => {
    expect(await verifyOne(vectorSpec("slack-docs"), vectorRequest("slack-docs"), Date.now())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^timestamp \d+ s outside the 300 s tolerance$/),
    });
  });

  it("re-signing Standard Webhooks keeps the id and the brand, and writes one v1 signature", async () => {
    const req = signed(BODY, swSign("svix")(BODY, T));
    const headers = await resign({ provider: "standard-webhooks", secret: SW_SECRET }, req, at(T + 900));
    expect(headers).toEqual([
      ["svix-id", "msg_1"],
      ["svix-timestamp", String(T + 900)],
      ["svix-signature", `v1,${nodeHmac("sha256", SW_KEY, `msg_1.${T + 900}.${BODY}`, "base64")}`],
    ]);
  });

  it("re-signing Stripe writes t= and one v1= computed like Stripe", async () => {
    const req = signed(BODY, { "Stripe-Signature": "t=1,v1=00,v0=00" });
    expect(await resign({ provider: "stripe", secret: "k" }, req, at(T) + 999)).toEqual([
      ["Stripe-Signature", `t=${T},v1=${nodeHmac("sha256", "k", `${T}.${BODY}`, "hex")}`],
    ]);
  });
});
