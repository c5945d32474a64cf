// The relay's own endpoints and the routing line between them and the tunnels: a tunnel host
// never reaches the control plane, and /_porthole/connect wants the token and a WebSocket.

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../worker/protocol";
import { FakeAgent } from "./fake-agent";
import { connectRequest, publicFetch, RELAY, TOKEN, uniqueName, within } from "./helpers";

describe("control plane", () => {
  it("answers health without auth", async () => {
    const res = await exports.default.fetch(`${RELAY}/_porthole/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, protocol: PROTOCOL_VERSION });
  });

  it.each([
    ["a wrong token", { Authorization: "Bearer wrong-token" }],
    ["no token", {}],
    ["a token that is not a bearer token", { Authorization: `Basic ${TOKEN}` }],
  ])("refuses to connect an agent with %s: 401 unauthorized, no upgrade", async (_, headers: Record<string, string>) => {
    const res = await connectRequest(uniqueName(), headers);
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Porthole-Error")).toBe("unauthorized");
    expect(res.webSocket).toBeNull();
    expect(await res.text()).toMatch(/token/);
  });

  it("refuses a connect that is not a WebSocket upgrade, or names no valid tunnel", async () => {
    const plain = await exports.default.fetch(`${RELAY}/_porthole/connect?name=${uniqueName()}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(plain.status).toBe(400);
    expect(plain.headers.get("X-Porthole-Error")).toBe("bad-request");
    for (const name of ["", "Upper", "-dash", "a_b", "x".repeat(64)]) {
      const res = await connectRequest(name);
      expect(res.status, name).toBe(400);
      expect(res.webSocket, name).toBeNull();
    }
  });

  it("answers an unknown control-plane path and a bare relay path with the relay's own errors", async () => {
    const unknown = await exports.default.fetch(`${RELAY}/_porthole/nope`);
    expect(unknown.headers.get("X-Porthole-Error")).toBe("bad-request");
    const bare = await exports.default.fetch(`${RELAY}/`);
    expect(bare.status).toBe(404);
    expect(bare.headers.get("X-Porthole-Error")).toBe("tunnel-not-found");
  });
});

describe("a tunnel host never reaches the control plane", () => {
  it("forwards /_porthole/connect on a tunnel host to the agent as a plain request", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/_porthole/connect?name=other", { headers: { Authorization: `Bearer ${TOKEN}` } });
    const head = await agent.serveNext({ status: 200, body: "from the local server" });
    expect(head).toMatchObject({ method: "GET", path: "/_porthole/connect?name=other" });
    expect(await (await within(res, 3_000, "the response")).text()).toBe("from the local server");
  });

  it("forwards a WebSocket upgrade to /_porthole/connect on a tunnel host to the agent as ws-open", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/_porthole/connect?name=other", {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${TOKEN}` },
    });
    const open = await agent.next("ws-open");
    expect(open.path).toBe("/_porthole/connect?name=other");
    agent.send({ type: "reset", stream: open.stream, code: "local-unreachable", message: "refused" });
    expect((await within(res, 3_000, "the response")).status).toBe(502);
  });

  it("overwrites a client-sent route header and never forwards it", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const forged = JSON.stringify({ kind: "connect", name, url: "http://evil", pathUrl: "http://evil" });
    const res = publicFetch(name, "/forged", { headers: { "X-Porthole-Route": forged } });
    const head = await agent.serveNext({ status: 200, body: "ok" });
    expect(head.path).toBe("/forged");
    expect(head.headers.map(([k]) => k.toLowerCase())).not.toContain("x-porthole-route");
    expect((await within(res, 3_000, "the response")).status).toBe(200);
  });

  it("forwards /_porthole/health on a tunnel host to the agent", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/_porthole/health");
    expect((await agent.serveNext({ status: 418, body: "teapot" })).path).toBe("/_porthole/health");
    expect((await within(res, 3_000, "the response")).status).toBe(418);
  });
});

describe("path mode", () => {
  it("forwards /t/<name>/rest as /rest with X-Forwarded-Prefix", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = exports.default.fetch(`${RELAY}/t/${name}/api/items?q=1`);
    const head = await agent.serveNext({ status: 200, body: "path mode" });
    expect(head.path).toBe("/api/items?q=1");
    expect(head.headers).toContainEqual(["X-Forwarded-Prefix", `/t/${name}`]);
    expect(head.headers).toContainEqual(["X-Forwarded-Host", "relay.test"]);
    expect(await (await within(res, 3_000, "the response")).text()).toBe("path mode");
  });

  it("forwards /t/<name> with no trailing path as /", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = exports.default.fetch(`${RELAY}/t/${name}`);
    expect((await agent.serveNext()).path).toBe("/");
    expect((await within(res, 3_000, "the response")).status).toBe(200);
  });
});
