// Public WebSockets through the tunnel: the upgrade handshake as ws-open / ws-accept, messages
// both ways as ws-message fragments, closes both ways, and survival across an eviction.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CloseCode, LIMITS } from "../../worker/protocol";
import { FakeAgent } from "./fake-agent";
import { concat, pattern, publicFetch, uniqueName, within } from "./helpers";
import { PublicSocket } from "./public-socket";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Opens a public WebSocket that the fake agent accepts; returns it with its stream id. */
async function openSocket(agent: FakeAgent, name: string, path = "/ws") {
  const upgrade = publicFetch(name, path, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "chat.v2, other" } });
  const open = await agent.next("ws-open");
  agent.send({ type: "ws-accept", stream: open.stream, protocol: "chat.v2" });
  return { open, socket: await PublicSocket.from(upgrade) };
}

describe("the upgrade", () => {
  it("sends ws-open with path, subprotocols and forwarded headers, and answers 101 with the accepted protocol", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name, "/ws?room=1");
    expect(open.path).toBe("/ws?room=1");
    expect(open.protocols).toEqual(["chat.v2", "other"]);
    const names = open.headers.map(([k]) => k.toLowerCase());
    for (const h of ["upgrade", "connection", "sec-websocket-key", "sec-websocket-protocol", "sec-websocket-version"]) {
      expect(names, h).not.toContain(h);
    }
    expect(open.headers).toContainEqual(["X-Forwarded-Host", `${name}.localhost`]);
    expect(socket.response.status).toBe(101);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe("chat.v2");
  });

  it("answers 502 without a socket when the agent refuses the upgrade", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const upgrade = publicFetch(name, "/ws", { headers: { Upgrade: "websocket" } });
    const open = await agent.next("ws-open");
    agent.send({ type: "reset", stream: open.stream, code: "local-unreachable", message: "connect ECONNREFUSED" });
    const res = await within(upgrade, 3_000, "the refusal");
    expect(res.status).toBe(502);
    expect(res.webSocket).toBeNull();
    expect(res.headers.get("X-Porthole-Error")).toBe("local-unreachable");
  });
});

describe("messages", () => {
  it("carries text and binary messages both ways with their type", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    const mine = (f: { stream: number }) => f.stream === open.stream;

    socket.ws.send("hello agent");
    const t = await agent.next("ws-message", mine);
    expect({ binary: t.binary, fin: t.fin, text: text(t.chunk) }).toEqual({ binary: false, fin: true, text: "hello agent" });

    socket.ws.send(new Uint8Array([0, 1, 254, 255]));
    const b = await agent.next("ws-message", mine);
    expect({ binary: b.binary, fin: b.fin, bytes: [...b.chunk] }).toEqual({ binary: true, fin: true, bytes: [0, 1, 254, 255] });

    agent.send({ type: "ws-message", stream: open.stream, binary: false, fin: true, chunk: utf8.encode("hello public") });
    expect(await socket.next()).toBe("hello public");

    agent.send({ type: "ws-message", stream: open.stream, binary: true, fin: true, chunk: new Uint8Array([9, 8, 7]) });
    const got = await socket.next();
    expect(got).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(got as ArrayBuffer)]).toEqual([9, 8, 7]);
  });

  it("reassembles the agent's fragments into one public message", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    agent.send({ type: "ws-message", stream: open.stream, binary: false, fin: false, chunk: utf8.encode("one ") });
    agent.send({ type: "ws-message", stream: open.stream, binary: false, fin: false, chunk: utf8.encode("message, ") });
    agent.send({ type: "ws-message", stream: open.stream, binary: false, fin: true, chunk: utf8.encode("three fragments") });
    expect(await socket.next()).toBe("one message, three fragments");
  });

  it("splits a large public message into fragments of at most LIMITS.maxChunkBytes, fin on the last", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    const message = pattern(3 * LIMITS.maxChunkBytes + 100);
    socket.ws.send(message);
    const parts: Uint8Array[] = [];
    for (;;) {
      const f = await agent.next("ws-message", (x) => x.stream === open.stream);
      expect(f.binary).toBe(true);
      expect(f.chunk.byteLength).toBeLessThanOrEqual(LIMITS.maxChunkBytes);
      parts.push(f.chunk);
      if (f.fin) break;
    }
    expect(parts.length).toBeGreaterThan(1);
    expect(concat(parts)).toEqual(message);
  });

  // A text auto-response would apply to every socket of the object, public ones included, so the
  // agent heartbeat uses protocol pings instead; an app whose protocol says "ping" must see it.
  it("forwards a public text message 'ping' to the agent instead of answering it", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    socket.ws.send("ping");
    socket.ws.send("after");
    const mine = (x: { stream: number }) => x.stream === open.stream;
    expect(text((await agent.next("ws-message", mine)).chunk)).toBe("ping");
    expect(text((await agent.next("ws-message", mine)).chunk)).toBe("after");
  });
});

describe("closes", () => {
  it("tells the agent when the public client closes, with code and reason", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    socket.ws.close(4001, "bye");
    expect(await agent.next("ws-close", (f) => f.stream === open.stream)).toMatchObject({ code: 4001, reason: "bye" });
    expect((await socket.closeEvent()).code).toBe(4001);
  });

  it("closes the public socket with the agent's code and reason", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    agent.send({ type: "ws-close", stream: open.stream, code: 4003, reason: "local server done" });
    expect(await socket.closeEvent()).toEqual({ code: 4003, reason: "local server done" });
  });

  it("closes public sockets with 1012 when the agent disconnects", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { socket } = await openSocket(agent, name);
    agent.close(1001, "agent stopping");
    expect((await socket.closeEvent()).code).toBe(CloseCode.serviceRestart);
  });
});

describe("eviction", () => {
  it("keeps a public WebSocket working in both directions across an eviction", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const { open, socket } = await openSocket(agent, name);
    const mine = (f: { stream: number }) => f.stream === open.stream;
    socket.ws.send("before");
    expect(text((await agent.next("ws-message", mine)).chunk)).toBe("before");

    const stub = env.TUNNEL.get(env.TUNNEL.idFromName(name));
    await runInDurableObject(stub, (instance) => {
      Object.assign(instance, { marker: "old instance" });
    });
    await evictDurableObject(stub, { webSockets: "hibernate" });

    socket.ws.send("after eviction");
    expect(text((await agent.next("ws-message", mine)).chunk)).toBe("after eviction");
    agent.send({ type: "ws-message", stream: open.stream, binary: false, fin: true, chunk: utf8.encode("still here") });
    expect(await socket.next()).toBe("still here");
    expect(await runInDurableObject(stub, (instance) => (instance as unknown as { marker?: string }).marker)).toBeUndefined();

    socket.ws.close(4001, "bye");
    expect(await agent.next("ws-close", mine)).toMatchObject({ code: 4001, reason: "bye" });
  });
});
