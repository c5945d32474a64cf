// The agent's side of a tunnel's life: handshake, version check, name ownership, reconnects,
// and what public clients see when there is no agent.

import { describe, expect, it } from "vitest";
import { CloseCode, PROTOCOL_VERSION } from "../../worker/protocol";
import { FakeAgent, roundTrip } from "./fake-agent";
import { pause, publicFetch, uniqueName, within } from "./helpers";

describe("hello", () => {
  it("answers hello with ready, carrying the name and both public URLs", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    expect(agent.ready).toEqual({
      type: "ready",
      version: PROTOCOL_VERSION,
      name,
      url: `http://${name}.localhost`,
      pathUrl: `http://relay.test/t/${name}`,
      policy: "",
    });
    const res = await roundTrip(agent, name);
    expect(await res.text()).toBe("pong /ping");
  });

  it("rejects a protocol version mismatch with an error naming both versions, then closes 4002", async () => {
    const agent = await FakeAgent.open(uniqueName());
    agent.hello({ version: PROTOCOL_VERSION + 98 });
    const error = await agent.next("error");
    expect(error.code).toBe("version-mismatch");
    expect(error.message).toContain(String(PROTOCOL_VERSION + 98));
    expect(error.message).toContain(String(PROTOCOL_VERSION));
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.versionMismatch });
  });

  it("rejects a frame before hello and a second hello as protocol errors", async () => {
    const early = await FakeAgent.open(uniqueName());
    early.send({ type: "end", stream: 7 });
    expect(await early.next("error")).toMatchObject({ code: "protocol-error" });
    expect(await early.closeEvent()).toMatchObject({ code: CloseCode.protocolError });

    const twice = await FakeAgent.connect(uniqueName());
    twice.hello();
    expect(await twice.next("error")).toMatchObject({ code: "protocol-error" });
    expect(await twice.closeEvent()).toMatchObject({ code: CloseCode.protocolError });
  });
});

describe("name ownership", () => {
  it("refuses a second agent for a taken name with name-in-use and 4009; the first keeps serving", async () => {
    const name = uniqueName();
    const first = await FakeAgent.connect(name, { agentId: "first" });
    const second = await FakeAgent.open(name);
    second.hello({ agentId: "second" });
    const error = await second.next("error");
    expect(error.code).toBe("name-in-use");
    expect(error.message).toContain(name);
    expect(await second.closeEvent()).toMatchObject({ code: CloseCode.nameInUse });
    expect(await (await roundTrip(first, name)).text()).toBe("pong /ping");
  });

  it("lets a second agent with force take the name: the old one gets goaway and 4010", async () => {
    const name = uniqueName();
    const old = await FakeAgent.connect(name, { agentId: "old" });
    const taker = await FakeAgent.connect(name, { agentId: "new", force: true });
    expect(await old.next("goaway")).toMatchObject({ code: "replaced" });
    expect(await old.closeEvent()).toMatchObject({ code: CloseCode.replaced });
    expect(await (await roundTrip(taker, name)).text()).toBe("pong /ping");
  });

  it("lets the same agentId replace its stale socket without force", async () => {
    const name = uniqueName();
    const stale = await FakeAgent.connect(name, { agentId: "same" });
    const fresh = await FakeAgent.connect(name, { agentId: "same" });
    expect(await stale.closeEvent()).toMatchObject({ code: CloseCode.replaced });
    expect(await (await roundTrip(fresh, name)).text()).toBe("pong /ping");
    expect(stale.pending().filter((f) => f.type === "request-head")).toEqual([]);
  });
});

describe("no agent", () => {
  it("answers 404 tunnel-not-found at once for a name no agent ever used", async () => {
    const started = Date.now();
    const res = await publicFetch(uniqueName(), "/");
    expect(res.status).toBe(404);
    expect(res.headers.get("X-Porthole-Error")).toBe("tunnel-not-found");
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("holds a request through the reconnect grace, then answers 503 tunnel-offline with Retry-After", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    agent.close();
    await agent.closeEvent();
    const started = Date.now();
    const res = await within(publicFetch(name, "/held"), 4_000, "tunnel-offline");
    const waited = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get("X-Porthole-Error")).toBe("tunnel-offline");
    expect(res.headers.get("Retry-After")).toBe("1");
    expect(await res.text()).toContain(name);
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(3_000);
  });

  it("serves a held request once the agent reconnects within the grace", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    agent.close();
    await agent.closeEvent();
    const res = publicFetch(name, "/held");
    await pause(200); // The request is now waiting inside the grace period.
    const back = await FakeAgent.connect(name);
    const head = await back.serveNext({ status: 200, body: "served after reconnect" });
    expect(head.path).toBe("/held");
    const answered = await within(res, 2_000, "the held response");
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe("served after reconnect");
  });
});
