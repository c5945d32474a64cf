// The agent's side of the tunnel policy, against a scripted relay: the policy goes in the hello only
// until a relay has accepted it, so a reconnect never undoes a change made through the API, and an
// agent whose rules a relay ignored stops instead of leaving the URL open.

import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { type AgentEvent, startAgent } from "../../agent-cli/agent";
import { parseTarget } from "../../agent-cli/target";
import { CloseCode, decodeAgentMessage, encodeFrame, type Hello, PROTOCOL_VERSION } from "../../worker/protocol";

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A relay that answers each hello with ready (describing `policy`) and records the hellos. */
async function scriptedRelay(policy: string, onHello: (hello: Hello, ws: import("ws").WebSocket) => void = () => {}) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const hellos: Hello[] = [];
  server.on("connection", (ws) => {
    ws.once("message", (data) => {
      const [hello] = decodeAgentMessage(new Uint8Array(data as Buffer));
      if (hello?.type !== "hello") return ws.close(1002, "expected hello");
      hellos.push(hello);
      ws.send(
        encodeFrame({ type: "ready", version: PROTOCOL_VERSION, name: "p", url: "http://p.localhost", pathUrl: "http://x/t/p", policy }),
      );
      onHello(hello, ws);
    });
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hellos };
}

const policy = { verify: [], verifyMode: "enforce" as const, access: { bearer: ["tok-123"] } };

it("sends the policy in the first hello only, so a reconnect keeps what the relay has", async () => {
  let connections = 0;
  const relay = await scriptedRelay("bearer (1 token)", (_hello, ws) => {
    // The first connection drops at once, as a relay restart would.
    if (++connections === 1) setTimeout(() => ws.close(CloseCode.serviceRestart, "restart"), 50);
  });
  const agent = startAgent({ relay: relay.url, token: "t", name: "p", target: parseTarget("1"), policy, heartbeatMs: 1000 });
  try {
    await expect.poll(() => relay.hellos.length, { timeout: 10_000 }).toBe(2);
    expect(relay.hellos[0]?.policy).toEqual(policy);
    expect(relay.hellos[1]?.policy).toBeUndefined();
  } finally {
    await agent.close();
  }
});

it("stops with policy-ignored when it sent rules and the relay reports none in force", async () => {
  const relay = await scriptedRelay("");
  const events: AgentEvent[] = [];
  const agent = startAgent({ relay: relay.url, token: "t", name: "p", target: parseTarget("1"), policy, onEvent: (e) => events.push(e) });
  await expect(agent.done).rejects.toThrow(/did not apply the tunnel's --verify and access options/);
  expect(events.some((e) => e.event === "ready")).toBe(false);
  expect(events.at(-1)).toMatchObject({ event: "fatal", code: "policy-ignored" });
});
