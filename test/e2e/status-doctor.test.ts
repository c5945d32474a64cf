// `porthole status` and `porthole doctor` against a real relay, a real origin, a closed port, and a
// proxy that drops WebSocket upgrades or keeps a skewed clock.

import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../worker/protocol";
import { type RelayProcess, spawnCli, startAgent, startRelay, TOKEN } from "./harness";
import { type Origin, startOrigin } from "./origin";
import { startRelayProxy } from "./relay-proxy";

const CHECKS = ["relay-reachable", "token-accepted", "clock-skew", "local-port", "node-version", "websocket-upgrade"];

let relay: RelayProcess;
let origin: Origin;

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay(), startOrigin()]);
});

afterAll(async () => {
  await relay?.stop();
  await origin?.close();
});

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs the CLI to its end: exit code, JSON events and other lines. */
async function run(args: string[], node?: string) {
  const cli = spawnCli(args, { node });
  const code = await cli.exited;
  return { code, events: cli.events, text: cli.output.join("\n") };
}

/** Runs doctor with --json and returns each check's status by name, in the order printed. */
async function doctor(args: string[], node?: string) {
  const { code, events } = await run(["doctor", ...args, "--json"], node);
  const checks = events.filter((e) => e.event === "check") as { check: string; status: string; message: string; fix?: string }[];
  return {
    code,
    checks,
    status: Object.fromEntries(checks.map((c) => [c.check, c.status])),
    byName: new Map(checks.map((c) => [c.check, c])),
  };
}

describe("porthole status", () => {
  it("shows the relay and each tunnel, online with the time it connected, then offline when its agent stops", async () => {
    const { agent } = await startAgent(relay, origin.port, "status-a");
    try {
      const online = await run(["status", "--relay", relay.url, "--token", TOKEN, "--json"]);
      expect(online.code).toBe(0);
      const [status] = online.events;
      expect(status).toMatchObject({ event: "status", relay: relay.url, reachable: true, protocol: PROTOCOL_VERSION });
      const tunnel = (status!.tunnels as { name: string; online: boolean; connectedAt: number }[]).find((t) => t.name === "status-a");
      expect(tunnel).toMatchObject({ name: "status-a", online: true });
      expect(Math.abs(tunnel!.connectedAt - Date.now())).toBeLessThan(60_000);
      const human = await run(["status", "--relay", relay.url, "--token", TOKEN]);
      expect(human.text).toMatch(new RegExp(`^relay {4}${relay.url} {2}reachable in \\d+ ms, protocol ${PROTOCOL_VERSION}$`, "m"));
      expect(human.text).toMatch(/^ {2}status-a +online {3}since \d\d:\d\d:\d\d \(\d+s ago\) {2}0 captures$/m);
    } finally {
      await agent.kill();
    }
    const offline = await run(["status", "--relay", relay.url, "--token", TOKEN]);
    expect(offline.text).toMatch(/^ {2}status-a +offline {2}last connected \d\d:\d\d:\d\d \(\d+s ago\) {2}0 captures$/m);
  });

  it("fails with exit code 1 and the cause when the relay is unreachable or refuses the token", async () => {
    const down = await run(["status", "--relay", `http://127.0.0.1:${await closedPort()}`, "--token", TOKEN]);
    expect(down.code).toBe(1);
    expect(down.text).toMatch(/is not usable: nothing accepts connections at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n {2}fix: start the relay/);
    const refused = await run(["status", "--relay", relay.url, "--token", "wrong"]);
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(/^porthole: Cannot list tunnels: the bearer token [^\n]*\(unauthorized\)$/m);
    const usage = await run(["status"]);
    expect(usage.code).toBe(2);
    expect(usage.text).toContain('"porthole status" asks a relay: pass --relay URL or set PORTHOLE_RELAY');
  });
});

describe("porthole doctor", () => {
  it("passes every check, in order, against a healthy relay and an open port, and leaves no tunnel behind", async () => {
    const { code, checks } = await doctor([String(origin.port), "--relay", relay.url, "--token", TOKEN]);
    expect(checks.map((c) => c.check)).toEqual(CHECKS);
    // A local relay sends no Date header, so the clock check has nothing to compare.
    expect(checks.map((c) => c.status)).toEqual(["pass", "pass", "skip", "pass", "pass", "pass"]);
    expect(checks[5]!.message).toMatch(/\/_porthole\/connect upgraded to a WebSocket in \d+ ms/);
    expect(code).toBe(0);
    const { events } = await run(["status", "--relay", relay.url, "--token", TOKEN, "--json"]);
    const names = (events[0]!.tunnels as { name: string }[]).map((t) => t.name);
    expect(names.filter((n) => n.startsWith("porthole-doctor"))).toEqual([]);
  });

  it("names each failure with its fix and exits 1: a wrong token, a closed port, an unreachable relay", async () => {
    const port = await closedPort();
    const wrong = await doctor([String(port), "--relay", relay.url, "--token", "wrong"]);
    expect(wrong.code).toBe(1);
    expect(wrong.status).toMatchObject({
      "relay-reachable": "pass",
      "token-accepted": "fail",
      "local-port": "fail",
      "websocket-upgrade": "skip",
    });
    expect(wrong.byName.get("token-accepted")).toMatchObject({
      message: expect.stringMatching(/^the relay refused the token: Cannot list tunnels: the bearer token/),
      fix: expect.stringContaining("--token, PORTHOLE_TOKEN"),
    });
    expect(wrong.byName.get("local-port")).toMatchObject({
      message: `nothing listens on localhost:${port}`,
      fix: expect.stringContaining("start your server"),
    });
    const down = await doctor(["--relay", `http://127.0.0.1:${port}`, "--token", TOKEN]);
    expect(down.code).toBe(1);
    expect(down.status).toMatchObject({ "relay-reachable": "fail", "token-accepted": "skip", "clock-skew": "skip", "local-port": "skip" });
    expect(down.byName.get("relay-reachable")!.message).toBe(`nothing accepts connections at 127.0.0.1:${port} (ECONNREFUSED)`);
    const human = await run(["doctor", "--relay", `http://127.0.0.1:${port}`, "--token", TOKEN]);
    expect(human.text).toMatch(/^✗ relay-reachable +nothing accepts connections[^\n]*\n +fix: start the relay/m);
    expect(human.text).toMatch(/^- token-accepted +needs a reachable relay$/m);
    expect(human.text).toContain("1 check failed.");
  });

  it("finds a proxy that drops WebSocket upgrades and a clock 10 minutes off, with a fix for each", async () => {
    const proxy = await startRelayProxy(relay.url, { upgrades: false, dateOffsetMs: 10 * 60_000 });
    try {
      const { code, status, byName } = await doctor(["--relay", proxy.url, "--token", TOKEN]);
      expect(status).toMatchObject({
        "relay-reachable": "pass",
        "token-accepted": "pass",
        "clock-skew": "fail",
        "websocket-upgrade": "fail",
      });
      expect(byName.get("clock-skew")!.message).toMatch(/^the local clock is 60\d s behind the relay's$/);
      expect(byName.get("clock-skew")!.fix).toContain("webhook handlers check signed timestamps with this clock");
      expect(byName.get("websocket-upgrade")).toMatchObject({
        message: "the relay got the request without its Upgrade header: something in between drops WebSocket upgrades",
        fix: expect.stringContaining("proxy_set_header Upgrade $http_upgrade"),
      });
      expect(code).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("passes a proxy that carries upgrades, and only warns about a clock 90 s off", async () => {
    const proxy = await startRelayProxy(relay.url, { upgrades: true, dateOffsetMs: -90_000 });
    try {
      const { code, status, byName } = await doctor(["--relay", proxy.url, "--token", TOKEN]);
      expect(status).toMatchObject({
        "relay-reachable": "pass",
        "token-accepted": "pass",
        "clock-skew": "warn",
        "websocket-upgrade": "pass",
      });
      expect(byName.get("clock-skew")!.message).toMatch(/^the local clock is (89|9\d) s ahead of the relay's$/);
      expect(code).toBe(0);
    } finally {
      await proxy.close();
    }
    const synced = await startRelayProxy(relay.url, { upgrades: true, dateOffsetMs: 0 });
    try {
      expect((await doctor(["--relay", synced.url, "--token", TOKEN])).byName.get("clock-skew")).toMatchObject({ status: "pass" });
    } finally {
      await synced.close();
    }
  });

  it("on Node 20, passes the Node check: the local relay is a native workerd, so any supported Node runs it", async () => {
    const node20 = "/usr/bin/node";
    expect(execFileSync(node20, ["--version"], { encoding: "utf8" })).toMatch(/^v20\./);
    const embedded = await doctor([], node20);
    expect(embedded.status["relay-reachable"]).toBe("skip");
    expect(embedded.byName.get("node-version")).toMatchObject({ status: "pass", message: expect.stringMatching(/^Node 20\.\d+\.\d+$/) });
    expect(embedded.code).toBe(0);
    const deployed = await doctor(["--relay", relay.url, "--token", TOKEN], node20);
    expect(deployed.byName.get("node-version")).toMatchObject({ status: "pass" });
    expect(deployed.code).toBe(0);
    expect((await doctor([])).byName.get("node-version")).toMatchObject({ status: "pass", message: `Node ${process.versions.node}` });
  });
});
