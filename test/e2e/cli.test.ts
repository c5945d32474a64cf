// The porthole command as a user runs it: help, bad input, and the embedded local relay.

import { afterAll, beforeAll, expect, it } from "vitest";
import { fetchUrl, spawnCli } from "./harness";
import { type Origin, startOrigin } from "./origin";

let origin: Origin;

beforeAll(async () => {
  origin = await startOrigin();
});

afterAll(async () => {
  await origin?.close();
});

it("prints usage with --help and exits 0", async () => {
  const cli = spawnCli(["--help"]);
  expect(await cli.exited).toBe(0);
  const out = cli.output.join("\n");
  expect(out).toContain("porthole http <port|host:port|url> [options]");
  expect(out).toContain('Run "porthole <command> --help"');
});

it.each([["http"], ["mcp"], ["start"], ["deploy"], ["status"], ["doctor"], ["relay"], ["captures"], ["replay"]])(
  "prints the options and examples of %s with --help",
  async (command) => {
    for (const args of [
      [command, "--help"],
      ["help", command],
    ]) {
      const cli = spawnCli(args);
      expect(await cli.exited).toBe(0);
      const out = cli.output.join("\n");
      expect(out).toContain(`Usage: porthole ${command}`);
      expect(out).toMatch(/Options:[\s\S]*--\w/);
      expect(out).toMatch(new RegExp(`Examples:\\n  porthole ${command === "http" ? "" : command}`));
    }
  },
);

it.each([
  [["http", "not a target"], /Cannot use "not a target" as a target/],
  [["http", "70000"], /port 70000 is out of range/],
  [["http", "3000", "--name", "Bad_Name"], /--name "Bad_Name" is not a DNS label/],
  [["http", "3000", "--relay", "http://127.0.0.1:9"], /No token for relay http:\/\/127\.0\.0\.1:9/],
  [["frobnicate"], /Unknown command "frobnicate"/],
  [["http", "3000", "--bogus"], /Unknown option '--bogus'/],
])("rejects %j with a clear message and exit code 2", async (args, message) => {
  const cli = spawnCli(args);
  expect(await cli.exited).toBe(2);
  expect(cli.output.join("\n")).toMatch(message);
  expect(cli.output.join("\n")).not.toMatch(/\n\s+at /);
});

it("with no relay configured, starts a local relay itself and prints both URLs", async () => {
  const cli = spawnCli([String(origin.port)]);
  await expect.poll(() => cli.output.some((l) => l.includes("path URL")), { timeout: 30_000 }).toBe(true);
  const lines = cli.output.join("\n");
  const publicUrl = /public URL\s+(\S+)/.exec(lines)?.[1];
  const pathUrl = /path URL\s+(\S+)/.exec(lines)?.[1];
  expect(publicUrl).toMatch(/^http:\/\/[a-z]+-[a-z]+-[a-z0-9]{4}\.localhost:\d+$/);
  expect(pathUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/t\/[a-z]+-[a-z]+-[a-z0-9]{4}$/);
  expect(lines).toContain("embedded local relay");
  const res = await fetchUrl(`${publicUrl}/echo`);
  expect(res.status).toBe(200);
  await expect.poll(() => cli.output.some((l) => /GET \/echo → 200/.test(l)), { timeout: 5000 }).toBe(true);
  // Ctrl-C stops the agent and the embedded relay with it: the public URL stops answering.
  await cli.kill("SIGINT");
  await expect(fetchUrl(`${publicUrl}/echo`)).rejects.toThrow();
}, 60_000);

it("--json prints the ready event first, then one event per exchange", async () => {
  const cli = spawnCli([String(origin.port), "--json", "--name", "cli-json"]);
  try {
    const ready = await cli.waitFor((e) => e.event === "ready", 30_000);
    expect(cli.events[0]).toEqual(ready);
    expect(ready).toMatchObject({ event: "ready", name: "cli-json" });
    const res = await fetchUrl(`${String(ready.pathUrl)}/echo?x=1`, { method: "POST", body: "abc" });
    expect(res.status).toBe(200);
    const exchange = await cli.waitFor((e) => e.event === "exchange");
    expect(exchange).toMatchObject({ method: "POST", path: "/echo?x=1", status: 200, bytesIn: 3 });
    expect(typeof exchange.durationMs).toBe("number");
  } finally {
    await cli.kill();
  }
}, 60_000);
