// The MCP view end to end: a real MCP server (v1 SDK) behind a real agent and relay, a real SDK client through
// the tunnel, then the view through the API, `porthole captures --mcp` and the inspector in Chromium, where
// hostile tool names, arguments and results stay inert text.

import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import type { McpEntry } from "../../worker/mcp-view";
import {
  type AgentProcess,
  fetchUrl,
  hostUrl,
  launchChromium,
  once,
  type RelayProcess,
  spawnCli,
  startAgent,
  startRelay,
  TOKEN,
} from "./harness";
import { connect } from "./mcp-client";
import { tunnelFetch } from "./mcp-tunnel";

const NAME = "mcp-view-e2e";
const WAIT = { timeout: 20_000 };
const HOSTILE_TOOL = "<img src=x onerror=window.__pwned=1>";
const HOSTILE_ARG = "</script><script>window.__pwned=1</script>";
const HOSTILE_RESULT = `<svg onload=window.__pwned=1></svg>${HOSTILE_ARG}`;

type NodeRequest = http.IncomingMessage & { body?: unknown; query?: Record<string, unknown> };
const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });

function mcpServer(): McpServer {
  const server = new McpServer({ name: "mcp-view-fixture", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
  server.registerTool("fail", { inputSchema: {} }, async () => ({ isError: true, ...text("failed on purpose") }));
  server.registerTool(HOSTILE_TOOL, { inputSchema: { text: z.string() } }, async ({ text: t }) => text(`${t} ${HOSTILE_RESULT}`));
  server.registerTool("count", { inputSchema: { n: z.number().int() } }, async ({ n }, extra) => {
    for (let i = 1; i <= n; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined)
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: i, total: n } });
    }
    return text(`counted to ${n}`);
  });
  return server;
}

/** Streamable HTTP on /mcp (stateful, sessions) and the legacy HTTP+SSE transport on /sse and /messages. */
async function startMcpServer() {
  const app = createMcpExpressApp();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  app.all("/mcp", async (req: NodeRequest, res: http.ServerResponse) => {
    const sid = req.headers["mcp-session-id"];
    let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport!),
      });
      await mcpServer().connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  });
  const legacy = new Map<string, SSEServerTransport>();
  app.get("/sse", async (_req: NodeRequest, res: http.ServerResponse) => {
    const transport = new SSEServerTransport("/messages", res);
    legacy.set(transport.sessionId, transport);
    await mcpServer().connect(transport);
  });
  app.post("/messages", async (req: NodeRequest, res: http.ServerResponse) => {
    await legacy.get(String(req.query?.sessionId))?.handlePostMessage(req, res, req.body);
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    /** Ends every legacy GET stream from the server's side, as a server ending its sessions does. */
    endLegacyStreams: () => Promise.all([...legacy.values()].map((t) => t.close())),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let relay: RelayProcess;
let agent: AgentProcess;
let browser: Browser;
let origin: Awaited<ReturnType<typeof startMcpServer>>;

beforeAll(async () => {
  [relay, origin, browser] = await Promise.all([startRelay(), startMcpServer(), launchChromium()]);
  ({ agent } = await startAgent(relay, origin.port, NAME));
  const { client, transport } = await connect(hostUrl(relay, NAME, "/mcp"));
  expect(await client.callTool({ name: "echo", arguments: { text: "hi there" } })).toEqual(text("hi there"));
  expect(await client.callTool({ name: "fail", arguments: {} })).toMatchObject({ isError: true });
  expect(await client.callTool({ name: HOSTILE_TOOL, arguments: { text: HOSTILE_ARG } })).toEqual(text(`${HOSTILE_ARG} ${HOSTILE_RESULT}`));
  const progress: number[] = [];
  await client.callTool({ name: "count", arguments: { n: 2 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
  expect(progress).toEqual([1, 2]);
  await transport.terminateSession();
  await client.close();
});

afterAll(async () => {
  await browser?.close();
  await agent?.kill();
  await relay?.stop();
  await origin?.close();
});

const bearer = { Authorization: `Bearer ${TOKEN}` };

/** The API's MCP view; it waits until `ready` holds, because a capture is stored only once its exchange has ended. */
async function mcpApi(query: string, ready: (entries: McpEntry[]) => boolean) {
  let view: { entries: McpEntry[]; methods: string[]; notes: unknown[] } = { entries: [], methods: [], notes: [] };
  await expect
    .poll(async () => {
      const res = await fetchUrl(`${relay.url}/_porthole/api/tunnels/${NAME}/mcp${query}`, { headers: bearer });
      expect(res.status).toBe(200);
      view = (await res.json()) as typeof view;
      return ready(view.entries);
    }, WAIT)
    .toBe(true);
  return view;
}

/** The first call of each tool, by name (the legacy transport's test calls echo once more). */
const toolCalls = (entries: McpEntry[]) => Object.fromEntries(entries.toReversed().map((e) => [e.toolName ?? "", e]));

describe("the MCP view through the API", () => {
  it("pairs each tools/call with its result or error, with timing, and lists notifications", async () => {
    const { entries, methods, notes } = await mcpApi("?method=tools/call", (e) => e.filter((x) => x.status !== "pending").length === 4);
    expect(entries.every((e) => e.method === "tools/call" && e.kind === "request" && e.direction === "in")).toBe(true);
    const calls = toolCalls(entries);
    expect(calls.echo).toMatchObject({ status: "ok", arguments: { text: "hi there" }, result: text("hi there") });
    expect(calls.fail).toMatchObject({ status: "error", isError: true, result: { isError: true } });
    expect(calls[HOSTILE_TOOL]).toMatchObject({ arguments: { text: HOSTILE_ARG }, result: text(`${HOSTILE_ARG} ${HOSTILE_RESULT}`) });
    // The answer came on the call's own SSE response, 2 × 100 ms after the request, by the capture's timeline.
    expect(calls.count?.durationMs).toBeGreaterThanOrEqual(150);
    for (const e of entries) expect(e.endedAt).toBe(e.startedAt + (e.durationMs ?? Number.NaN));
    expect(methods).toEqual(expect.arrayContaining(["initialize", "notifications/initialized", "tools/call", "notifications/progress"]));
    expect(notes).toEqual([]);

    const progress = await mcpApi("?method=notifications/progress", (e) => e.length === 2);
    expect(progress.entries.map((e) => [e.kind, e.direction, (e.params as { progress: number }).progress])).toEqual([
      ["notification", "out", 1],
      ["notification", "out", 2],
    ]);
    expect(progress.entries[1]!.startedAt - progress.entries[0]!.startedAt).toBeGreaterThanOrEqual(50);
    const init = await mcpApi("?method=initialize", (e) => e.length === 1);
    expect(init.entries[0]).toMatchObject({ status: "ok", result: { serverInfo: { name: "mcp-view-fixture" } } });
  });

  it("pairs the legacy SSE transport's POST (answered 202) with the answer on its GET stream", async () => {
    const client = new Client({ name: "legacy", version: "1.0.0" });
    const transport = new SSEClientTransport(new URL(hostUrl(relay, NAME, "/sse")), { fetch: tunnelFetch().fetch });
    await client.connect(transport);
    expect(await client.callTool({ name: "echo", arguments: { text: "over legacy sse" } })).toEqual(text("over legacy sse"));
    // A capture is stored when its exchange ends: the server ends the GET stream (the relay would not notice a
    // client that went away until it next writes to the stream).
    await origin.endLegacyStreams();
    await client.close();
    const isLegacy = (x: McpEntry) => (x.arguments as { text?: string } | undefined)?.text === "over legacy sse";
    const { entries } = await mcpApi("?method=tools/call", (e) => e.some((x) => isLegacy(x) && x.status === "ok"));
    const call = entries.find(isLegacy);
    expect(call?.result).toEqual(text("over legacy sse"));
    expect(call?.responseCaptureId).toBeDefined();
    expect(call?.responseCaptureId).not.toBe(call?.captureId);
    expect(call?.session).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the MCP view's bounds", () => {
  it("reads the newest captures within its byte budget, says when it left older ones out, and honours limit", async () => {
    const name = "mcp-view-bounds";
    const { agent: second } = await startAgent(relay, origin.port, name);
    try {
      const post = async (body: string | Uint8Array, type: string) => {
        const res = await fetchUrl(hostUrl(relay, name, "/not-mcp"), { method: "POST", headers: { "content-type": type }, body });
        await res.arrayBuffer();
      };
      await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/oldest" }), "application/json");
      // Nine 1 MiB bodies (the capture cap) outweigh the view's 8 MiB budget.
      for (let i = 0; i < 9; i++) await post(new Uint8Array(1024 * 1024), "application/octet-stream");
      for (let i = 0; i < 3; i++) await post(JSON.stringify({ jsonrpc: "2.0", method: `notifications/new-${i}` }), "application/json");
      const read = async (query: string) => {
        const res = await fetchUrl(`${relay.url}/_porthole/api/tunnels/${name}/mcp${query}`, { headers: bearer });
        return (await res.json()) as { entries: McpEntry[]; scanned: number; complete: boolean };
      };
      await expect.poll(async () => (await read("")).entries.length, WAIT).toBe(3);
      const view = await read("");
      expect(view.entries.map((e) => e.method)).toEqual(["notifications/new-0", "notifications/new-1", "notifications/new-2"]);
      expect(view.complete).toBe(false);
      expect(view.scanned).toBeLessThan(13);
      expect((await read("?limit=2")).entries.map((e) => e.method)).toEqual(["notifications/new-1", "notifications/new-2"]);
      expect((await read("?limit=0")).entries).toHaveLength(1);
      expect((await read("?limit=x")).entries).toHaveLength(3);
    } finally {
      await second.kill();
    }
  });
});

describe("porthole captures --mcp", () => {
  const run = async (...args: string[]) => {
    const cli = spawnCli(["captures", NAME, "--relay", relay.url, "--token", TOKEN, ...args]);
    expect(await cli.exited).toBe(0);
    return cli;
  };

  it("prints each tools/call with tool name, arguments and result, and one JSON object per entry with --json", async () => {
    await mcpApi("?method=tools/call", (e) => e.filter((x) => x.status !== "pending").length >= 4);
    const human = await run("--mcp-method", "tools/call");
    const echo = human.output.find((line) => line.includes("tools/call") && line.includes(" echo "));
    expect(echo).toContain('{"text":"hi there"}');
    expect(echo).toContain(`✓ ${JSON.stringify(text("hi there"))}`);
    expect(echo).toMatch(/→ tools\/call #\d+ echo .* ms {2}\S+$/);
    expect(human.output.find((line) => line.includes(" fail "))).toContain("✗ isError");
    expect(human.output.every((line) => !line.includes("notifications/"))).toBe(true);

    const json = await run("--mcp", "--json", "--limit", "500");
    const entries = json.events as unknown as McpEntry[];
    expect(entries.map((e) => e.method)).toEqual(expect.arrayContaining(["initialize", "tools/call", "notifications/progress"]));
    expect(toolCalls(entries.filter((e) => e.method === "tools/call")).echo).toMatchObject({
      arguments: { text: "hi there" },
      result: text("hi there"),
    });
  });
});

describe("the inspector's MCP view", () => {
  it("shows the tool calls, filters by method, and keeps hostile names, arguments and results inert text", async () => {
    await mcpApi("?method=tools/call", (e) => e.filter((x) => x.status !== "pending").length >= 4);
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const login = await context.request.post(`${relay.url}/_porthole/login`, {
      form: { token: TOKEN, next: `/_porthole/inspect/${NAME}` },
      maxRedirects: 0,
    });
    expect(login.status()).toBe(303);
    await page.goto(`${relay.url}/_porthole/inspect/${NAME}`);
    await page.click('[data-testid="view-mcp"]');
    const panel = page.locator('[data-testid="mcp-view"]');
    await expect.poll(() => panel.getAttribute("data-state"), WAIT).toBe("loaded");
    expect(await page.locator('[data-testid="capture-list"]').isVisible()).toBe(false);

    const hostile = page.locator('[data-testid="mcp-entry"]', { has: page.locator('[data-testid="mcp-tool"]', { hasText: HOSTILE_TOOL }) });
    await hostile.waitFor(WAIT);
    expect(await hostile.locator('[data-testid="mcp-tool"]').textContent()).toBe(HOSTILE_TOOL);
    expect(await hostile.locator('[data-testid="mcp-arguments"]').textContent()).toContain(HOSTILE_ARG);
    expect(await hostile.locator('[data-testid="mcp-result"]').textContent()).toContain(HOSTILE_RESULT);
    const echo = page.locator('[data-testid="mcp-entry"]', {
      has: page.locator('[data-testid="mcp-tool"]', { hasText: /^echo$/ }),
      hasText: "hi there",
    });
    expect(await echo.locator('[data-testid="mcp-arguments"]').textContent()).toBe(JSON.stringify({ text: "hi there" }, null, 2));
    expect(await echo.locator('[data-testid="mcp-outcome"]').textContent()).toBe("ok");
    const fail = page.locator('[data-testid="mcp-entry"]', { has: page.locator('[data-testid="mcp-tool"]', { hasText: /^fail$/ }) });
    expect(await fail.locator('[data-testid="mcp-outcome"]').textContent()).toBe("isError");

    const shownMethods = () =>
      page.locator('[data-testid="mcp-entry"]').evaluateAll((els) => [...new Set(els.map((el) => el.getAttribute("data-method")))]);
    expect(await shownMethods()).toEqual(expect.arrayContaining(["tools/call", "initialize", "notifications/progress"]));
    await page.selectOption('[data-testid="mcp-method-filter"]', "notifications/progress");
    await expect.poll(() => panel.getAttribute("data-method"), WAIT).toBe("notifications/progress");
    expect(await shownMethods()).toEqual(["notifications/progress"]);
    await page.selectOption('[data-testid="mcp-method-filter"]', "tools/call");
    await expect.poll(() => panel.getAttribute("data-method"), WAIT).toBe("tools/call");
    expect(await shownMethods()).toEqual(["tools/call"]);
    expect(await page.locator('[data-testid="mcp-entry"]').count()).toBeGreaterThanOrEqual(4);

    // An entry leads to its exchange in the capture list.
    await echo.locator('[data-testid="mcp-capture"]').click();
    await page.waitForSelector('[data-testid="detail"][data-state="done"]', WAIT);
    expect(await panel.isVisible()).toBe(false);

    const state = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
      injected: document.querySelectorAll("img,svg,iframe,object,embed,script:not([data-inspector])").length,
    }));
    expect(state).toEqual({ pwned: undefined, injected: 0 });
    expect(problems).toEqual([]);
    await context.close();
  });
});
