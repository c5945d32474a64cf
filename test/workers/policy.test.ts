// A tunnel's policy inside the relay: access rules and webhook signatures are checked before a
// byte reaches the agent, refusals are captured with their reason, and the agent is told.

import { describe, expect, it } from "vitest";
import type { CaptureSummary } from "../../worker/capture-model";
import { CloseCode } from "../../worker/protocol";
import { FakeAgent } from "./fake-agent";
import { api, publicFetch, uniqueName, within } from "./helpers";

const SECRET = "It's a Secret to Everybody";

async function githubSignature(body: string, secret = SECRET): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

type Capture = CaptureSummary & { request: { headers: [string, string][] } };

/** The newest finished capture of a tunnel. */
async function lastCapture(name: string): Promise<Capture> {
  await expect
    .poll(async () => (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures[0]?.state, { timeout: 3000 })
    .toBe("done");
  const [first] = (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures;
  return api<Capture>(name, `/captures/${first!.id}`);
}

describe("policy in the hello", () => {
  it("refuses an invalid policy with an error naming the cause, then closes 4011", async () => {
    const agent = await FakeAgent.open(uniqueName());
    agent.hello({ policy: { verify: ["nosuch:abc"] } });
    const error = await agent.next("error");
    expect(error.code).toBe("policy-invalid");
    expect(error.message).toMatch(/nosuch/);
    expect((await within(agent.closed, 3000, "the close")).code).toBe(CloseCode.policyInvalid);
  });

  it("describes the policy in ready without its secrets", async () => {
    const agent = await FakeAgent.connect(uniqueName(), {
      policy: { verify: [`github:${SECRET}`], verifyMode: "log", access: { basicAuth: ["ann:hunter2"], rateLimitPerMinute: 60 } },
    });
    expect(agent.ready?.policy).toMatch(/github \(log\)/);
    expect(agent.ready?.policy).not.toMatch(/hunter2|Secret/);
  });

  it("keeps the stored policy when the agent reconnects without one", async () => {
    const name = uniqueName();
    const first = await FakeAgent.connect(name, { policy: { access: { bearer: ["tok-123"] } } });
    first.ws.close(1000, "bye");
    await first.closed;
    const again = await FakeAgent.connect(name);
    expect(again.ready?.policy).toMatch(/bearer/);
    expect((await publicFetch(name, "/x")).status).toBe(401);
  });
});

describe("access rules", () => {
  it("answers 401 without reaching the agent, tells the agent, and captures the refusal with its reason", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { access: { basicAuth: ["ann:hunter2"] } } });
    const res = await publicFetch(name, "/private", { headers: { Authorization: `Basic ${btoa("ann:wrong")}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Porthole-Error")).toBe("unauthorized");
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic/);
    expect(await res.text()).toMatch(/refused "GET \/private": wrong credentials/);
    expect(await agent.next("notice")).toMatchObject({ method: "GET", path: "/private", status: 401, reason: "wrong credentials" });
    expect(agent.pending().some((f) => f.type === "request-head")).toBe(false);
    const capture = await lastCapture(name);
    expect(capture).toMatchObject({ outcome: "denied", status: 401, error: "wrong credentials" });
    expect(capture.request.headers).toContainEqual(["authorization", "Basic [redacted]"]);
  });

  it("lets the right credential through, without passing the tunnel's Authorization to the local server", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { access: { bearer: ["tok-123"] } } });
    const res = publicFetch(name, "/ok", { headers: { Authorization: "Bearer tok-123" } });
    const head = await agent.next("request-head");
    expect(head.headers.some(([k]) => k.toLowerCase() === "authorization")).toBe(false);
    agent.respond(head.stream, { body: "fine" });
    expect(await (await res).text()).toBe("fine");
  });

  it("denies addresses outside --allow-ip with 403, IPv6 included", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { access: { allowIp: ["2001:db8::/32"] } } });
    const denied = await publicFetch(name, "/", { headers: { "CF-Connecting-IP": "2001:db9::1" } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("X-Porthole-Error")).toBe("ip-denied");
    const allowed = publicFetch(name, "/", { headers: { "CF-Connecting-IP": "2001:db8:1::7" } });
    agent.respond((await agent.next("request-head")).stream, { body: "in" });
    expect((await allowed).status).toBe(200);
  });

  it("answers 429 with Retry-After past the rate limit", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { access: { rateLimitPerMinute: 2 } } });
    for (let i = 0; i < 2; i++) {
      const res = publicFetch(name, "/", { headers: { "CF-Connecting-IP": "198.51.100.4" } });
      agent.respond((await agent.next("request-head")).stream, { body: "ok" });
      expect((await res).status).toBe(200);
    }
    const limited = await publicFetch(name, "/", { headers: { "CF-Connecting-IP": "198.51.100.4" } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // A flood is captured once a minute per client, so it cannot evict the other captures.
    expect((await publicFetch(name, "/again", { headers: { "CF-Connecting-IP": "198.51.100.4" } })).status).toBe(429);
    await expect.poll(async () => (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures.length).toBe(3);
    const paths = (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures.map((c) => c.path);
    expect(paths).not.toContain("/again");
    // Another client has its own budget.
    const other = publicFetch(name, "/", { headers: { "CF-Connecting-IP": "198.51.100.5" } });
    agent.respond((await agent.next("request-head")).stream, { body: "ok" });
    expect((await other).status).toBe(200);
  });
});

describe("webhook verification", () => {
  const policy = { verify: [`github:${SECRET}`] };

  it("forwards a valid signature with the verdict for the agent's console, and records it", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy });
    const body = '{"action":"opened"}';
    const res = publicFetch(name, "/hook", { method: "POST", body, headers: { "X-Hub-Signature-256": await githubSignature(body) } });
    const head = await agent.next("request-head");
    expect(head.note).toMatch(/github signature valid/);
    expect(new TextDecoder().decode(await agent.body(head.stream))).toBe(body);
    agent.respond(head.stream, { body: "thanks" });
    expect((await res).status).toBe(200);
    expect((await lastCapture(name)).verification).toMatchObject({ provider: "github", ok: true, mode: "enforce" });
  });

  it("rejects a tampered body with 401 signature-invalid before the agent sees it, and captures body and reason", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy });
    const signature = await githubSignature('{"amount":1}');
    const res = await publicFetch(name, "/hook", {
      method: "POST",
      body: '{"amount":1000}',
      headers: { "X-Hub-Signature-256": signature },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Porthole-Error")).toBe("signature-invalid");
    expect(await res.text()).toMatch(/github signature check failed: signature mismatch/);
    expect((await agent.next("notice")).status).toBe(401);
    expect(agent.pending().some((f) => f.type === "request-head")).toBe(false);
    const capture = await lastCapture(name);
    expect(capture).toMatchObject({ outcome: "denied", requestSize: 15, verification: { ok: false, reason: "signature mismatch" } });
  });

  it("rejects a request without any signature header in enforce mode, naming the header", async () => {
    const name = uniqueName();
    await FakeAgent.connect(name, { policy });
    const res = await publicFetch(name, "/hook", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/missing header X-Hub-Signature-256/i);
  });

  it("rejects a WebSocket upgrade on a verifying tunnel in enforce mode: it carries no signature", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy });
    const res = await publicFetch(name, "/socket", { headers: { Upgrade: "websocket" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Porthole-Error")).toBe("signature-invalid");
    expect(agent.pending().some((f) => f.type === "ws-open")).toBe(false);
  });

  it("refuses a body declared over 8 MiB with 413 before reading it", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy });
    const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(64 * 1024)) });
    const res = await publicFetch(name, "/hook", {
      method: "POST",
      body: endless,
      headers: { "Content-Length": String(9 * 1024 * 1024), "X-Hub-Signature-256": "sha256=00" },
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/body over 8 MiB was not verified/);
    expect(agent.pending().some((f) => f.type === "request-head")).toBe(false);
  });

  it("forwards a failing signature in log mode and records the failure", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { ...policy, verifyMode: "log" } });
    const res = publicFetch(name, "/hook", { method: "POST", body: "{}", headers: { "X-Hub-Signature-256": "sha256=00" } });
    const head = await agent.next("request-head");
    expect(head.note).toMatch(/signature failed: .*\(log mode\)/);
    await agent.body(head.stream);
    agent.respond(head.stream, { body: "seen" });
    expect((await res).status).toBe(200);
    expect((await lastCapture(name)).verification).toMatchObject({ ok: false, mode: "log" });
  });
});

describe("re-signed replay", () => {
  const SLACK = "8f742231b10e8888abcd99yyyzzz85a5";

  async function slackSignature(timestamp: string, body: string): Promise<string> {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SLACK), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`v0:${timestamp}:${body}`)));
    return `v0=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  it("mints a fresh timestamp and signature for a stale capture; a verbatim replay is forwarded but fails its check", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { verify: [`slack:${SLACK}`] } });
    const body = "token=x&command=%2Fdeploy";
    const stale = String(Math.floor(Date.now() / 1000) - 600);
    const res = await publicFetch(name, "/slack", {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stale,
        "X-Slack-Signature": await slackSignature(stale, body),
      },
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/timestamp 6\d\d s outside the 300 s tolerance/);
    const original = await lastCapture(name);

    const replay = api<{ id: string; status: number }>(name, `/captures/${original.id}/replay`, {
      method: "POST",
      body: JSON.stringify({ resign: true }),
    });
    const head = await agent.next("request-head");
    expect(head.note).toMatch(/slack signature valid/);
    const header = (k: string) => head.headers.find(([n]) => n.toLowerCase() === k)?.[1] ?? "";
    const fresh = header("x-slack-request-timestamp");
    expect(Number(fresh)).toBeGreaterThan(Number(stale) + 500);
    expect(header("x-slack-signature")).toBe(await slackSignature(fresh, body));
    expect(new TextDecoder().decode(await agent.body(head.stream))).toBe(body);
    agent.respond(head.stream, { body: "ok" });
    expect((await replay).status).toBe(200);

    const verbatim = api<{ id: string; status: number }>(name, `/captures/${original.id}/replay`, { method: "POST", body: "{}" });
    const again = await agent.next("request-head");
    expect(again.note).toMatch(/slack signature failed: timestamp .* \(log mode\)/);
    await agent.body(again.stream);
    agent.respond(again.stream, { body: "ok" });
    expect((await verbatim).status).toBe(200);
  });

  it("forwards a provider handshake (Slack url_verification) to the local app, verified and named", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { verify: [`slack:${SLACK}`] } });
    const body = '{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    const now = String(Math.floor(Date.now() / 1000));
    const res = publicFetch(name, "/slack/events", {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": now,
        "X-Slack-Signature": await slackSignature(now, body),
      },
    });
    const head = await agent.next("request-head");
    expect(head.note).toBe("slack signature valid, url_verification");
    await agent.body(head.stream);
    agent.respond(head.stream, { body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    expect(await (await res).text()).toMatch(/^3eZb/);
    expect((await lastCapture(name)).verification).toMatchObject({ ok: true, handshake: "url_verification" });
  });

  it("refuses to re-sign for a provider whose signing secret the relay does not hold", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { verify: [`github:${SECRET}`], verifyMode: "log" } });
    const res = publicFetch(name, "/plain", { method: "POST", body: "{}" });
    const head = await agent.next("request-head");
    await agent.body(head.stream);
    agent.respond(head.stream, { body: "ok" });
    await res;
    const original = await lastCapture(name);
    await api(name, "/policy", { method: "PUT", body: JSON.stringify({ verify: ["gitlab:tok"], verifyMode: "log" }) });
    await expect(api(name, `/captures/${original.id}/replay`, { method: "POST", body: '{"resign":true}' })).rejects.toThrow(/400.*cannot/i);
  });
});

describe("GitLab's token", () => {
  it("is redacted in the capture, and a re-signed replay puts the configured token back", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name, { policy: { verify: ["gitlab:glpat-secret-token"] } });
    const res = publicFetch(name, "/gitlab", { method: "POST", body: "{}", headers: { "X-Gitlab-Token": "glpat-secret-token" } });
    const head = await agent.next("request-head");
    expect(head.headers).toContainEqual(["x-gitlab-token", "glpat-secret-token"]);
    await agent.body(head.stream);
    agent.respond(head.stream, { body: "ok" });
    await res;
    const capture = await lastCapture(name);
    expect(capture.request.headers).toContainEqual(["x-gitlab-token", "[redacted]"]);
    expect(JSON.stringify(capture)).not.toMatch(/glpat-secret-token/);
    const replay = api(name, `/captures/${capture.id}/replay`, { method: "POST", body: '{"resign":true}' });
    const again = await agent.next("request-head");
    expect(again.headers).toContainEqual(["x-gitlab-token", "glpat-secret-token"]);
    expect(again.note).toMatch(/gitlab .*valid/);
    await agent.body(again.stream);
    agent.respond(again.stream, { body: "ok" });
    await replay;
  });
});

describe("the policy API", () => {
  it("sets and shows a tunnel's policy without its secrets, and rejects an invalid one with 400", async () => {
    const name = uniqueName();
    await FakeAgent.connect(name);
    expect(await api(name, "/policy")).toMatchObject({ verify: [], verifyMode: "enforce", access: "", summary: "" });
    const set = await api<{ summary: string }>(name, "/policy", {
      method: "PUT",
      body: JSON.stringify({ verify: [`github:${SECRET}`], access: { bearer: ["tok-123"] } }),
    });
    expect(set.summary).toMatch(/verify github \(enforce\).*bearer/);
    expect(JSON.stringify(await api(name, "/policy"))).not.toMatch(/tok-123|Secret/);
    expect((await publicFetch(name, "/")).status).toBe(401);
    await expect(api(name, "/policy", { method: "PUT", body: JSON.stringify({ access: { allowIp: ["10.0.0.0/33"] } }) })).rejects.toThrow(
      /400.*33/,
    );
    await expect(api(name, "/policy", { method: "PUT", body: "not json" })).rejects.toThrow(/400.*not JSON/);
  });
});
