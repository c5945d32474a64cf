// What the `porthole mcp` tests share: the stdio server fixture and a v1 SDK client that reaches tunnel URLs.

import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { tunnelFetch } from "./mcp-tunnel";

/** A real stdio MCP server: echo, count (with progress), pid, env and exit. */
export const FIXTURE = fileURLToPath(new URL("./fixtures/stdio-server.mjs", import.meta.url));

/** Whether a process exists (and is not a reaped zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Connects a v1 SDK client over Streamable HTTP; `call` returns a tool's first text. */
export async function connect(url: string, fetch: FetchLike = tunnelFetch().fetch as FetchLike) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args });
    return (result.content as { text: string }[])[0]?.text;
  };
  return { client, transport, call };
}
