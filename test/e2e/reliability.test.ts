// Dying and returning peers: agents that vanish, restart or collide, relays that restart, idle tunnels that hibernate.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentFatalError, startAgent as startAgentInProcess } from "../../agent-cli/agent";
import { parseTarget } from "../../agent-cli/target";
import {
  type AgentProcess,
  fetchUrl,
  freePort,
  hostUrl,
  once,
  openWebSocket,
  type RelayProcess,
  readUntilBroken,
  spawnCli,
  startAgent,
  startRelay,
  TOKEN,
} from "./harness";
import { type Origin, startOrigin } from "./origin";

let relay: RelayProcess;
let origin: Origin;
const spawned: AgentProcess[] = [];

async function agentFor(name: string, extra: string[] = [], port = origin.port) {
  const started = await startAgent(relay, port, name, extra);
  spawned.push(started.agent);
  return started.agent;
}

function spawnAgent(name: string, extra: string[] = [], opts: { node?: string; relayUrl?: string; token?: string } = {}) {
  const child = spawnCli(
    [
      "http",
      String(origin.port),
      "--relay",
      opts.relayUrl ?? relay.url,
      "--token",
      opts.token ?? TOKEN,
      "--name",
      name,
      "--json",
      ...extra,
    ],
    { node: opts.node },
  );
  spawned.push(child);
  return child;
}

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay({ graceSeconds: 2, logs: true }), startOrigin()]);
});

afterEach(async () => {
  await Promise.all(spawned.splice(0).map((a) => a.kill("SIGKILL")));
});

afterAll(async () => {
  await relay?.stop();
  await origin?.close();
});

describe("agent away", () => {
  it("holds requests for the grace period, then answers 503 tunnel-offline with Retry-After", async () => {
    const agent = await agentFor("rel-offline");
    await agent.kill("SIGKILL");
    const started = performance.now();
    const res = await fetchUrl(hostUrl(relay, "rel-offline", "/echo"));
    const waited = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get("x-porthole-error")).toBe("tunnel-offline");
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.text()).toMatch(/Tunnel "rel-offline" is offline/);
    expect(waited).toBeGreaterThan(1500);
    expect(waited).toBeLessThan(8000);
  });

  it("serves a held request once the agent is back within the grace", async () => {
    const first = await agentFor("rel-back");
    await first.kill("SIGKILL");
    const pending = fetchUrl(hostUrl(relay, "rel-back", "/echo"));
    await agentFor("rel-back");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toBe("/echo");
  });

  it("an agent killed mid-stream fails the client within seconds, not a hang", async () => {
    const agent = await agentFor("rel-kill");
    const res = await fetchUrl(hostUrl(relay, "rel-kill", "/stream?interval=100"));
    const reader = res.body!.getReader();
    await reader.read();
    const killedAt = performance.now();
    await agent.kill("SIGKILL");
    const outcome = await readUntilBroken(reader);
    // The stream never ends cleanly on its own (it is endless), so any end is the tunnel failing it.
    expect(["errored", "ended"]).toContain(outcome);
    expect(performance.now() - killedAt).toBeLessThan(5000);
  });

  it("an agent that stops answering without closing (half-open) is declared dead after three heartbeats", async () => {
    const agent = await agentFor("rel-frozen", ["--heartbeat", "0.5"]);
    const res = await fetchUrl(hostUrl(relay, "rel-frozen", "/stream?interval=100"));
    const reader = res.body!.getReader();
    await reader.read();
    // A stopped process keeps its TCP connection open but says nothing, like a laptop that went to sleep.
    agent.child.kill("SIGSTOP");
    const frozenAt = performance.now();
    try {
      const outcome = await readUntilBroken(reader);
      expect(["errored", "ended"]).toContain(outcome);
      expect(performance.now() - frozenAt).toBeLessThan(6000);
      const next = await fetchUrl(hostUrl(relay, "rel-frozen", "/echo"));
      expect(next.status).toBe(503);
      expect(next.headers.get("x-porthole-error")).toBe("tunnel-offline");
    } finally {
      agent.child.kill("SIGCONT");
    }
  });

  it("after an agent restart while idle, the next request succeeds", async () => {
    const first = await agentFor("rel-restart");
    await first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await agentFor("rel-restart");
    const res = await fetchUrl(hostUrl(relay, "rel-restart", "/echo"));
    expect(res.status).toBe(200);
  });

  it("a local port that is down answers 502 local-unreachable, naming the tunnel", async () => {
    await agentFor("rel-down", [], await freePort());
    const res = await fetchUrl(hostUrl(relay, "rel-down", "/x"));
    expect(res.status).toBe(502);
    expect(res.headers.get("x-porthole-error")).toBe("local-unreachable");
    expect(await res.text()).toMatch(/Tunnel "rel-down" could not complete "GET \/x": .*unreachable \(ECONNREFUSED\)/);
  });
});

describe("name ownership", () => {
  it("rejects a second agent for a name that is online, and --force takes the name over", async () => {
    const first = await agentFor("rel-owned");
    const second = spawnAgent("rel-owned");
    expect(await second.exited).toBe(1);
    expect(second.events.find((e) => e.event === "fatal")).toMatchObject({ code: "name-in-use" });
    expect((await fetchUrl(hostUrl(relay, "rel-owned", "/echo"))).status).toBe(200);

    const third = spawnAgent("rel-owned", ["--force"]);
    await third.waitFor((e) => e.event === "ready");
    expect(await first.exited).toBe(1);
    expect(first.events.find((e) => e.event === "fatal")).toMatchObject({ code: "replaced" });
    expect((await fetchUrl(hostUrl(relay, "rel-owned", "/echo"))).status).toBe(200);
  });

  it("startAgent().ready rejects on a fatal error instead of hanging", async () => {
    const agent = startAgentInProcess({ relay: relay.url, token: "wrong", name: "rel-lib", target: parseTarget(String(origin.port)) });
    await expect(agent.ready).rejects.toMatchObject({ code: "unauthorized" });
    await expect(agent.done).rejects.toBeInstanceOf(AgentFatalError);
  });

  it("an agent with a wrong token stops with a clear message instead of retrying", async () => {
    const agent = spawnAgent("rel-token", [], { token: "not-the-token" });
    expect(await agent.exited).toBe(1);
    const fatal = agent.events.find((e) => e.event === "fatal");
    expect(fatal).toMatchObject({ code: "unauthorized" });
    expect(String(fatal?.message)).toMatch(/token is missing or wrong/);
    expect(agent.events.some((e) => e.event === "reconnecting")).toBe(false);
  });
});

describe("relay restart", () => {
  it("the agent reconnects with backoff on its own and serves again", async () => {
    const port = await freePort();
    const own = await startRelay({ port });
    const agent = spawnAgent("rel-relay", [], { relayUrl: own.url });
    await agent.waitFor((e) => e.event === "ready");
    await own.stop();
    await agent.waitFor((e) => e.event === "reconnecting");
    const again = await startRelay({ port });
    try {
      await agent.waitFor((e) => e.event === "ready" && agent.events.indexOf(e) > 0, 30_000);
      const attempts = agent.events.filter((e) => e.event === "reconnecting") as { attempt: number; delayMs: number }[];
      expect(attempts[0]).toMatchObject({ attempt: 1 });
      expect(attempts.every((a) => a.delayMs > 0)).toBe(true);
      const res = await fetchUrl(`${again.url}/t/rel-relay/echo`);
      expect(res.status).toBe(200);
    } finally {
      await again.stop();
    }
  });
});

describe("idle tunnels", () => {
  it("an idle tunnel hibernates and still serves HTTP and its open WebSocket afterwards", async () => {
    await agentFor("rel-idle");
    const ws = openWebSocket(hostUrl(relay, "rel-idle", "/ws").replace("http:", "ws:"), ["chat.v2"]);
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(data.toString()));
    await once(ws, "open");
    const starts = () => relay.process.output.filter((l) => l.includes("tunnel=rel-idle object started")).length;
    const before = starts();
    // Durable Objects hibernate after about 10 s without events; the relay sets no timers that would prevent it.
    await new Promise((r) => setTimeout(r, 12_000));
    ws.send("after idle");
    const res = await fetchUrl(hostUrl(relay, "rel-idle", "/echo"));
    expect(res.status).toBe(200);
    await expect.poll(() => messages.includes("after idle"), { timeout: 5000 }).toBe(true);
    // The object was rebuilt: it really hibernated with the agent socket and the public socket open.
    expect(starts()).toBe(before + 1);
    // Flow-control state restarts after a wake: a message larger than the window must still pass both ways.
    ws.send("x".repeat(600 * 1024));
    await expect.poll(() => messages.some((m) => m.length === 600 * 1024), { timeout: 5000 }).toBe(true);
    ws.close();
  }, 40_000);
});

describe("Node 20", () => {
  it("the agent CLI runs on the machine's Node 20", async () => {
    const agent = spawnAgent("rel-node20", [], { node: "/usr/bin/node" });
    await agent.waitFor((e) => e.event === "ready");
    const res = await fetchUrl(hostUrl(relay, "rel-node20", "/echo"));
    expect(res.status).toBe(200);
  });
});
