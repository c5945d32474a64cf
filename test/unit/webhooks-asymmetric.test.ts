// Public-key signatures: Discord (Ed25519), SendGrid (ECDSA P-256, DER) and Standard Webhooks v1a (Ed25519, whpk_).

import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { derToRaw } from "../../worker/webhooks/asymmetric";
import { resign } from "../../worker/webhooks/verify";
import { at, describeProvider, describeVectors, signed, T, vectorRequest, vectorSpec, verifyOne } from "./webhooks-fixtures";

const BODY = '{"type":2,"id":"1","data":{"name":"ping","note":"ünï"}}';

/** RFC 8032 §7.1 TEST 1: the research vector's key pair. */
const RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const discordKey = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(RFC8032_SEED, "hex")]),
  format: "der",
  type: "pkcs8",
});

/** The raw 32-byte public key of a fresh Ed25519 pair, and its private key. */
function ed25519Pair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  return { raw: publicKey.export({ format: "der", type: "spki" }).subarray(12), privateKey };
}

const other = ed25519Pair();
const sendgridPair = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const sendgridPublic = sendgridPair.publicKey.export({ format: "der", type: "spki" }).toString("base64");
const otherSendgrid = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ format: "der", type: "spki" });
const svixPair = ed25519Pair();

describe("vectors", () => {
  describeVectors(["discord-derived-rfc8032-key", "sendgrid-sdk"]);
});

describeProvider("discord", {
  spec: { provider: "discord", secret: RFC8032_PUBLIC },
  wrongSpec: { provider: "discord", secret: other.raw.toString("hex") },
  body: BODY,
  sign: (body, unix) => [
    ["X-Signature-Ed25519", crypto.sign(null, Buffer.from(`${unix}${body}`), discordKey).toString("hex")],
    ["X-Signature-Timestamp", String(unix)],
  ],
  missing: { header: "X-Signature-Timestamp", carried: true },
  resignable: false,
});

describeProvider("sendgrid", {
  spec: { provider: "sendgrid", secret: sendgridPublic },
  wrongSpec: { provider: "sendgrid", secret: otherSendgrid.toString("base64") },
  body: `[${BODY}]`,
  sign: (body, unix) => [
    [
      "X-Twilio-Email-Event-Webhook-Signature",
      crypto.sign("sha256", Buffer.from(`${unix}${body}`), sendgridPair.privateKey).toString("base64"),
    ],
    ["X-Twilio-Email-Event-Webhook-Timestamp", String(unix)],
  ],
  missing: { header: "X-Twilio-Email-Event-Webhook-Signature", carried: true },
  resignable: false,
});

describeProvider("standard-webhooks v1a (whpk_ public key)", {
  spec: { provider: "standard-webhooks", secret: `whpk_${svixPair.raw.toString("base64")}` },
  wrongSpec: { provider: "standard-webhooks", secret: `whpk_${other.raw.toString("base64")}` },
  body: BODY,
  sign: (body, unix) => [
    ["webhook-id", "msg_2"],
    ["webhook-timestamp", String(unix)],
    [
      "webhook-signature",
      `v1,Zm9vYmFy v1a,${crypto.sign(null, Buffer.from(`msg_2.${unix}.${body}`), svixPair.privateKey).toString("base64")}`,
    ],
  ],
  missing: { header: "webhook-id", carried: true },
  tolerance: { seconds: 300, future: true },
  resignable: false,
});

describe("details", () => {
  it("Discord's PING is named in the verdict, whether or not its signature holds", async () => {
    const req = vectorRequest("discord-derived-rfc8032-key");
    const spec = vectorSpec("discord-derived-rfc8032-key");
    expect(await verifyOne(spec, req, at(T))).toEqual({
      provider: "discord",
      ok: true,
      reason: "valid discord signature",
      handshake: "PING",
    });
    // Discord sends deliberately bad signatures when the URL is saved, and expects them refused.
    const bad = {
      ...req,
      headers: req.headers.map(([k, v]): [string, string] => [k, k === "X-Signature-Ed25519" ? `${"0".repeat(126)}01` : v]),
    };
    expect(await verifyOne(spec, bad, at(T))).toEqual({ provider: "discord", ok: false, reason: "signature mismatch", handshake: "PING" });
  });

  it("a Discord signature that is not hex is a mismatch", async () => {
    const req = signed(BODY, { "X-Signature-Ed25519": "zz", "X-Signature-Timestamp": "1" });
    expect(await verifyOne({ provider: "discord", secret: RFC8032_PUBLIC }, req, 0)).toMatchObject({ reason: "signature mismatch" });
  });

  it("a SendGrid signature that is not DER is a mismatch", async () => {
    const req = signed("[]", { "X-Twilio-Email-Event-Webhook-Signature": "MAA=", "X-Twilio-Email-Event-Webhook-Timestamp": "1" });
    expect(await verifyOne({ provider: "sendgrid", secret: sendgridPublic }, req, 0)).toMatchObject({ reason: "signature mismatch" });
  });

  it("a whpk_ spec ignores v1 HMAC entries and cannot be re-signed", async () => {
    const req = signed(BODY, { "webhook-id": "m", "webhook-timestamp": String(T), "webhook-signature": "v1,Zm9v" });
    const spec = { provider: "standard-webhooks" as const, secret: `whpk_${svixPair.raw.toString("base64")}` };
    expect(await verifyOne(spec, req, at(T))).toMatchObject({ ok: false, reason: "no v1a signature in header webhook-signature" });
    expect(await resign(spec, req, at(T))).toBeNull();
  });
});

describe("derToRaw", () => {
  /** Minimal DER INTEGER for an unsigned big-endian value. */
  const derInt = (bytes: Buffer) => {
    let b = bytes;
    while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
    if (b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const der = (raw: Buffer) => {
    const body = Buffer.concat([derInt(raw.subarray(0, 32)), derInt(raw.subarray(32))]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  };

  it("restores r || s, including a padded high bit and a short integer", async () => {
    // Sign until r has a leading zero byte (about 1 in 256), so its DER INTEGER is shorter than 32 bytes.
    let raw = Buffer.alloc(0);
    for (let i = 0; i < 20_000 && raw[0] !== 0; i++) {
      raw = crypto.sign("sha256", Buffer.from(`m${i}`), { key: sendgridPair.privateKey, dsaEncoding: "ieee-p1363" });
    }
    expect(raw[0]).toBe(0);
    expect(Buffer.from(derToRaw(der(raw))!)).toEqual(raw);
    const high = Buffer.concat([Buffer.alloc(32, 0xff), Buffer.alloc(32, 0x01)]);
    expect(der(high)[3]).toBe(33);
    expect(Buffer.from(derToRaw(der(high))!)).toEqual(high);
  });

  it("refuses what is not exactly SEQUENCE { INTEGER, INTEGER }", () => {
    const good = der(Buffer.alloc(64, 0x11));
    expect(derToRaw(good)).toBeDefined();
    expect(derToRaw(Buffer.concat([good, Buffer.from([0])]))).toBeUndefined();
    expect(derToRaw(good.subarray(0, good.length - 1))).toBeUndefined();
    expect(derToRaw(Buffer.from([0x31, ...good.subarray(1)]))).toBeUndefined();
    expect(derToRaw(Buffer.from("300402000200", "hex"))).toBeUndefined();
    const tooLong = Buffer.concat([
      Buffer.from([0x30, 0x46, 0x02, 0x22]),
      Buffer.alloc(34, 0x7f),
      Buffer.from([0x02, 0x20]),
      Buffer.alloc(32, 1),
    ]);
    expect(derToRaw(tooLong)).toBeUndefined();
  });
});
