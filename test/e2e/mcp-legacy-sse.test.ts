// The deprecated HTTP+SSE transport (protocol 2024-11-05) through a host-mode tunnel: the GET /sse stream
// announces a root-relative POST endpoint, so it only works where the tunnel owns the whole host.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type McpFixture, startLegacySse } from "./mcp-servers";
import { openTunnels, tunnelFetch } from "./mcp-tunnel";

let tunnels: Awaited<ReturnType<typeof openTunnels>>;
let server: McpFixture;
let url: URL;
let client: Client | undefined;

beforeAll(async () => {
  [tunnels, server] = await Promise.all([openTunnels(), startLegacySse()]);
  url = await tunnels.expose(server.port, "mcp-legacy-sse", "/sse");
});

afterAll(async () => {
  await client?.close();
  await tunnels?.stop();
  await server?.close();
});

describe("legacy HTTP+SSE transport", () => {
  it("lists tools and calls one: requests go to POST /messages, answers come back on the GET /sse stream", async () => {
    const { fetch, exchanges } = tunnelFetch();
    client = new Client({ name: "e2e-legacy-sse", version: "1.0.0" });
    await client.connect(new SSEClientTransport(url, { fetch }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("echo");
    expect(await client.callTool({ name: "echo", arguments: { text: "over sse" } })).toEqual({
      content: [{ type: "text", text: "over sse" }],
    });
    const posts = server.seen.filter((r) => r.method === "POST");
    expect(posts.length).toBeGreaterThanOrEqual(3);
    for (const post of posts) expect(post.url).toMatch(/^\/messages\?sessionId=[0-9a-f-]{36}$/);
    // Each POST is only acknowledged (202); every answer travelled on the one long-lived stream.
    expect(server.seen.filter((r) => r.method === "GET").map((r) => r.url)).toEqual(["/sse"]);
    expect(exchanges.filter((e) => e.method === "POST").every((e) => e.status === 202)).toBe(true);
  });
});
