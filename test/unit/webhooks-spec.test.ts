// Parsing --verify, the generic HMAC recipe, picking a spec among several, handshakes and named limits.

import { describe, expect, it } from "vitest";
import { MAX_SIGNATURES } from "../../worker/webhooks/hmac";
import {
  detectHandshake,
  missingReason,
  type ProviderId,
  parseVerifySpec,
  signatureHeaders,
  TOLERANCE,
  VerifySpecError,
  verifyWebhook,
} from "../../worker/webhooks/verify";
import { at, describeProvider, nodeHmac, signed, T, verifyOne } from "./webhooks-fixtures";
import { VECTORS } from "./webhooks-vectors";

const DISCORD_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/** The message parseVerifySpec throws for `text`, checked to be a VerifySpecError. */
function errorOf(text: string): string {
  try {
    parseVerifySpec(text);
  } catch (err) {
    expect(err).toBeInstanceOf(VerifySpecError);
    return (err as Error).message;
  }
  throw new Error(`parseVerifySpec accepted ${JSON.stringify(text)}`);
}

describe("parseVerifySpec", () => {
  it("parses every provider, keeping everything after the first colon as the secret", () => {
    const keys: Partial<Record<ProviderId, string>> = {
      discord: DISCORD_KEY,
      sendgrid: VECTORS["sendgrid-sdk"].key,
      "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      twitch: "s3cr3t:with:colons",
    };
    const ids: ProviderId[] = ["github", "stripe", "slack", "standard-webhooks", "shopify", "twilio", "square", "linear", "discord"];
    ids.push("twitch", "paddle", "zoom", "sendgrid", "mailgun", "intercom", "pagerduty", "gitlab", "typeform", "calendly", "vercel");
    for (const id of ids) {
      const secret = keys[id] ?? "a:b=c,d";
      expect(parseVerifySpec(`${id}:${secret}`)).toEqual({ provider: id, secret });
    }
  });

  it("takes svix as standard-webhooks and the provider word in any case", () => {
    expect(parseVerifySpec("svix:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").provider).toBe("standard-webhooks");
    expect(parseVerifySpec("Stripe:whsec_x")).toEqual({ provider: "stripe", secret: "whsec_x" });
  });

  it("parses a recipe, percent-decoding values and leaving colons to the secret", () => {
    expect(parseVerifySpec("hmac-sha256:header=X-Sig,encoding=hex,prefix=sha256=:SECRET")).toEqual({
      provider: "hmac",
      secret: "SECRET",
      recipe: { algorithm: "SHA-256", header: "X-Sig", encoding: "hex", prefix: "sha256=", template: "{body}", toleranceSeconds: 300 },
    });
    const spec = parseVerifySpec(
      "hmac:algo=sha512,header=X-S,encoding=base64,timestamp=X-T,template=v0%3A{timestamp}%3A{body},tolerance=30:k:1",
    );
    expect(spec).toMatchObject({ provider: "hmac", secret: "k:1" });
    expect(spec.recipe).toMatchObject({
      algorithm: "SHA-512",
      encoding: "base64",
      timestampHeader: "X-T",
      template: "v0:{timestamp}:{body}",
    });
    expect(parseVerifySpec("hmac-sha1:header=X-S,timestamp=X-T:k").recipe).toMatchObject({
      template: "{timestamp}.{body}",
      toleranceSeconds: 300,
    });
  });

  it.each([
    ["stripe", "Invalid --verify: expected PROVIDER:SECRET, for example stripe:whsec_…."],
    ["strpe:whsec_x", 'Invalid --verify "strpe": unknown provider (known: github, stripe, slack, standard-webhooks, shopify, twilio,'],
    ["stripe:", "Invalid --verify stripe: the secret after the provider is empty."],
    ["stripe:whsec_x\n", "Invalid --verify stripe: the secret has leading or trailing whitespace."],
    ["discord:abc", "Invalid --verify discord: a Discord public key is 64 hex characters."],
    ["sendgrid:Zm9vYmFy", "Invalid --verify sendgrid: a SendGrid verification key is a base64 DER SPKI P-256 public key."],
    ["standard-webhooks:whsec_!!", "Invalid --verify standard-webhooks: a Standard Webhooks secret is whsec_ followed by base64."],
    ["svix:whpk_Zm9v", "Invalid --verify svix: a whpk_ key is the base64 of a 32-byte Ed25519 public key."],
    ["twitch:short", "Invalid --verify twitch: a Twitch secret is 10 to 100 ASCII characters."],
    ["hmac-md5:header=X:k", "Invalid --verify hmac-md5: a recipe's hash is sha1, sha256 or sha512."],
    ["hmac-sha256:k", "Invalid --verify hmac-sha256: a recipe is PARAMS:SECRET, for example header=X-Signature,prefix=sha256=:SECRET."],
    ["hmac-sha256:header=X,colour=red:k", 'Invalid --verify hmac-sha256: unknown recipe parameter "colour" (known: header, encoding,'],
    ["hmac:abc:def", "Invalid --verify hmac: recipe parameters are name=value pairs (known names: header, encoding,"],
    ["hmac-sha256:header=X,prefix:k", "Invalid --verify hmac-sha256: recipe parameters are name=value pairs (known names: header,"],
    ["hmac-sha256:encoding=hex:k", "Invalid --verify hmac-sha256: the recipe needs header=NAME with a valid header name."],
    ["hmac-sha256:header=X Y:k", "Invalid --verify hmac-sha256: the recipe needs header=NAME with a valid header name."],
    ["hmac-sha256:header=X,header=Y:k", "Invalid --verify hmac-sha256: recipe parameter header given twice."],
    ["hmac-sha256:header=X,prefix=%zz:k", "Invalid --verify hmac-sha256: recipe parameter prefix has a malformed %-escape."],
    [
      "hmac-sha256:header=X,algo=sha1:k",
      "Invalid --verify hmac-sha256: algo= is only for plain hmac; hmac-sha1/-sha256/-sha512 already name it.",
    ],
    ["hmac:header=X,algo=md5:k", "Invalid --verify hmac: algo= must be sha1, sha256 or sha512."],
    ["hmac-sha256:header=X,encoding=b64:k", "Invalid --verify hmac-sha256: encoding= must be hex or base64."],
    [
      "hmac-sha256:header=X,template={body}.x:k",
      "Invalid --verify hmac-sha256: template= must end with {body} and hold no other token than {timestamp}.",
    ],
    [
      "hmac-sha256:header=X,template={id}{body}:k",
      "Invalid --verify hmac-sha256: template= must end with {body} and hold no other token than {timestamp}.",
    ],
    [
      "hmac-sha256:header=X,template={timestamp}{body}:k",
      "Invalid --verify hmac-sha256: template= uses {timestamp} but no timestamp= header is given.",
    ],
    ["hmac-sha256:header=X,tolerance=60:k", "Invalid --verify hmac-sha256: tolerance= needs a timestamp= header."],
    ["hmac-sha256:header=X,timestamp=T,tolerance=1.5:k", "Invalid --verify hmac-sha256: tolerance= must be a whole number of seconds."],
    ["hmac-sha256:header=X:", "Invalid --verify hmac-sha256: the secret after the provider is empty."],
  ])("rejects %j", (text, message) => {
    const got = errorOf(text);
    expect(got.startsWith(message)).toBe(true);
    expect(got.split(". ").length).toBe(1);
  });

  it("never quotes the secret in an error", () => {
    for (const text of [
      "discord:TOPSECRET",
      "twitch:TOPSECRET\n",
      "TOPSECRET",
      "sendgrid:TOPSECRET",
      "hmac-sha256:header=X,colour=1:TOPSECRET",
      "hmac:TOPSECRET:rest",
      "hmac-sha1:header=X,TOPSECRET:rest",
    ]) {
      expect(errorOf(text)).not.toContain("TOPSECRET");
    }
  });
});

describeProvider("hmac recipe, body only (hex, prefix)", {
  spec: parseVerifySpec("hmac-sha256:header=X-Acme-Signature,prefix=sha256=:acme"),
  wrongSpec: parseVerifySpec("hmac-sha256:header=X-Acme-Signature,prefix=sha256=:acme2"),
  body: '{"acme":true}',
  sign: (body) => [["X-Acme-Signature", `sha256=${nodeHmac("sha256", "acme", body, "hex")}`]],
  missing: { header: "X-Acme-Signature", carried: false },
  resignable: true,
});

describeProvider("hmac recipe, timestamped (base64, Slack-like template)", {
  spec: parseVerifySpec("hmac-sha512:header=X-Sig,encoding=base64,timestamp=X-Ts,template=v0%3A{timestamp}%3A{body},tolerance=60:k"),
  wrongSpec: parseVerifySpec("hmac-sha512:header=X-Sig,encoding=base64,timestamp=X-Ts,template=v0%3A{timestamp}%3A{body},tolerance=60:j"),
  body: '{"acme":true}',
  sign: (body, unix) => [
    ["X-Ts", String(unix)],
    ["X-Sig", nodeHmac("sha512", "k", `v0:${unix}:${body}`, "base64")],
  ],
  missing: { header: "X-Ts", carried: true },
  tolerance: { seconds: 60, future: true },
  resignable: true,
});

describe("several specs on one tunnel", () => {
  const stripe = { provider: "stripe" as const, secret: "whsec_s" };
  const github = { provider: "github" as const, secret: "gh" };
  const intercom = { provider: "intercom" as const, secret: "ic" };
  const githubReq = signed("{}", { "X-Hub-Signature-256": `sha256=${nodeHmac("sha256", "gh", "{}", "hex")}` });

  it("picks the spec whose headers the request carries", async () => {
    expect(await verifyWebhook([stripe, github], githubReq, at(T))).toMatchObject({ provider: "github", ok: true });
  });

  it("returns null when no spec's headers are present, and names them all for enforce mode", async () => {
    expect(await verifyWebhook([stripe, github], signed("{}", { "Content-Type": "application/json" }), at(T))).toBeNull();
    expect(missingReason([stripe, github])).toBe("missing header Stripe-Signature or header X-Hub-Signature-256");
  });

  it("tries every spec sharing a header: the passing one wins, else the first failure is reported", async () => {
    const intercomReq = signed("{}", { "X-Hub-Signature": `sha1=${nodeHmac("sha1", "ic", "{}", "hex")}` });
    expect(await verifyWebhook([github, intercom], intercomReq, at(T))).toMatchObject({ provider: "intercom", ok: true });
    const forged = signed("{}", { "X-Hub-Signature": "sha1=00" });
    expect(await verifyWebhook([github, intercom], forged, at(T))).toEqual({ provider: "github", ok: false, reason: "signature mismatch" });
  });

  it("two secrets for one provider: either verifies", async () => {
    const stripeReq = signed("{}", { "Stripe-Signature": `t=${T},v1=${nodeHmac("sha256", "whsec_2", `${T}.{}`, "hex")}` });
    const both = [stripe, { provider: "stripe" as const, secret: "whsec_2" }];
    expect(await verifyWebhook(both, stripeReq, at(T))).toMatchObject({ provider: "stripe", ok: true });
  });

  it("no specs: null", async () => {
    expect(await verifyWebhook([], githubReq, at(T))).toBeNull();
  });
});

describe("handshakes", () => {
  const body = (o: object) => signed(JSON.stringify(o), {});

  it("names Slack url_verification, Zoom endpoint.url_validation, Twitch verification and Discord PING", () => {
    expect(detectHandshake("slack", body({ token: "t", challenge: "c", type: "url_verification" }))).toBe("url_verification");
    expect(detectHandshake("zoom", body({ event: "endpoint.url_validation", payload: { plainToken: "p" } }))).toBe(
      "endpoint.url_validation",
    );
    expect(detectHandshake("twitch", signed("{}", { "Twitch-Eventsub-Message-Type": "webhook_callback_verification" }))).toBe(
      "webhook_callback_verification",
    );
    expect(detectHandshake("discord", body({ type: 1 }))).toBe("PING");
  });

  it("names nothing for ordinary events", () => {
    expect(detectHandshake("slack", body({ type: "event_callback" }))).toBeUndefined();
    expect(detectHandshake("twitch", signed("{}", { "Twitch-Eventsub-Message-Type": "notification" }))).toBeUndefined();
    expect(detectHandshake("discord", body({ type: 2 }))).toBeUndefined();
    expect(detectHandshake("stripe", body({ type: "url_verification" }))).toBeUndefined();
    expect(detectHandshake("slack", signed("type=url_verification", {}))).toBeUndefined();
  });

  it("a signed handshake is verified and named in the verdict", async () => {
    const raw = JSON.stringify({ token: "t", challenge: "c", type: "url_verification" });
    const req = signed(raw, {
      "X-Slack-Request-Timestamp": String(T),
      "X-Slack-Signature": `v0=${nodeHmac("sha256", "slk", `v0:${T}:${raw}`, "hex")}`,
    });
    expect(await verifyOne({ provider: "slack", secret: "slk" }, req, at(T))).toEqual({
      provider: "slack",
      ok: true,
      reason: "valid slack signature",
      handshake: "url_verification",
    });
  });
});

describe("tables and limits", () => {
  it("the replay windows are the documented ones", () => {
    expect(TOLERANCE).toEqual({
      stripe: { seconds: 300, future: false },
      slack: { seconds: 300, future: true },
      "standard-webhooks": { seconds: 300, future: true },
      twitch: { seconds: 600, future: false },
      paddle: { seconds: 5, future: false },
      linear: { seconds: 60, future: true },
      calendly: { seconds: 180, future: false },
    });
  });

  it("signatureHeaders lists what marks each provider's requests", () => {
    expect(signatureHeaders("stripe")).toEqual(["Stripe-Signature"]);
    expect(signatureHeaders("slack")).toEqual(["X-Slack-Signature", "X-Slack-Request-Timestamp"]);
    expect(signatureHeaders("standard-webhooks")).toEqual([
      "webhook-signature",
      "webhook-id",
      "webhook-timestamp",
      "svix-signature",
      "svix-id",
      "svix-timestamp",
    ]);
    expect(signatureHeaders("github")).toEqual(["X-Hub-Signature-256", "X-Hub-Signature"]);
    expect(signatureHeaders(parseVerifySpec("hmac-sha256:header=X-A,timestamp=X-B:k"))).toEqual(["X-A", "X-B"]);
    expect(signatureHeaders("hmac")).toEqual([]);
  });

  it(`reads at most MAX_SIGNATURES (${MAX_SIGNATURES}) signatures from one header`, async () => {
    const good = nodeHmac("sha256", "k", `${T}.{}`, "hex");
    const filler = Array.from({ length: MAX_SIGNATURES }, () => `v1=${"0".repeat(64)}`);
    const late = signed("{}", { "Stripe-Signature": `t=${T},${filler.join(",")},v1=${good}` });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, late, at(T))).toMatchObject({ ok: false, reason: "signature mismatch" });
    const inTime = signed("{}", { "Stripe-Signature": `t=${T},${filler.slice(1).join(",")},v1=${good}` });
    expect(await verifyOne({ provider: "stripe", secret: "k" }, inTime, at(T))).toMatchObject({ ok: true });
  });
});
