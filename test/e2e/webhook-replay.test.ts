// Replaying captured webhooks end to end. The local server here checks signatures itself, with
// node:crypto and a 300 s window, as a careful webhook handler does. A verbatim replay of an old
// delivery reaches it (the relay logs replays, never blocks them) and fails its check; a re-signed
// replay carries a fresh timestamp and signature made with the tunnel's secret, and passes both sides.
// Twilio signs the public URL, so the local server rebuilds it from X-Forwarded-Proto/-Host/-Prefix.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostUrl, once, spawnCli, TOKEN } from "./harness";
import { call, type PolicyTunnels, startPolicyTunnels } from "./policy-tunnels";
import type { Seen } from "./recording-origin";
import {
  checkStandardWebhooks,
  checkStripe,
  checkTwilio,
  standardWebhooksHeaders,
  stripeSignature,
  twilioSignature,
  unixNow,
} from "./signers";
import { captureOf, captureWhere, headerOf, replay, tunnelCall } from "./tunnel-api";

const STRIPE = "whsec_replayStripeSecret9876543210";
const STANDARD = `whsec_${Buffer.from("replay Standard Webhooks key, 32").toString("base64")}`;
const TWILIO = "fedcba9876543210fedcba9876543210";
/** A delivery the provider signed ten minutes ago: once valid, now stale. */
const TEN_MINUTES_AGO = () => unixNow() - 600;

/** The local application's own check: 200 when the signature is valid and fresh, else 400 with the reason. */
function localCheck(seen: Seen) {
  const h = seen.headers;
  let reason: string | null;
  if (h["stripe-signature"]) reason = checkStripe(STRIPE, String(h["stripe-signature"]), seen.body);
  else if (h["webhook-id"]) reason = checkStandardWebhooks(STANDARD, h, seen.body);
  else if (h["x-twilio-signature"]) {
    const publicUrl = `${h["x-forwarded-proto"]}://${h["x-forwarded-host"]}${h["x-forwarded-prefix"] ?? ""}${seen.url}`;
    reason = checkTwilio(TWILIO, publicUrl, seen.body.toString(), String(h["x-twilio-signature"]));
  } else return undefined;
  return reason === null ? { status: 200, body: "verified locally" } : { status: 400, body: `local check failed: ${reason}` };
}

let t: PolicyTunnels;

beforeAll(async () => {
  t = await startPolicyTunnels(
    {
      "rp-stripe": ["--verify", `stripe:${STRIPE}`],
      "rp-std": ["--verify", `standard-webhooks:${STANDARD}`],
      "rp-twilio": ["--verify", `twilio:${TWILIO}`],
      "rp-open": [],
    },
    localCheck,
  );
});

afterAll(() => t?.stop());

/** Sends a delivery that the relay refuses as stale, and returns its capture: the one a user would replay. */
async function staleDelivery(name: string, path: string, body: Buffer, headers: Record<string, string>) {
  const res = await call(hostUrl(t.relay, name, path), { method: "POST", body, headers });
  expect(res.status).toBe(401);
  expect(res.text).toMatch(/outside the 300 s tolerance/);
  return captureOf(t.relay, name, path);
}

/** Runs `porthole replay` against the test relay; resolves with its exit code and JSON lines. */
async function cliReplay(id: string, name: string, extra: string[] = []) {
  const cli = spawnCli(["replay", id, name, "--relay", t.relay.url, "--token", TOKEN, "--json", ...extra]);
  const [code] = (await once(cli.child, "close")) as [number | null];
  return { code, events: cli.events, output: cli.output.join("\n") };
}

describe("stripe, through the API", () => {
  const name = "rp-stripe";
  const body = Buffer.from('{"id":"evt_once_valid", "type":"invoice.paid"}');
  const old = stripeSignature(STRIPE, body, TEN_MINUTES_AGO());
  const deliver = (path: string) => staleDelivery(name, path, body, { "Content-Type": "application/json", "Stripe-Signature": old });

  it("replays verbatim: the relay forwards and logs the stale verdict, the local server's own check fails it", async () => {
    const original = await deliver("/stripe/verbatim");
    const verbatim = await replay(t.relay, name, original.id);
    expect(verbatim.status).toBe(400);
    const [seen] = t.origin.at("/stripe/verbatim");
    expect(seen!.headers["stripe-signature"]).toBe(old);
    expect(seen!.body.equals(body)).toBe(true);
    const capture = await captureWhere(t.relay, name, (c) => c.id === verbatim.id);
    expect(capture).toMatchObject({ replayOf: original.id, outcome: "ok", status: 400 });
    expect(capture.verification).toMatchObject({ provider: "stripe", ok: false, mode: "log" });
    expect(capture.verification?.reason).toMatch(/outside the 300 s tolerance/);
  });

  it("replays re-signed: a fresh t and v1 over the same bytes, accepted by the relay and by the local server", async () => {
    const original = await deliver("/stripe/resigned");
    const resigned = await replay(t.relay, name, original.id, { resign: true });
    expect(resigned.status, "the local server's own Stripe check must accept the re-signed replay").toBe(200);
    const [seen] = t.origin.at("/stripe/resigned");
    const signature = String(seen!.headers["stripe-signature"]);
    expect(seen!.body.equals(body)).toBe(true);
    expect(Math.abs(unixNow() - Number(/(?:^|,)t=(\d+)/.exec(signature)?.[1]))).toBeLessThan(60);
    expect(checkStripe(STRIPE, signature, seen!.body)).toBeNull();
    expect(seen!.headers["content-type"]).toBe("application/json");
    const capture = await captureWhere(t.relay, name, (c) => c.id === resigned.id);
    expect(capture).toMatchObject({ replayOf: original.id, outcome: "ok", status: 200 });
    expect(capture.verification).toMatchObject({ provider: "stripe", ok: true });
    // The capture keeps the request as it was sent, new signature included.
    expect(headerOf(capture.request.headers, "stripe-signature")).toBe(signature);
  });
});

describe("standard webhooks, through porthole replay", () => {
  const name = "rp-std";
  const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
  const body = Buffer.from(`{"type":"invoice.paid","n":"${randomUUID()}"}`);
  const deliver = (path: string) => staleDelivery(name, path, body, standardWebhooksHeaders(STANDARD, id, body, TEN_MINUTES_AGO()));

  it("replays verbatim to a local failure", async () => {
    const original = await deliver("/std/verbatim");
    const verbatim = await cliReplay(original.id, name);
    expect(verbatim.code, verbatim.output).toBe(0);
    expect(verbatim.events[0]).toMatchObject({ replayOf: original.id, status: 400 });
    expect(t.origin.at("/std/verbatim")).toHaveLength(1);
  });

  it("replays with --resign: same webhook-id and bytes, a fresh timestamp, and a signature the local server accepts", async () => {
    const original = await deliver("/std/resigned");
    const resigned = await cliReplay(original.id, name, ["--resign"]);
    expect(resigned.code, resigned.output).toBe(0);
    expect(resigned.events[0]).toMatchObject({ replayOf: original.id, status: 200 });
    const [seen] = t.origin.at("/std/resigned");
    expect(seen!.headers["webhook-id"]).toBe(id);
    expect(seen!.body.equals(body)).toBe(true);
    expect(Math.abs(unixNow() - Number(seen!.headers["webhook-timestamp"]))).toBeLessThan(60);
    expect(checkStandardWebhooks(STANDARD, seen!.headers, seen!.body)).toBeNull();
  });
});

describe("twilio in path mode, with an edited body", () => {
  const name = "rp-twilio";
  const form = (text: string) =>
    new URLSearchParams([
      ["From", "+15551234567"],
      ["Body", text],
      ["MessageSid", "SM1"],
    ]).toString();

  it("re-signs an edited replay over the public path-mode URL, which the local server rebuilds and accepts", async () => {
    const url = `${t.pathUrl(name)}/twilio/sms?n=1`;
    const original = form("hello");
    const signature = twilioSignature(TWILIO, url, [...new URLSearchParams(original)]);
    const headers = { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature };
    // Accepted by the relay and by the local server's own check: the forwarded headers rebuild the URL Twilio signed.
    expect(await call(url, { method: "POST", body: original, headers })).toMatchObject({ status: 200, text: "verified locally" });
    const captured = await captureOf(t.relay, name, "/twilio/sms?n=1");

    const edited = await replay(t.relay, name, captured.id, { body: form("edited") });
    expect(edited.status, "an edited body under the old signature must fail the local check").toBe(400);
    expect((await captureWhere(t.relay, name, (c) => c.id === edited.id)).verification).toMatchObject({ ok: false, mode: "log" });

    const resigned = await replay(t.relay, name, captured.id, { body: form("edited"), resign: true });
    expect(resigned.status).toBe(200);
    const seen = t.origin.at("/twilio/sms").at(-1)!;
    expect(seen.body.toString()).toBe(form("edited"));
    expect(seen.headers["x-twilio-signature"]).toBe(twilioSignature(TWILIO, url, [...new URLSearchParams(form("edited"))]));
    expect((await captureWhere(t.relay, name, (c) => c.id === resigned.id)).verification).toMatchObject({ provider: "twilio", ok: true });
  });
});

it("refuses to re-sign a replay on a tunnel that verifies no provider, naming the cause", async () => {
  expect((await call(hostUrl(t.relay, "rp-open", "/plain"), { method: "POST", body: "x" })).status).toBe(200);
  const captured = await captureOf(t.relay, "rp-open", "/plain");
  const res = await tunnelCall(t.relay, "rp-open", `/captures/${captured.id}/replay`, { json: { resign: true } });
  expect(res).toMatchObject({ status: 400, error: "bad-request" });
  expect(res.text).toContain("the tunnel verifies no provider");
  expect(t.origin.at("/plain")).toHaveLength(1);
});
