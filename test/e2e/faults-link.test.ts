// Fault injection on the agent's link to the relay: a proxy the test controls sits between them and
// cuts, stalls and resumes the connection. The public client must see a clean error or a held-then-served
// request, never a hang; the agent must come back on its own; every request must show up in the captures.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectAccounted, readyAgain, uploadUntilCut, within } from "./fault-kit";
import { type AgentProcess, fetchUrl, hostUrl, type RelayProcess, readUntilBroken, spawnCli, startRelay, TOKEN } from "./harness";
import { type Origin, startOrigin } from "./origin";
import { type RelayProxy, startRelayProxy } from "./relay-proxy";

/** Heartbeat period for these agents; the README promises detection after three silent periods. */
const HEARTBEAT_S = 0.5;

let relay: RelayProcess;
let origin: Origin;
let proxy: RelayProxy;
const spawned: AgentProcess[] = [];
/** Measured times, printed once at the end so the README's numbers can be checked against a run. */
const measured: Record<string, number> = {};

/** An agent for `name` whose relay connection runs through the proxy. */
async function linkedAgent(name: string): Promise<AgentProcess> {
  const args = ["http", String(origin.port), "--relay", proxy.url, "--token", TOKEN, "--name", name, "--json"];
  const agent = spawnCli([...args, "--heartbeat", String(HEARTBEAT_S)]);
  spawned.push(agent);
  await agent.waitFor((e) => e.event === "ready");
  return agent;
}

/** Opens an endless event stream on the tunnel and reads its first event. */
async function openStream(name: string, tag: string) {
  const res = await fetchUrl(hostUrl(relay, name, `/stream?interval=50&req=${tag}`));
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  return reader;
}

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay({ graceSeconds: 5 }), startOrigin()]);
  proxy = await startRelayProxy(relay.url, { upgrades: true });
});

afterEach(async () => {
  proxy.resume();
  await Promise.all(spawned.splice(0).map((a) => a.kill("SIGKILL")));
});

afterAll(async () => {
  console.log(`fault timings (ms): ${JSON.stringify(measured)}`);
  await proxy?.close();
  await relay?.stop();
  await origin?.close();
});

describe("link cut", () => {
  it("while idle: the agent reconnects within a second and a request sent during the gap is held, then served", async () => {
    const agent = await linkedAgent("flt-idle");
    const cutAt = performance.now();
    proxy.cut();
    const held = fetchUrl(hostUrl(relay, "flt-idle", "/echo?req=held"));
    measured.reconnectAfterCut = await readyAgain(agent, cutAt);
    expect(agent.events.find((e) => e.event === "reconnecting")).toMatchObject({ attempt: 1 });
    // The first retry waits 125-250 ms; the rest is the WebSocket handshake and the hello.
    expect(measured.reconnectAfterCut).toBeLessThan(1500);
    expect((await held).status).toBe(200);
    expect((await fetchUrl(hostUrl(relay, "flt-idle", "/echo?req=after"))).status).toBe(200);
    await expectAccounted(relay.url, "flt-idle", { held: "answered", after: "answered" });
  });

  it("during an upload: the client gets 503 tunnel-offline at once, and the next upload passes", async () => {
    const agent = await linkedAgent("flt-upload");
    const cutAt = performance.now();
    const got = await uploadUntilCut(hostUrl(relay, "flt-upload", "/upload?req=cut"), () => proxy.cut());
    measured.uploadErrorAfterCut = Math.round(performance.now() - cutAt);
    if (got instanceof Error) throw new Error(`the upload failed instead of getting the relay's answer: ${got.message}`);
    const res = got;
    expect(res.status).toBe(503);
    expect(res.headers.get("x-porthole-error")).toBe("tunnel-offline");
    expect(await res.text()).toMatch(/flt-upload/);
    await readyAgain(agent, cutAt);
    const again = await fetchUrl(hostUrl(relay, "flt-upload", "/upload?req=again"), { method: "POST", body: new Uint8Array(1024 * 1024) });
    expect(await again.json()).toMatchObject({ length: 1024 * 1024 });
    await expectAccounted(relay.url, "flt-upload", { cut: "failed", again: "answered" });
  });

  it("during an SSE stream: the stream breaks off within a second, and a new stream flows after the reconnect", async () => {
    const agent = await linkedAgent("flt-sse");
    const reader = await openStream("flt-sse", "cut");
    const cutAt = performance.now();
    proxy.cut();
    expect(await within(5000, readUntilBroken(reader))).not.toBe("hang");
    measured.sseBrokenAfterCut = Math.round(performance.now() - cutAt);
    expect(measured.sseBrokenAfterCut).toBeLessThan(1000);
    await readyAgain(agent, cutAt);
    const next = await openStream("flt-sse", "again");
    await next.cancel();
    const outcomes = await expectAccounted(relay.url, "flt-sse", { cut: "failed", again: "failed" });
    expect(outcomes).toEqual({ cut: "agent-gone", again: "client-aborted" });
  });
});

describe("link stalled", () => {
  it("a silent link is detected within three heartbeats; the stream fails and the agent comes back", async () => {
    const agent = await linkedAgent("flt-stall");
    const reader = await openStream("flt-stall", "stalled");
    const stalledAt = performance.now();
    proxy.stall();
    expect(await within(10_000, readUntilBroken(reader))).not.toBe("hang");
    measured.sseBrokenAfterStall = Math.round(performance.now() - stalledAt);
    const dropped = await agent.waitFor((e) => e.event === "disconnected");
    expect(String(dropped.reason)).toMatch(/heartbeat: no answer from the relay/);
    measured.reconnectAfterStall = await readyAgain(agent, stalledAt);
    // Three silent periods, plus up to one period until the next check, plus a second for delivery on a busy CI machine.
    const bound = 4 * HEARTBEAT_S * 1000 + 1000;
    expect(measured.sseBrokenAfterStall).toBeGreaterThan(3 * HEARTBEAT_S * 1000);
    expect(measured.sseBrokenAfterStall).toBeLessThan(bound);
    expect((await fetchUrl(hostUrl(relay, "flt-stall", "/echo?req=after"))).status).toBe(200);
    await expectAccounted(relay.url, "flt-stall", { stalled: "failed", after: "answered" });
  });

  it("a stall shorter than three heartbeats is ridden out: the stream resumes where it was, nothing lost", async () => {
    const agent = await linkedAgent("flt-blip");
    const res = await fetchUrl(hostUrl(relay, "flt-blip", "/stream?interval=50&n=60&req=blip"));
    const text = res.text();
    proxy.stall();
    // One heartbeat period of silence: less than the three it takes to declare the link dead.
    await new Promise((r) => setTimeout(r, HEARTBEAT_S * 1000));
    proxy.resume();
    const ids = [...(await text).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(agent.events.some((e) => e.event === "disconnected")).toBe(false);
    await expectAccounted(relay.url, "flt-blip", { blip: "answered" });
  });
});
