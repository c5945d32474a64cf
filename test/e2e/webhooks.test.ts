// Webhook signatures checked at the edge, end to end: the real relay in workerd, the agent CLI as a
// child process and a local server that records every byte it gets. Requests are signed with
// node:crypto from the providers' documented schemes (signers.ts), never with the product's code.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostUrl } from "./harness";
import { call, type PolicyTunnels, startPolicyTunnels } from "./policy-tunnels";
import { githubSignature, slackHeaders, standardWebhooksHeaders, stripeSignature, twilioSignature, unixNow } from "./signers";
import { captureOf, tunnelCall } from "./tunnel-api";

const STRIPE = "whsec_e2eStripeEndpointSecret0123456789";
const STANDARD = `whsec_${Buffer.from("an e2e Standard Webhooks key!!!!").toString("base64")}`;
const GITHUB = "It's a Secret to Everybody";
const SLACK = "8f742231b10e8888abcd99yyyzzz85a5";
const TWILIO = "12345678901234567890123456789012";
const TEN_MINUTES_AGO = () => unixNow() - 600;

let t: PolicyTunnels;

beforeAll(async () => {
  t = await startPolicyTunnels({
    "wh-stripe": ["--verify", `stripe:${STRIPE}`],
    "wh-std": ["--verify", `standard-webhooks:${STANDARD}`],
    "wh-multi": ["--verify", `github:${GITHUB}`, "--verify", `slack:${SLACK}`],
    "wh-log": ["--verify", `stripe:${STRIPE}`, "--verify-mode", "log"],
    "wh-twilio": ["--verify", `twilio:${TWILIO}`],
  });
});

afterAll(() => t?.stop());

/** POSTs `body` with `headers` to a path of a tunnel's host URL (or to a full URL). */
function post(name: string, pathOrUrl: string, body: string | Buffer, headers: Record<string, string>) {
  const url = pathOrUrl.startsWith("/") ? hostUrl(t.relay, name, pathOrUrl) : pathOrUrl;
  return call(url, { method: "POST", body, headers });
}

describe("stripe", () => {
  const name = "wh-stripe";

  it("forwards a correctly signed POST with its exact bytes and headers, and reports the verdict", async () => {
    expect(t.policy(name)).toBe("verify stripe (enforce)");
    // Spacing and UTF-8 that any re-serialisation would change, and a signature over exactly these bytes.
    const body = Buffer.from('{"id":"evt_1",  "amount": 42,\n "note":"héllo ✓"}\n');
    const signature = stripeSignature(STRIPE, body);
    const res = await post(name, "/stripe/ok?src=e2e", body, {
      "Content-Type": "application/json; charset=utf-8",
      "Stripe-Signature": signature,
      "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      "X-Delivery": "d-1",
    });
    expect(res).toMatchObject({ status: 200, text: "ok" });
    const [seen] = t.origin.at("/stripe/ok");
    expect(seen!.body.equals(body)).toBe(true);
    expect(seen!.headers).toMatchObject({
      "stripe-signature": signature,
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      "x-delivery": "d-1",
    });
    expect(await t.event(name, "exchange", "/stripe/ok?src=e2e")).toMatchObject({ status: 200, note: "stripe signature valid" });
    const capture = await captureOf(t.relay, name, "/stripe/ok?src=e2e");
    expect(capture).toMatchObject({ outcome: "ok", status: 200 });
    expect(capture.verification).toEqual({ provider: "stripe", ok: true, reason: "valid stripe signature", mode: "enforce" });
  });

  it("refuses a tampered body with 401 before the local server sees it, and captures body and reason", async () => {
    const tampered = '{"amount":100000}';
    const res = await post(name, "/stripe/tampered", tampered, {
      "Stripe-Signature": stripeSignature(STRIPE, '{"amount":1}'),
    });
    expect(res.status).toBe(401);
    expect(res.error).toBe("signature-invalid");
    expect(res.text).toContain("stripe signature check failed: signature mismatch");
    expect(await t.event(name, "refused", "/stripe/tampered")).toMatchObject({ status: 401, reason: "signature mismatch" });
    expect(t.origin.at("/stripe/tampered")).toHaveLength(0);
    const capture = await captureOf(t.relay, name, "/stripe/tampered");
    expect(capture).toMatchObject({ outcome: "denied", status: 401, error: "signature mismatch", requestSize: tampered.length });
    expect(capture.verification).toMatchObject({ provider: "stripe", ok: false, reason: "signature mismatch", mode: "enforce" });
    expect(Buffer.from(capture.request.body.base64, "base64").toString()).toBe(tampered);
  });

  it("refuses a signature ten minutes old as outside the 300 s tolerance", async () => {
    const body = '{"id":"evt_stale"}';
    const res = await post(name, "/stripe/stale", body, {
      "Stripe-Signature": stripeSignature(STRIPE, body, TEN_MINUTES_AGO()),
    });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/timestamp 60\d s outside the 300 s tolerance/);
    expect(t.origin.at("/stripe/stale")).toHaveLength(0);
    const capture = await captureOf(t.relay, name, "/stripe/stale");
    expect(capture.error).toMatch(/^timestamp 60\d s outside the 300 s tolerance$/);
    expect(capture.verification).toMatchObject({ ok: false, reason: capture.error });
  });
});

describe("standard webhooks", () => {
  const name = "wh-std";

  it("forwards a valid signature and refuses a stale one", async () => {
    const body = '{"type":"user.created"}';
    const fresh = await post(name, "/std/ok", body, standardWebhooksHeaders(STANDARD, "msg_fresh", body));
    expect(fresh).toMatchObject({ status: 200, text: "ok" });
    expect(await t.event(name, "exchange", "/std/ok")).toMatchObject({ note: "standard-webhooks signature valid" });
    const stale = await post(name, "/std/stale", body, standardWebhooksHeaders(STANDARD, "msg_stale", body, TEN_MINUTES_AGO()));
    expect(stale.status).toBe(401);
    expect(stale.text).toMatch(/standard-webhooks signature check failed: timestamp 60\d s outside the 300 s tolerance/);
    expect(t.origin.at("/std/stale")).toHaveLength(0);
  });
});

describe("several providers on one tunnel", () => {
  const name = "wh-multi";

  it("checks each request with its own provider", async () => {
    expect(t.policy(name)).toBe("verify github, slack (enforce)");
    const push = '{"ref":"refs/heads/main"}';
    const gh = await post(name, "/multi/github", push, {
      "X-Hub-Signature-256": githubSignature(GITHUB, push),
      "X-GitHub-Event": "push",
    });
    expect(gh.status).toBe(200);
    expect(await t.event(name, "exchange", "/multi/github")).toMatchObject({ note: "github signature valid" });
    expect((await captureOf(t.relay, name, "/multi/github")).verification).toMatchObject({ provider: "github", ok: true });

    // Slack's slash commands are form-encoded; the signature covers the raw form bytes.
    const form = "token=x&team_id=T1&command=%2Fdeploy&text=hello+world%21";
    const sl = await post(name, "/multi/slack", form, {
      "Content-Type": "application/x-www-form-urlencoded",
      ...slackHeaders(SLACK, form),
    });
    expect(sl.status).toBe(200);
    expect(await t.event(name, "exchange", "/multi/slack")).toMatchObject({ note: "slack signature valid" });
    expect(t.origin.at("/multi/slack")[0]!.body.toString()).toBe(form);
  });

  it("does not let one provider's secret pass another provider's header", async () => {
    const body = '{"ref":"x"}';
    const res = await post(name, "/multi/crossed", body, { "X-Hub-Signature-256": githubSignature(SLACK, body) });
    expect(res.status).toBe(401);
    expect(res.text).toContain("github signature check failed: signature mismatch");
    expect(t.origin.at("/multi/crossed")).toHaveLength(0);
  });

  it("rejects a request with neither signature in enforce mode, naming both headers", async () => {
    const res = await post(name, "/multi/unsigned", "{}", { "Content-Type": "application/json" });
    expect(res.status).toBe(401);
    expect(res.error).toBe("signature-invalid");
    expect(res.text).toContain("missing header X-Hub-Signature-256 or header X-Slack-Signature");
    expect(t.origin.at("/multi/unsigned")).toHaveLength(0);
    expect(await t.event(name, "refused", "/multi/unsigned")).toMatchObject({ status: 401 });
  });
});

describe("--verify-mode log", () => {
  const name = "wh-log";

  it("forwards bad and missing signatures, and records the failed verdicts", async () => {
    expect(t.policy(name)).toBe("verify stripe (log)");
    const bad = `t=${unixNow()},v1=${"0".repeat(64)}`;
    expect(await post(name, "/log/bad", "{}", { "Stripe-Signature": bad })).toMatchObject({ status: 200, text: "ok" });
    expect(t.origin.at("/log/bad")[0]!.headers["stripe-signature"]).toBe(bad);
    expect(await t.event(name, "exchange", "/log/bad")).toMatchObject({
      note: "stripe signature failed: signature mismatch (log mode)",
    });
    const capture = await captureOf(t.relay, name, "/log/bad");
    expect(capture).toMatchObject({ outcome: "ok", status: 200 });
    expect(capture.verification).toEqual({ provider: "stripe", ok: false, reason: "signature mismatch", mode: "log" });

    expect((await post(name, "/log/unsigned", "{}", {})).status).toBe(200);
    expect((await captureOf(t.relay, name, "/log/unsigned")).verification).toMatchObject({
      ok: false,
      reason: "missing header Stripe-Signature",
    });
  });
});

describe("a URL-bound provider (Twilio)", () => {
  const name = "wh-twilio";
  const params: [string, string][] = [
    ["To", "+15558675310"],
    ["From", "+15551234567"],
    ["Body", "Hello, tunnel & co: ünïcode"],
    ["MessageSid", "SM0123456789abcdef"],
    ["AccountSid", "AC0123456789abcdef"],
  ];
  const form = new URLSearchParams(params).toString();
  const send = (url: string, signedFor: string) =>
    post(name, url, form, {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": twilioSignature(TWILIO, signedFor, params),
    });

  it("accepts a signature over the path-mode URL, prefix included, and one over the host URL", async () => {
    const pathUrl = `${t.pathUrl(name)}/twilio/sms?via=path`;
    expect(pathUrl).toContain(`/t/${name}/twilio/sms`);
    const viaPath = await send(pathUrl, pathUrl);
    expect(viaPath.status, viaPath.text).toBe(200);
    const hostModeUrl = hostUrl(t.relay, name, "/twilio/sms?via=host");
    const viaHost = await send(hostModeUrl, hostModeUrl);
    expect(viaHost.status, viaHost.text).toBe(200);
    // The local server sees the same path either way; the relay checked each against the URL Twilio called.
    expect(t.origin.at("/twilio/sms").map((s) => s.url)).toEqual(["/twilio/sms?via=path", "/twilio/sms?via=host"]);
    expect(await t.event(name, "exchange", "/twilio/sms?via=path")).toMatchObject({ note: "twilio signature valid" });
  });

  it("refuses a signature over the local server's URL instead of the public one", async () => {
    const local = `http://127.0.0.1:${t.origin.port}/twilio/other`;
    const res = await send(hostUrl(t.relay, name, "/twilio/other"), local);
    expect(res.status).toBe(401);
    expect(res.text).toContain("twilio signature check failed: signature mismatch");
    expect(t.origin.at("/twilio/other")).toHaveLength(0);
  });
});

it("exits 2 with a clear message for an unknown --verify provider, without quoting the secret or connecting", async () => {
  const { code, output } = await t.refusedStart("wh-bad", ["--verify", "nosuch:sekrit-value"]);
  expect(code).toBe(2);
  expect(output).toMatch(/^porthole: Invalid --verify "nosuch": unknown provider \(known: github, stripe, /m);
  expect(output).not.toContain("sekrit-value");
  expect((await tunnelCall(t.relay, "wh-bad", "/summary")).status).toBe(404);
});
