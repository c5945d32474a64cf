// Hibernation, simulated with evictDurableObject: the instance and its memory go, the agent
// socket with its tags and attachment stays, and the tunnel must carry on from those alone.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../worker/protocol";
import type { Tunnel } from "../../worker/tunnel";
import { FakeAgent, roundTrip } from "./fake-agent";
import { publicFetch, uniqueName, within } from "./helpers";

const stubFor = (name: string) => env.TUNNEL.get(env.TUNNEL.idFromName(name));

/** Evicts the tunnel's instance, after marking it so the test can tell a new instance from the old. */
async function hibernate(name: string): Promise<void> {
  const stub = stubFor(name);
  await runInDurableObject(stub, (instance: Tunnel) => {
    Object.assign(instance, { marker: "old instance" });
  });
  await evictDurableObject(stub, { webSockets: "hibernate" });
}

/** True when the running instance is not the one `hibernate` marked. */
function isNewInstance(name: string): Promise<boolean> {
  return runInDurableObject(stubFor(name), (instance: Tunnel) => !("marker" in instance));
}

describe("after an eviction", () => {
  it("serves public requests through the same agent socket", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    expect(await (await roundTrip(agent, name, "/before")).text()).toBe("pong /before");
    await hibernate(name);
    expect(await (await roundTrip(agent, name, "/after")).text()).toBe("pong /after");
    expect(await isNewInstance(name)).toBe(true);
    expect(agent.pending()).toEqual([]);
  });

  it("keeps the agent socket open with its attachment", async () => {
    const name = uniqueName();
    await FakeAgent.connect(name);
    await hibernate(name);
    const sockets = await runInDurableObject(stubFor(name), (_, state) =>
      state.getWebSockets("agent").map((ws) => ({ open: ws.readyState === WebSocket.OPEN, att: ws.deserializeAttachment() })),
    );
    expect(sockets).toEqual([{ open: true, att: expect.objectContaining({ role: "agent", tunnel: name, agentId: "a1" }) }]);
  });

  it("still knows the name is taken", async () => {
    const name = uniqueName();
    const owner = await FakeAgent.connect(name, { agentId: "owner" });
    await hibernate(name);
    const intruder = await FakeAgent.open(name);
    intruder.hello({ agentId: "intruder" });
    expect(await intruder.next("error")).toMatchObject({ code: "name-in-use" });
    expect(await intruder.closeEvent()).toMatchObject({ code: CloseCode.nameInUse });
    expect(await (await roundTrip(owner, name)).text()).toBe("pong /ping");
  });

  it("rejects garbage from the restored agent like from a fresh one", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    await hibernate(name);
    agent.sendRaw(new Uint8Array([1, 2, 3]));
    expect(await agent.next("error")).toMatchObject({ code: "protocol-error" });
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.protocolError });
  });

  it("holds requests through the grace when the agent left while the tunnel slept", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    await hibernate(name);
    agent.close(1001, "bye");
    await agent.closeEvent();
    const res = await within(publicFetch(name, "/"), 4_000, "tunnel-offline");
    expect(res.status).toBe(503);
    expect(res.headers.get("X-Porthole-Error")).toBe("tunnel-offline");
  });
});
