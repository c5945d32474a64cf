// The bridge of `porthole mcp` on its own, with small limits: real server processes, real SDK clients, raw HTTP.

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BridgeEvent, startBridge } from "../../agent-cli/mcp-bridge";
import { connect, FIXTURE, isAlive } from "./mcp-client";

/** A raw POST to a bridge's /mcp, with whatever Host header a test wants. */
const raw = (origin: string, headers: Record<string, string>, body: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const url = new URL(origin);
    const req = request({ host: url.hostname, port: url.port, path: "/mcp", method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });

const init = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const json = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

describe("the bridge's own limits", () => {
  const events: BridgeEvent[] = [];
  let bridge: Awaited<ReturnType<typeof startBridge>>;
  const local = () => `${bridge.origin}/mcp`;

  beforeAll(async () => {
    bridge = await startBridge({
      server: { command: process.execPath, args: [FIXTURE] },
      serverName: "stdio-fixture",
      maxSessions: 1,
      sessionIdleMs: 500,
      onEvent: (e) => events.push(e),
      onOutput: () => {},
    });
  });

  afterAll(() => bridge?.close());

  const ended = (pid: number) => expect.poll(() => events.find((e) => e.event === "mcp-session-end" && e.pid === pid), { timeout: 5000 });

  it("refuses a session over maxSessions with 503, then ends an idle one after sessionIdleMs and stops its process", async () => {
    const a = await connect(local(), fetch);
    const pid = Number(await a.call("pid"));
    const refused = await raw(bridge.origin, json, init);
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("30");
    await expect(connect(local(), fetch)).rejects.toThrow(/1 sessions are open, the limit/);
    expect(bridge.sessionCount()).toBe(1);
    // Closing the client drops its GET stream; no DELETE is sent, so only the idle timer can end the session.
    await a.client.close();
    await ended(pid).toMatchObject({ reason: "idle" });
    expect(isAlive(pid)).toBe(false);
    const b = await connect(local(), fetch);
    const pidB = Number(await b.call("pid"));
    await b.transport.terminateSession();
    await b.client.close();
    await ended(pidB).toMatchObject({ reason: "deleted" });
    expect(bridge.sessionCount()).toBe(0);
  });

  it("rejects a foreign Host (DNS rebinding), unknown sessions, and oversized initialize bodies, starting no process", async () => {
    const before = events.length;
    const rebound = await raw(bridge.origin, { ...json, Host: "evil.example:80" }, init);
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain("Invalid Host header: evil.example:80");
    const unknown = await raw(bridge.origin, { ...json, "Mcp-Session-Id": "no-such-session" }, init);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain("Session not found");
    const huge = await raw(bridge.origin, json, `${init.slice(0, -1)},"pad":"${"x".repeat(1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    const notInit = await raw(bridge.origin, json, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
    expect(notInit.status).toBe(400);
    expect(events.length).toBe(before);
    expect(bridge.sessionCount()).toBe(0);
  });
});

describe("a server that cannot start for a new session", () => {
  it("answers 502 naming the server and the cause only; the command line and its secret stay on the terminal", async () => {
    const lines: string[] = [];
    const bridge = await startBridge({
      server: { command: "/nonexistent/porthole-mcp-server", args: ["--api-key", "SEKRET123"] },
      serverName: "ghost-server",
      onOutput: (who, line) => lines.push(`${who} ${line}`),
    });
    try {
      const refused = await raw(bridge.origin, json, init);
      expect(refused.status).toBe(502);
      expect(JSON.parse(refused.body)).toMatchObject({
        id: 1,
        error: { message: 'Cannot start the MCP server "ghost-server": command not found' },
      });
      expect(refused.body).not.toMatch(/SEKRET123|nonexistent|ENOENT/);
      expect(lines.some((l) => l.startsWith("bridge ") && l.includes("/nonexistent/porthole-mcp-server --api-key SEKRET123"))).toBe(true);
      expect(bridge.sessionCount()).toBe(0);
    } finally {
      await bridge.close();
    }
  });
});
