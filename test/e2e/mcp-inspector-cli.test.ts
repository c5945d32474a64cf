// The MCP Inspector's headless CLI, a real third-party client, against a v1 server through a host-mode tunnel.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startV1Stateful } from "./mcp-servers";
import { openTunnels } from "./mcp-tunnel";

const INSPECTOR = new URL("../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js", import.meta.url).pathname;
// The Inspector resolves names with Node's resolver, which knows nothing of *.localhost.
const PRELOAD = new URL("./loopback-dns.mjs", import.meta.url).href;

let tunnels: Awaited<ReturnType<typeof openTunnels>>;
let server: Awaited<ReturnType<typeof startV1Stateful>>;
let url: URL;
let home: string;

beforeAll(async () => {
  [tunnels, server, home] = await Promise.all([openTunnels(), startV1Stateful(), mkdtemp(join(tmpdir(), "porthole-inspector-"))]);
  url = await tunnels.expose(server.port, "mcp-inspector");
});

afterAll(async () => {
  await tunnels?.stop();
  await server?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs `mcp-inspector --cli <tunnel url> --transport http <args>` under this Node (>= 22.19), with a throwaway HOME. */
function inspector(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ["--import", PRELOAD, INSPECTOR, "--cli", url.href, "--transport", "http", "--format", "json", ...args],
    {
      env: { ...process.env, HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

describe("MCP Inspector CLI through the tunnel", () => {
  it("tools/list shows the fixture's tools", async () => {
    const run = await inspector(["--method", "tools/list"]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const names = (JSON.parse(run.stdout) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "count"]));
  });

  it("tools/call echo returns the argument it was given", async () => {
    const run = await inspector(["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "text=hello"]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(run.stdout)).toMatchObject({ result: { content: [{ type: "text", text: "hello" }] } });
    // The Inspector echoed the session the server minted, so the header made the round trip.
    expect(server.seen.filter((r) => r.method === "POST" && r.headers["mcp-session-id"] !== undefined).length).toBeGreaterThanOrEqual(2);
  });
});
