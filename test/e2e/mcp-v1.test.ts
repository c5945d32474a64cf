// The v1 MCP SDK (Streamable HTTP, 2025 protocol era) on both ends of a host-mode tunnel:
// sessions, both POST answer shapes, progress as it happens, the GET stream, DELETE, resumption.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fetchUrl } from "./harness";
import { type McpFixture, nextRequest, startV1Stateful, startV1Stateless } from "./mcp-servers";
import { type Exchange, openTunnels, tunnelFetch } from "./mcp-tunnel";

let tunnels: Awaited<ReturnType<typeof openTunnels>>;
let stateful: Awaited<ReturnType<typeof startV1Stateful>>;
let jsonServer: McpFixture;
let stateless: McpFixture;
let urls: { stateful: URL; json: URL; stateless: URL };
const clients: Client[] = [];

beforeAll(async () => {
  [tunnels, stateful, jsonServer, stateless] = await Promise.all([
    openTunnels(),
    startV1Stateful(),
    startV1Stateful({ json: true }),
    startV1Stateless(),
  ]);
  const [statefulUrl, jsonUrl, statelessUrl] = await Promise.all([
    tunnels.expose(stateful.port, "mcp-v1"),
    tunnels.expose(jsonServer.port, "mcp-v1-json"),
    tunnels.expose(stateless.port, "mcp-v1-stateless"),
  ]);
  urls = { stateful: statefulUrl, json: jsonUrl, stateless: statelessUrl };
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await tunnels?.stop();
  await Promise.all([stateful, jsonServer, stateless].map((s) => s?.close()));
});

/** A v1 client connected through the tunnel, with the exchanges its transport made. */
async function connect(url: URL) {
  const { fetch, exchanges } = tunnelFetch();
  const transport = new StreamableHTTPClientTransport(url, { fetch });
  const client = new Client({ name: "e2e-v1", version: "1.0.0" });
  clients.push(client);
  await client.connect(transport);
  return { client, transport, exchanges };
}

/** The exchange whose JSON-RPC body names `method`. */
function exchangeFor(exchanges: Exchange[], method: string): Exchange {
  const found = exchanges.find((e) => e.requestBody.includes(`"method":"${method}"`));
  if (!found) throw new Error(`No exchange for "${method}" among ${exchanges.length} exchanges`);
  return found;
}

/** A raw JSON-RPC POST through the tunnel, as a client without the SDK would send it. */
function post(url: URL, body: object, headers: Record<string, string> = {}) {
  return fetchUrl(url.href, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", ...body }),
  });
}

const INIT_PARAMS = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1.0.0" } };

describe("v1 stateful server behind createMcpExpressApp()", () => {
  it("rejects a foreign Host when reached directly, and works through the tunnel", async () => {
    const direct = await fetchUrl(`http://evil.localhost:${stateful.port}/mcp`, { method: "POST", body: "{}" });
    expect(direct.status).toBe(403);
    const { client, transport, exchanges } = await connect(urls.stateful);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await client.callTool({ name: "echo", arguments: { text: "through the tunnel" } })).toEqual({
      content: [{ type: "text", text: "through the tunnel" }],
    });
    expect(exchangeFor(exchanges, "tools/call").responseHeaders.get("content-type")).toBe("text/event-stream");
  });

  it("a server with enableJsonResponse answers the POST with JSON", async () => {
    const { client, exchanges } = await connect(urls.json);
    expect(await client.callTool({ name: "echo", arguments: { text: "json" } })).toEqual({ content: [{ type: "text", text: "json" }] });
    const call = exchangeFor(exchanges, "tools/call");
    expect(call.status).toBe(200);
    expect(call.responseHeaders.get("content-type")).toMatch(/^application\/json/);
  });

  it("progress notifications arrive as the tool sends them, not all at the end", async () => {
    const { client } = await connect(urls.stateful);
    const arrivals: { progress: number; at: number }[] = [];
    const result = await client.callTool({ name: "count", arguments: { n: 4, intervalMs: 150 } }, undefined, {
      onprogress: (p) => arrivals.push({ progress: p.progress, at: performance.now() }),
    });
    const done = performance.now();
    expect(result.content).toEqual([{ type: "text", text: "counted to 4" }]);
    expect(arrivals.map((a) => a.progress)).toEqual([1, 2, 3, 4]);
    const gaps = arrivals.slice(1).map((a, i) => a.at - (arrivals[i] as { at: number }).at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(80);
    expect(done - (arrivals[0] as { at: number }).at).toBeGreaterThanOrEqual(300);
  });

  it("a notification sent outside any request reaches the client on the standalone GET stream", async () => {
    const { client, transport } = await connect(urls.stateful);
    const received = new Promise<string>((resolve) =>
      client.setNotificationHandler(ToolListChangedNotificationSchema, (n) => resolve(n.method)),
    );
    const get = await nextRequest(stateful, (r) => r.method === "GET" && r.headers["mcp-session-id"] === transport.sessionId);
    expect(get.headers.accept).toContain("text/event-stream");
    // The GET reaches the server before its stream is registered; announce until the client hears it.
    const timer = setInterval(stateful.announceToolsChanged, 100);
    stateful.announceToolsChanged();
    try {
      expect(await received).toBe("notifications/tools/list_changed");
    } finally {
      clearInterval(timer);
    }
  });

  it("Mcp-Session-Id and MCP-Protocol-Version reach the local server on every request after initialize", async () => {
    const { client, transport } = await connect(urls.stateful);
    await client.listTools();
    const list = stateful.seen.findLast((r) => r.headers["mcp-session-id"] === transport.sessionId && r.method === "POST");
    expect(list?.headers["mcp-protocol-version"]).toBe(transport.protocolVersion);
    expect(transport.protocolVersion).toBe("2025-11-25");
  });

  it("raw HTTP: initialize returns Mcp-Session-Id; later requests carry both headers to the server", async () => {
    const init = await post(urls.stateful, { id: 1, method: "initialize", params: INIT_PARAMS });
    expect(init.status).toBe(200);
    const sid = init.headers.get("mcp-session-id");
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await init.text()).toContain('"protocolVersion":"2025-11-25"');
    const headers = { "Mcp-Session-Id": sid!, "MCP-Protocol-Version": "2025-11-25" };
    expect((await post(urls.stateful, { method: "notifications/initialized" }, headers)).status).toBe(202);
    const list = await post(urls.stateful, { id: 2, method: "tools/list" }, headers);
    expect(list.status).toBe(200);
    expect(list.headers.get("mcp-session-id")).toBe(sid);
    expect(await list.text()).toContain('"name":"echo"');
    const seen = stateful.seen.filter((r) => r.headers["mcp-session-id"] === sid);
    expect(seen.map((r) => r.headers["mcp-protocol-version"])).toEqual(["2025-11-25", "2025-11-25"]);
  });

  it("DELETE ends the session; the session id then gets 404", async () => {
    const { transport, exchanges } = await connect(urls.stateful);
    const sid = transport.sessionId!;
    await transport.terminateSession();
    expect(exchanges.find((e) => e.method === "DELETE")?.status).toBe(200);
    expect(stateful.seen.some((r) => r.method === "DELETE" && r.headers["mcp-session-id"] === sid)).toBe(true);
    const after = await post(
      urls.stateful,
      { id: 3, method: "tools/list" },
      { "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" },
    );
    expect(after.status).toBe(404);
  });

  it("a tool that closes its SSE stream mid-call finishes after the client resumes with GET + Last-Event-ID", async () => {
    const { client, transport, exchanges } = await connect(urls.stateful);
    const progress: number[] = [];
    const result = await client.callTool({ name: "interrupted", arguments: {} }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(result.content).toEqual([{ type: "text", text: "finished after resume" }]);
    expect(progress).toEqual([1, 2]);
    const resume = stateful.seen.find(
      (r) => r.method === "GET" && r.headers["mcp-session-id"] === transport.sessionId && r.headers["last-event-id"] !== undefined,
    );
    expect(resume?.headers["last-event-id"]).toMatch(/\/\d+$/);
    expect(exchanges.find((e) => e.method === "GET" && e.requestHeaders.has("last-event-id"))?.status).toBe(200);
  });
});

describe("v1 stateless server", () => {
  it("has no session, refuses the GET stream with 405, and still streams progress", async () => {
    const { client, transport, exchanges } = await connect(urls.stateless);
    expect(transport.sessionId).toBeUndefined();
    const progress: number[] = [];
    const result = await client.callTool({ name: "count", arguments: { n: 2, intervalMs: 50 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(result.content).toEqual([{ type: "text", text: "counted to 2" }]);
    expect(progress).toEqual([1, 2]);
    expect(stateless.seen.every((r) => r.headers["mcp-session-id"] === undefined)).toBe(true);
    await vi.waitFor(() => expect(exchanges.find((e) => e.method === "GET")?.status).toBe(405));
  });
});
