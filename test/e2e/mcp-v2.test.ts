// The v2 MCP SDK (spec 2026-07-28) on both ends of a host-mode tunnel: routing headers,
// the subscriptions/listen stream, cancellation by closing the response stream, and the 2025 fallback.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchUrl } from "./harness";
import { nextRequest, startV2 } from "./mcp-servers";
import { openTunnels, tunnelFetch, within } from "./mcp-tunnel";
import { type Origin, startOrigin } from "./origin";

let tunnels: Awaited<ReturnType<typeof openTunnels>>;
let server: Awaited<ReturnType<typeof startV2>>;
let origin: Origin;
let url: URL;
let streamUrl: URL;
const clients: Client[] = [];

beforeAll(async () => {
  [tunnels, server, origin] = await Promise.all([openTunnels(), startV2(), startOrigin()]);
  [url, streamUrl] = await Promise.all([
    // A short keepalive: the relay learns that a client left a quiet stream from its next write.
    tunnels.expose(server.port, "mcp-v2", "/mcp", ["--sse-keepalive", "0.5"]),
    tunnels.expose(origin.port, "mcp-v2-raw", "/stream?interval=200"),
  ]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await tunnels?.stop();
  await Promise.all([server?.close(), origin?.close()]);
});

/** A v2 client through the tunnel: `auto` negotiates 2026-07-28, `legacy` speaks the 2025 protocol. */
async function connect(mode: "auto" | "legacy") {
  const { fetch, exchanges } = tunnelFetch();
  const client = new Client({ name: "e2e-v2", version: "1.0.0" }, { versionNegotiation: { mode } });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(url, { fetch }));
  return { client, exchanges };
}

describe("v2 SDK, 2026-07-28 wire", () => {
  it("tools/call carries Mcp-Method and Mcp-Name to the local server", async () => {
    const { client } = await connect("auto");
    expect(client.getProtocolEra()).toBe("modern");
    expect(await client.callTool({ name: "echo", arguments: { text: "modern" } })).toMatchObject({
      content: [{ type: "text", text: "modern" }],
    });
    const call = server.seen.findLast((r) => r.headers["mcp-method"] === "tools/call");
    expect(call?.headers).toMatchObject({ "mcp-name": "echo", "mcp-protocol-version": "2026-07-28" });
  });

  it("a change notification reaches the client on an open subscriptions/listen stream", async () => {
    const { client } = await connect("auto");
    const received = new Promise<string>((resolve) =>
      client.setNotificationHandler("notifications/tools/list_changed", (n) => resolve(n.method)),
    );
    // listen() resolves on the server's acknowledgement, which travels on the same stream: it is open end to end.
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter.toolsListChanged).toBe(true);
    server.notify.toolsChanged();
    expect(await within(5000, "notifications/tools/list_changed", received)).toBe("notifications/tools/list_changed");
    expect(server.seen.some((r) => r.headers["mcp-method"] === "subscriptions/listen")).toBe(true);
    await subscription.close();
    expect(await subscription.closed).toBe("local");
  });

  it("aborting a tool call on a quiet stream reaches the local server by the relay's next keepalive", async () => {
    const { client } = await connect("auto");
    const toolAborted = new Promise((resolve) => server.events.once("tool-aborted", resolve));
    const controller = new AbortController();
    const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal, onprogress: () => controller.abort() });
    await expect(call).rejects.toThrow();
    const abortedAt = performance.now();
    const closed = await within(
      5000,
      "the local request to close",
      nextRequest(server, (r) => r.headers["mcp-name"] === "hang", "aborted"),
    );
    expect(closed.aborted).toBe(true);
    await within(5000, "the tool's abort signal", toolAborted);
    expect(performance.now() - abortedAt).toBeLessThan(5000);
  });
});

describe("v2 SDK, 2025 wire against the same server", () => {
  it("a legacy-mode client initializes and calls a tool, without the 2026 routing headers", async () => {
    const { client } = await connect("legacy");
    expect(client.getProtocolEra()).toBe("legacy");
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["echo", "hang"]);
    expect(await client.callTool({ name: "echo", arguments: { text: "legacy" } })).toMatchObject({
      content: [{ type: "text", text: "legacy" }],
    });
    const last = server.seen.filter((r) => r.method === "POST").at(-1);
    expect(last?.headers["mcp-method"]).toBeUndefined();
    expect(last?.headers["mcp-protocol-version"]).toMatch(/^2025-/);
  });
});

describe("cancellation without an SDK", () => {
  it("a client that drops a POST's SSE response after the first event closes the local request within 3 s", async () => {
    const closed = new Promise<string>((resolve) => origin.events.once("request-closed", resolve));
    const controller = new AbortController();
    const res = await fetchUrl(streamUrl.href, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: {} } }),
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const first = await res.body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toContain("data: event 0");
    const abortedAt = performance.now();
    controller.abort();
    expect(await within(3000, "the local request to close", closed)).toBe("/stream");
    expect(performance.now() - abortedAt).toBeLessThan(3000);
  });
});
