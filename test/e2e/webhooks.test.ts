// Webhook signatures checked at the edge, end to end: the real relay in workerd, the agent CLI as a
// child process and a local server that records every byte it gets. Requests are signed with
// node:crypto from the providers' documented schemes (signers.ts), never with the product's code.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, fetchUrl, hostUrl, once, type RelayProcess, spawnCli, startAgent, startRelay, TOKEN } from "./harness";
import { type RecordingOrigin, type Seen, startRecordingOrigin } from "./recording-origin";
import {
  checkStandardWebhooks,
  checkStripe,
  githubSignature,
  slackHeaders,
  standardWebhooksHeaders,
  stripeSignature,
  twilioSignature,
  unixNow,
} from "./signers";
import { captureOf, captureWhere, headerOf, replay } from "./tunnel-captures";

const STRIPE = "whsec_e2eStripeEndpointSecret0123456789";
const STANDARD = `whsec_${Buffer.from("an e2e Standard Webhooks key!!!!").toString("base64")}`;
const GITHUB = "It's a Secret to Everybody";
const SLACK = "8f742231b10e8888abcd99yyyzzz85a5";
const TWILIO = "12345678901234567890123456789012";
const TEN_MINUTES_AGO = () => unixNow() - 600;

/** The local application checks signatures itself under /local-check/, as a careful webhook handler does. */
function localCheck(seen: Seen) {
  if (!seen.url.startsWith("/local-check/")) return undefined;
  const reason = seen.headers["stripe-signature"]
    ? checkStripe(STRIPE, String(seen.headers["stripe-signature"]), seen.body)
    : checkStandardWebhooks(STANDARD, seen.headers, seen.body);
  return reason === null ? { status: 200, body: "verified locally" } : { status: 400, body: `local check failed: ${reason}` };
}

let relay: RelayProcess;
let origin: RecordingOrigin;
const agents: Record<string, { agent: AgentProcess; policy: string; pathUrl: string }> = {};

const TUNNELS: Record<string, string[]> = {
  "wh-stripe": ["--verify", `stripe:${STRIPE}`],
  "wh-std": ["--verify", `standard-webhooks:${STANDARD}`],
  "wh-multi": ["--verify", `github:${GITHUB}`, "--verify", `slack:${SLACK}`],
  "wh-log": ["--verify", `stripe:${STRIPE}`, "--verify-mode", "log"],
  "wh-twilio": ["--verify", `twilio:${TWILIO}`],
};

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay(), startRecordingOrigin(localCheck)]);
  await Promise.all(
    Object.entries(TUNNELS).map(async ([name, flags]) => {
      const { agent, ready } = await startAgent(relay, origin.port, name, flags);
      agents[name] = { agent, policy: String((ready as { policy?: unknown }).policy), pathUrl: ready.pathUrl };
    }),
  );
});

afterAll(async () => {
  await Promise.all(Object.values(agents).map(({ agent }) => agent.kill()));
  await relay?.stop();
  await origin?.close();
});

/** POSTs through a tunnel URL and reads the answer. */
async function post(url: string, body: string | Buffer, headers: Record<string, string>) {
  const res = await fetchUrl(url, { method: "POST", body, headers });
  return { status: res.status, error: res.headers.get("X-Porthole-Error"), text: await res.text() };
}

/** The agent's JSON event for a forwarded (`exchange`) or refused request to `path`. */
function agentEvent(name: string, event: "exchange" | "refused", path: string) {
  return agents[name]!.agent.waitFor((e) => e.event === event && e.path === path, 5000);
}

/** Runs `porthole replay` against the test relay; resolves with its exit code and JSON lines. */
async function cliReplay(id: string, name: string, extra: string[] = []) {
  const cli = spawnCli(["replay", id, name, "--relay", relay.url, "--token", TOKEN, "--json", ...extra]);
  const [code] = (await once(cli.child, "close")) as [number | null];
  return { code, events: cli.events, output: cli.output.join("\n") };
}

describe("stripe", () => {
  const name = "wh-stripe";

  it("forwards a correctly signed POST with its exact bytes and headers, and reports the verdict", async () => {
    expect(agents[name]!.policy).toBe("verify stripe (enforce)");
    // Spacing and UTF-8 that any re-serialisation would change, and a signature over exactly these bytes.
    const body = Buffer.from('{"id":"evt_1",  "amount": 42,\n "note":"héllo ✓"}\n');
    const signature = stripeSignature(STRIPE, body);
    const res = await post(hostUrl(relay, name, "/stripe/ok?src=e2e"), body, {
      "Content-Type": "application/json; charset=utf-8",
      "Stripe-Signature": signature,
      "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      "X-Delivery": "d-1",
    });
    expect(res).toMatchObject({ status: 200, text: "ok" });
    const [seen] = origin.at("/stripe/ok");
    expect(seen!.body.equals(body)).toBe(true);
    expect(seen!.headers).toMatchObject({
      "stripe-signature": signature,
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      "x-delivery": "d-1",
    });
    expect(await agentEvent(name, "exchange", "/stripe/ok?src=e2e")).toMatchObject({ status: 200, note: "stripe signature valid" });
    const capture = await captureOf(relay, name, "/stripe/ok?src=e2e");
    expect(capture).toMatchObject({ outcome: "ok", status: 200 });
    expect(capture.verification).toEqual({ provider: "stripe", ok: true, reason: "valid stripe signature", mode: "enforce" });
  });

  it("refuses a tampered body with 401 before the local server sees it, and captures body and reason", async () => {
    const tampered = '{"amount":100000}';
    const res = await post(hostUrl(relay, name, "/stripe/tampered"), tampered, {
      "Stripe-Signature": stripeSignature(STRIPE, '{"amount":1}'),
    });
    expect(res.status).toBe(401);
    expect(res.error).toBe("signature-invalid");
    expect(res.text).toContain("stripe signature check failed: signature mismatch");
    expect(await agentEvent(name, "refused", "/stripe/tampered")).toMatchObject({ status: 401, reason: "signature mismatch" });
    expect(origin.at("/stripe/tampered")).toHaveLength(0);
    const capture = await captureOf(relay, name, "/stripe/tampered");
    expect(capture).toMatchObject({ outcome: "denied", status: 401, error: "signature mismatch", requestSize: tampered.length });
    expect(capture.verification).toMatchObject({ provider: "stripe", ok: false, reason: "signature mismatch", mode: "enforce" });
    expect(Buffer.from(capture.request.body.base64, "base64").toString()).toBe(tampered);
  });

  it("refuses a signature ten minutes old as outside the 300 s tolerance", async () => {
    const body = '{"id":"evt_stale"}';
    const res = await post(hostUrl(relay, name, "/stripe/stale"), body, {
      "Stripe-Signature": stripeSignature(STRIPE, body, TEN_MINUTES_AGO()),
    });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/timestamp 60\d s outside the 300 s tolerance/);
    expect(origin.at("/stripe/stale")).toHaveLength(0);
    const capture = await captureOf(relay, name, "/stripe/stale");
    expect(capture.error).toMatch(/^timestamp 60\d s outside the 300 s tolerance$/);
    expect(capture.verification).toMatchObject({ ok: false, reason: capture.error });
  });

  it("replays a stale capture verbatim to the local server, which rejects it, and re-signed, which both sides accept", async () => {
    const body = Buffer.from('{"id":"evt_once_valid","type":"invoice.paid"}');
    const old = stripeSignature(STRIPE, body, TEN_MINUTES_AGO());
    expect((await post(hostUrl(relay, name, "/local-check/stripe"), body, { "Stripe-Signature": old })).status).toBe(401);
    const original = await captureOf(relay, name, "/local-check/stripe");

    // Verbatim: replays come from the token holder, so the relay logs the stale verdict and forwards.
    const verbatim = await replay(relay, name, original.id);
    expect(verbatim.status).toBe(400);
    expect(origin.at("/local-check/stripe")[0]!.headers["stripe-signature"]).toBe(old);
    const verbatimCapture = await captureWhere(relay, name, (c) => c.id === verbatim.id);
    expect(verbatimCapture).toMatchObject({ replayOf: original.id, outcome: "ok", status: 400 });
    expect(verbatimCapture.verification).toMatchObject({ provider: "stripe", ok: false, mode: "log" });
    expect(verbatimCapture.verification?.reason).toMatch(/outside the 300 s tolerance/);

    const resigned = await replay(relay, name, original.id, { resign: true });
    expect(resigned.status, "the local server's own Stripe check must accept the re-signed replay").toBe(200);
    const seen = origin.at("/local-check/stripe")[1]!;
    expect(seen.body.equals(body)).toBe(true);
    const t = Number(/(?:^|,)t=(\d+)/.exec(String(seen.headers["stripe-signature"]))?.[1]);
    expect(Math.abs(unixNow() - t)).toBeLessThan(60);
    expect(checkStripe(STRIPE, String(seen.headers["stripe-signature"]), seen.body)).toBeNull();
    const resignedCapture = await captureWhere(relay, name, (c) => c.id === resigned.id);
    expect(resignedCapture).toMatchObject({ replayOf: original.id, status: 200 });
    expect(resignedCapture.verification).toMatchObject({ provider: "stripe", ok: true });
    // The capture keeps the request as it was sent, new signature included.
    expect(headerOf(resignedCapture.request.headers, "stripe-signature")).toBe(seen.headers["stripe-signature"]);
  });
});

describe("standard webhooks", () => {
  const name = "wh-std";

  it("forwards a valid signature and refuses a stale one", async () => {
    const body = '{"type":"user.created"}';
    const fresh = await post(hostUrl(relay, name, "/std/ok"), body, standardWebhooksHeaders(STANDARD, "msg_fresh", body));
    expect(fresh).toMatchObject({ status: 200, text: "ok" });
    expect(await agentEvent(name, "exchange", "/std/ok")).toMatchObject({ note: "standard-webhooks signature valid" });
    const stale = await post(
      hostUrl(relay, name, "/std/stale"),
      body,
      standardWebhooksHeaders(STANDARD, "msg_stale", body, TEN_MINUTES_AGO()),
    );
    expect(stale.status).toBe(401);
    expect(stale.text).toMatch(/standard-webhooks signature check failed: timestamp 60\d s outside the 300 s tolerance/);
    expect(origin.at("/std/stale")).toHaveLength(0);
  });

  it("porthole replay --resign mints a fresh timestamp and signature the local server accepts; verbatim it fails there", async () => {
    const body = Buffer.from(`{"type":"invoice.paid","n":"${randomUUID()}"}`);
    const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
    expect(
      (await post(hostUrl(relay, name, "/local-check/std"), body, standardWebhooksHeaders(STANDARD, id, body, TEN_MINUTES_AGO()))).status,
    ).toBe(401);
    const original = await captureOf(relay, name, "/local-check/std");

    const verbatim = await cliReplay(original.id, name);
    expect(verbatim.code, verbatim.output).toBe(0);
    expect(verbatim.events[0]).toMatchObject({ replayOf: original.id, status: 400 });

    const resigned = await cliReplay(original.id, name, ["--resign"]);
    expect(resigned.code, resigned.output).toBe(0);
    expect(resigned.events[0]).toMatchObject({ replayOf: original.id, status: 200 });
    const seen = origin.at("/local-check/std")[1]!;
    expect(seen.headers["webhook-id"]).toBe(id);
    expect(Math.abs(unixNow() - Number(seen.headers["webhook-timestamp"]))).toBeLessThan(60);
    expect(checkStandardWebhooks(STANDARD, seen.headers, seen.body)).toBeNull();
  });
});

describe("several providers on one tunnel", () => {
  const name = "wh-multi";

  it("checks each request with its own provider", async () => {
    expect(agents[name]!.policy).toBe("verify github, slack (enforce)");
    const push = '{"ref":"refs/heads/main"}';
    const gh = await post(hostUrl(relay, name, "/multi/github"), push, {
      "X-Hub-Signature-256": githubSignature(GITHUB, push),
      "X-GitHub-Event": "push",
    });
    expect(gh.status).toBe(200);
    expect(await agentEvent(name, "exchange", "/multi/github")).toMatchObject({ note: "github signature valid" });
    expect((await captureOf(relay, name, "/multi/github")).verification).toMatchObject({ provider: "github", ok: true });

    // Slack's slash commands are form-encoded; the signature covers the raw form bytes.
    const form = "token=x&team_id=T1&command=%2Fdeploy&text=hello+world%21";
    const sl = await post(hostUrl(relay, name, "/multi/slack"), form, {
      "Content-Type": "application/x-www-form-urlencoded",
      ...slackHeaders(SLACK, form),
    });
    expect(sl.status).toBe(200);
    expect(await agentEvent(name, "exchange", "/multi/slack")).toMatchObject({ note: "slack signature valid" });
    expect(origin.at("/multi/slack")[0]!.body.toString()).toBe(form);
  });

  it("does not let one provider's secret pass another provider's header", async () => {
    const body = '{"ref":"x"}';
    const res = await post(hostUrl(relay, name, "/multi/crossed"), body, { "X-Hub-Signature-256": githubSignature(SLACK, body) });
    expect(res.status).toBe(401);
    expect(res.text).toContain("github signature check failed: signature mismatch");
    expect(origin.at("/multi/crossed")).toHaveLength(0);
  });

  it("rejects a request with neither signature in enforce mode, naming both headers", async () => {
    const res = await post(hostUrl(relay, name, "/multi/unsigned"), "{}", { "Content-Type": "application/json" });
    expect(res.status).toBe(401);
    expect(res.error).toBe("signature-invalid");
    expect(res.text).toContain("missing header X-Hub-Signature-256 or header X-Slack-Signature");
    expect(origin.at("/multi/unsigned")).toHaveLength(0);
    expect(await agentEvent(name, "refused", "/multi/unsigned")).toMatchObject({ status: 401 });
  });
});

describe("--verify-mode log", () => {
  const name = "wh-log";

  it("forwards bad and missing signatures, and records the failed verdicts", async () => {
    expect(agents[name]!.policy).toBe("verify stripe (log)");
    const bad = `t=${unixNow()},v1=${"0".repeat(64)}`;
    expect(await post(hostUrl(relay, name, "/log/bad"), "{}", { "Stripe-Signature": bad })).toMatchObject({ status: 200, text: "ok" });
    expect(origin.at("/log/bad")[0]!.headers["stripe-signature"]).toBe(bad);
    expect(await agentEvent(name, "exchange", "/log/bad")).toMatchObject({
      note: "stripe signature failed: signature mismatch (log mode)",
    });
    const capture = await captureOf(relay, name, "/log/bad");
    expect(capture).toMatchObject({ outcome: "ok", status: 200 });
    expect(capture.verification).toEqual({ provider: "stripe", ok: false, reason: "signature mismatch", mode: "log" });

    expect((await post(hostUrl(relay, name, "/log/unsigned"), "{}", {})).status).toBe(200);
    expect((await captureOf(relay, name, "/log/unsigned")).verification).toMatchObject({
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
    post(url, form, {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": twilioSignature(TWILIO, signedFor, params),
    });

  it("accepts a signature over the path-mode URL, prefix included, and one over the host URL", async () => {
    const pathUrl = `${agents[name]!.pathUrl}/twilio/sms?via=path`;
    expect(pathUrl).toContain(`/t/${name}/twilio/sms`);
    const viaPath = await send(pathUrl, pathUrl);
    expect(viaPath.status, viaPath.text).toBe(200);
    const viaHost = await send(hostUrl(relay, name, "/twilio/sms?via=host"), hostUrl(relay, name, "/twilio/sms?via=host"));
    expect(viaHost.status, viaHost.text).toBe(200);
    // The local server sees the same path either way; the relay checked each against the URL Twilio called.
    expect(origin.at("/twilio/sms").map((s) => s.url)).toEqual(["/twilio/sms?via=path", "/twilio/sms?via=host"]);
    expect(await agentEvent(name, "exchange", "/twilio/sms?via=path")).toMatchObject({ note: "twilio signature valid" });
  });

  it("refuses a signature made for another URL of the same tunnel", async () => {
    const local = `http://127.0.0.1:${origin.port}/twilio/other`;
    const res = await send(hostUrl(relay, name, "/twilio/other"), local);
    expect(res.status).toBe(401);
    expect(res.text).toContain("twilio signature check failed: signature mismatch");
    expect(origin.at("/twilio/other")).toHaveLength(0);
  });
});

it("exits 2 with a clear message for an unknown --verify provider, before connecting", async () => {
  const cli = spawnCli(["http", String(origin.port), "--relay", relay.url, "--token", TOKEN, "--name", "wh-bad", "--verify", "nosuch:x"]);
  expect(await cli.exited).toBe(2);
  expect(cli.output.join("\n")).toMatch(/Invalid --verify "nosuch": unknown provider \(known: github, stripe/);
  expect(cli.output.join("\n")).not.toContain("nosuch:x");
});
