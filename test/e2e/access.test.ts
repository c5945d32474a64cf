// Per-tunnel access rules end to end: the real relay in workerd, the agent CLI as a child process and a
// local server that records what reaches it. Every refusal must be answered by the relay, captured with
// its reason, reported by the agent as a `refused` event, and never reach the local server.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostUrl } from "./harness";
import { call, type PolicyTunnels, startPolicyTunnels } from "./policy-tunnels";
import { captureOf, headerOf, tunnelCall } from "./tunnel-api";

let t: PolicyTunnels;

beforeAll(async () => {
  t = await startPolicyTunnels({
    "ac-basic": ["--basic-auth", "ann:pa:ss:word", "--basic-auth", "bob:hunter2"],
    "ac-bearer": ["--bearer", "tok-e2e-0123456789"],
    "ac-ip": ["--allow-ip", "203.0.113.0/24", "--allow-ip", "2001:db8:abcd::/48"],
    "ac-rate": ["--rate-limit", "3/min"],
  });
});

afterAll(() => t?.stop());

/** GETs a path of a tunnel's host URL with the given headers. */
async function get(name: string, path: string, headers: Record<string, string> = {}) {
  const res = await call(hostUrl(t.relay, name, path), { headers });
  return { ...res, challenge: res.headers.get("WWW-Authenticate"), retryAfter: res.headers.get("Retry-After") };
}

const basic = (userPass: string) => ({ Authorization: `Basic ${Buffer.from(userPass).toString("base64")}` });

/** Checks that a refusal was captured with its reason, reported by the agent, and never reached the local server. */
async function expectRefused(name: string, path: string, status: number, reason: string | RegExp) {
  const event = await t.event(name, "refused", path);
  expect(event).toMatchObject({ method: "GET", status });
  expect(event.reason).toMatch(reason);
  const capture = await captureOf(t.relay, name, path);
  expect(capture).toMatchObject({ outcome: "denied", status, error: event.reason });
  expect(t.origin.at(path.split("?")[0]!)).toHaveLength(0);
  return capture;
}

describe("--basic-auth", () => {
  const name = "ac-basic";

  it("describes the rule without the passwords", () => {
    expect(t.policy(name)).toBe("basic-auth (2 users)");
  });

  it("lets the right credentials through, a password with ':' included, without passing Authorization on", async () => {
    expect(await get(name, "/basic/ann", basic("ann:pa:ss:word"))).toMatchObject({ status: 200, text: "ok" });
    expect(await get(name, "/basic/bob", basic("bob:hunter2"))).toMatchObject({ status: 200, text: "ok" });
    for (const seen of [...t.origin.at("/basic/ann"), ...t.origin.at("/basic/bob")]) expect(seen.headers.authorization).toBeUndefined();
    expect(t.origin.at("/basic/ann")).toHaveLength(1);
  });

  it("refuses a wrong password with 401 and a challenge, and redacts it in the capture", async () => {
    const res = await get(name, "/basic/wrong", basic("ann:pa:ss"));
    expect(res).toMatchObject({ status: 401, error: "unauthorized" });
    expect(res.challenge).toMatch(/^Basic realm="porthole"/);
    expect(res.text).toContain("wrong credentials");
    const capture = await expectRefused(name, "/basic/wrong", 401, "wrong credentials");
    expect(headerOf(capture.request.headers, "authorization")).toBe("Basic [redacted]");
    expect(JSON.stringify(capture)).not.toContain(Buffer.from("ann:pa:ss").toString("base64"));
  });

  it("refuses a request without credentials, and one user's password for another user", async () => {
    expect(await get(name, "/basic/none")).toMatchObject({ status: 401, error: "unauthorized" });
    await expectRefused(name, "/basic/none", 401, "missing Authorization header");
    expect((await get(name, "/basic/swapped", basic("bob:pa:ss:word"))).status).toBe(401);
    await expectRefused(name, "/basic/swapped", 401, "wrong credentials");
  });
});

describe("--bearer", () => {
  const name = "ac-bearer";

  it("lets the token through without passing Authorization on, and refuses others", async () => {
    expect(t.policy(name)).toBe("bearer (1 token)");
    expect(await get(name, "/bearer/ok", { Authorization: "Bearer tok-e2e-0123456789" })).toMatchObject({ status: 200 });
    expect(t.origin.at("/bearer/ok")[0]!.headers.authorization).toBeUndefined();

    const wrong = await get(name, "/bearer/wrong", { Authorization: "Bearer tok-e2e-guess" });
    expect(wrong).toMatchObject({ status: 401, error: "unauthorized", challenge: 'Bearer realm="porthole"' });
    const capture = await expectRefused(name, "/bearer/wrong", 401, "wrong credentials");
    expect(headerOf(capture.request.headers, "authorization")).toBe("Bearer [redacted]");
    expect(JSON.stringify(capture)).not.toContain("tok-e2e-guess");

    expect((await get(name, "/bearer/basic", basic("tok:e2e"))).status).toBe(401);
    await expectRefused(name, "/bearer/basic", 401, "unsupported Authorization scheme; this tunnel accepts Bearer");
  });
});

describe("--allow-ip", () => {
  const name = "ac-ip";
  const from = (ip: string) => ({ "CF-Connecting-IP": ip });

  it("lets addresses inside the IPv4 and IPv6 ranges through", async () => {
    expect(t.policy(name)).toBe("allow-ip 203.0.113.0/24 2001:db8:abcd::/48");
    expect((await get(name, "/ip/v4", from("203.0.113.77"))).status).toBe(200);
    expect((await get(name, "/ip/v6", from("2001:db8:abcd:12::1"))).status).toBe(200);
    expect(t.origin.at("/ip/v4")[0]!.headers["x-forwarded-for"]).toBe("203.0.113.77");
    expect(t.origin.at("/ip/v6")[0]!.headers["x-forwarded-for"]).toBe("2001:db8:abcd:12::1");
    // A dual-stack socket reports an IPv4 client in its IPv4-mapped IPv6 form: the same client.
    expect((await get(name, "/ip/mapped", from("::ffff:203.0.113.9"))).status).toBe(200);
  });

  it("refuses addresses outside them with 403 ip-denied", async () => {
    const v4 = await get(name, "/ip/out-v4", from("198.51.100.1"));
    expect(v4).toMatchObject({ status: 403, error: "ip-denied" });
    expect(v4.text).toContain("client 198.51.100.1 is not in the tunnel's allowed addresses");
    const capture = await expectRefused(name, "/ip/out-v4", 403, "client 198.51.100.1 is not in the tunnel's allowed addresses");
    expect(capture.clientIp).toBe("198.51.100.1");

    expect(await get(name, "/ip/out-v6", from("2001:db8:abce::1"))).toMatchObject({ status: 403, error: "ip-denied" });
    await expectRefused(name, "/ip/out-v6", 403, /2001:db8:abce::1 is not in/);
    // Its low 32 bits spell 203.0.113.77, inside the IPv4 range; it is still an IPv6 address outside the IPv6 one.
    expect((await get(name, "/ip/low-bits", from("2001:db8::cb00:714d"))).status).toBe(403);
    await expectRefused(name, "/ip/low-bits", 403, /is not in the tunnel's allowed addresses/);
  });
});

describe("--rate-limit", () => {
  const name = "ac-rate";
  const from = (ip: string) => ({ "CF-Connecting-IP": ip });

  it("answers the fourth request in a minute from one address with 429 and Retry-After, and not another address's", async () => {
    expect(t.policy(name)).toBe("3/min");
    for (let i = 1; i <= 3; i++) expect((await get(name, `/rate/${i}`, from("192.0.2.10"))).status).toBe(200);
    const limited = await get(name, "/rate/4", from("192.0.2.10"));
    expect(limited).toMatchObject({ status: 429, error: "rate-limited" });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    await expectRefused(name, "/rate/4", 429, /^more than 3 requests per minute from 192\.0\.2\.10; retry in \d+ s$/);
    // Another spelling of the same address shares its budget.
    expect((await get(name, "/rate/mapped", from("::ffff:192.0.2.10"))).status).toBe(429);
    expect((await get(name, "/rate/other", from("192.0.2.11"))).status).toBe(200);
    expect(t.origin.seen.filter((s) => s.url.startsWith("/rate/")).map((s) => s.url)).toEqual([
      "/rate/1",
      "/rate/2",
      "/rate/3",
      "/rate/other",
    ]);
  });
});

describe("bad access flags", () => {
  it.each([
    [["--allow-ip", "10.0.0.0/33"], '--allow-ip "10.0.0.0/33": prefix length 33 is over 32 for IPv4'],
    [["--rate-limit", "abc"], '--rate-limit "abc": expected requests per minute, such as "60/min"'],
    [["--basic-auth", "mistyped-password"], '--basic-auth (entry 1): expected "user:password" but there is no ":"'],
  ])("exit 2 with a clear message, before connecting: %j", async (flags, message) => {
    const { code, output } = await t.refusedStart("ac-bad", flags);
    expect(code).toBe(2);
    expect(output).toContain(`porthole: ${message}`);
    // An entry without ":" may be a password typed in the wrong place: it is never echoed.
    expect(output).not.toContain("mistyped-password");
    expect((await tunnelCall(t.relay, "ac-bad", "/summary")).status).toBe(404);
  });
});
