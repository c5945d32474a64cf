// Local MCP servers built with the official SDKs, each on 127.0.0.1:0: the far end of the tunnel.
// Every server records the requests it receives, so tests can check what the tunnel delivered.

import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createMcpExpressApp as createV2ExpressApp } from "@modelcontextprotocol/express";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { createMcpHandler, McpServer as McpServerV2 } from "@modelcontextprotocol/server";
import * as z from "zod";
import { MemoryEventStore } from "./mcp-event-store";

/** One HTTP request as the local server received it, after the tunnel. */
export type SeenRequest = { method: string; url: string; headers: http.IncomingHttpHeaders; aborted: boolean };

/** A fixture server: its port, what it saw, and one teardown. */
export type McpFixture = {
  port: number;
  seen: SeenRequest[];
  /** Emits "request" and "aborted" (a SeenRequest whose client went away before the response ended), "tool-aborted". */
  events: EventEmitter;
  close: () => Promise<void>;
};

type NodeRequest = http.IncomingMessage & { body?: unknown; query?: Record<string, unknown> };
type Listener = (req: NodeRequest, res: http.ServerResponse) => void;

/** Resolves with the first request (already seen or still to come) that matches. */
export function nextRequest(fixture: McpFixture, match: (r: SeenRequest) => boolean, event = "request"): Promise<SeenRequest> {
  const seen = fixture.seen.find((r) => match(r) && (event === "request" || r.aborted));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const check = (r: SeenRequest) => {
      if (!match(r)) return;
      fixture.events.off(event, check);
      resolve(r);
    };
    fixture.events.on(event, check);
  });
}

/** Serves `app` on 127.0.0.1:0, recording each request before the app sees it. */
async function serve(app: Listener, events = new EventEmitter(), onClose = async () => {}): Promise<McpFixture> {
  const seen: SeenRequest[] = [];
  const server = http.createServer();
  server.on("request", (req: NodeRequest, res: http.ServerResponse) => {
    const record: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, aborted: false };
    seen.push(record);
    res.on("close", () => {
      if (res.writableFinished) return;
      record.aborted = true;
      events.emit("aborted", record);
    });
    events.emit("request", record);
    app(req, res);
  });
  server.listen(0, "127.0.0.1");
  await EventEmitter.once(server, "listening");
  const close = async () => {
    await onClose();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { port: (server.address() as AddressInfo).port, seen, events, close };
}

const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type V1Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Sends progress `progress`/`total` if the caller asked for progress. */
async function reportProgress(extra: V1Extra, progress: number, total: number): Promise<void> {
  const progressToken = extra._meta?.progressToken;
  if (progressToken !== undefined)
    await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, total } });
}

/** A v1 McpServer with echo and count; with `resumed` (which waits for a session's resuming GET) also "interrupted". */
function v1Server(resumed?: (sessionId: string | undefined) => Promise<unknown>): McpServer {
  const server = new McpServer({ name: "fixture-v1", version: "1.0.0" });
  server.registerTool("echo", { description: "returns its text", inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
  server.registerTool(
    "count",
    {
      description: "counts to n, one progress notification every intervalMs",
      inputSchema: { n: z.number().int(), intervalMs: z.number() },
    },
    async ({ n, intervalMs }, extra) => {
      for (let i = 1; i <= n; i++) {
        if (i > 1) await pause(intervalMs);
        await reportProgress(extra, i, n);
      }
      return text(`counted to ${n}`);
    },
  );
  if (!resumed) return server;
  server.registerTool("interrupted", { description: "closes its SSE stream mid-call, finishes once the client resumed" }, async (extra) => {
    if (!extra.closeSSEStream) throw new Error('Cannot interrupt tool "interrupted": the transport has no event store');
    await reportProgress(extra, 1, 2);
    const resume = resumed(extra.sessionId);
    extra.closeSSEStream();
    await resume;
    await reportProgress(extra, 2, 2);
    return text("finished after resume");
  });
  return server;
}

/** A stateful v1 server: sessions, a standalone GET stream, DELETE, resumption; `createMcpExpressApp()` defaults (Host check on). */
export async function startV1Stateful(opts: { json?: boolean } = {}) {
  const app = createMcpExpressApp();
  const sessions = new Map<string, { server: McpServer; transport: StreamableHTTPServerTransport }>();
  const resumed = (sessionId: string | undefined) =>
    nextRequest(
      fixture,
      (r) => r.method === "GET" && r.headers["mcp-session-id"] === sessionId && r.headers["last-event-id"] !== undefined,
    );
  app.all("/mcp", async (req: NodeRequest, res: http.ServerResponse) => {
    const sid = req.headers["mcp-session-id"];
    const known = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (known) return known.transport.handleRequest(req, res, req.body);
    if (sid !== undefined || req.method !== "POST") {
      res.writeHead(404, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
    }
    const server = v1Server(resumed);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: opts.json ?? false,
      eventStore: new MemoryEventStore(),
      // The priming event tells the client to reconnect this soon after the server closes a stream.
      retryInterval: 50,
      onsessioninitialized: (id) => void sessions.set(id, { server, transport }),
    });
    transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const closeSessions = async () => {
    await Promise.all([...sessions.values()].map((s) => s.server.close()));
  };
  const fixture = await serve(app, undefined, closeSessions);
  /** Sends notifications/tools/list_changed outside any request: it can only travel on a session's GET stream. */
  const announceToolsChanged = () => {
    for (const { server } of sessions.values()) server.sendToolListChanged();
  };
  return { ...fixture, announceToolsChanged };
}

/** A stateless v1 server: a fresh server and transport per POST, GET and DELETE answered 405. */
export async function startV1Stateless(): Promise<McpFixture> {
  const app = createMcpExpressApp();
  app.post("/mcp", async (req: NodeRequest, res: http.ServerResponse) => {
    const server = v1Server();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  app.all("/mcp", (_req: NodeRequest, res: http.ServerResponse) => res.writeHead(405, { Allow: "POST" }).end());
  return serve(app);
}

/** The deprecated HTTP+SSE transport: GET /sse holds the stream, POST /messages?sessionId=… carries the requests. */
export async function startLegacySse(): Promise<McpFixture> {
  const app = createMcpExpressApp();
  const transports = new Map<string, SSEServerTransport>();
  app.get("/sse", async (_req: NodeRequest, res: http.ServerResponse) => {
    const transport = new SSEServerTransport("/messages", res);
    transports.set(transport.sessionId, transport);
    res.on("close", () => transports.delete(transport.sessionId));
    await v1Server().connect(transport);
  });
  app.post("/messages", async (req: NodeRequest, res: http.ServerResponse) => {
    const sessionId = String(req.query?.sessionId);
    const transport = transports.get(sessionId);
    if (!transport) return res.writeHead(404).end(`No SSE session "${sessionId}"`);
    await transport.handlePostMessage(req, res, req.body);
  });
  return serve(app);
}

/** A v2 server from `createMcpHandler` behind the v2 `createMcpExpressApp()`: both protocol eras from one factory. */
export async function startV2() {
  const events = new EventEmitter();
  const handler = createMcpHandler(() => {
    const server = new McpServerV2({ name: "fixture-v2", version: "1.0.0" });
    server.registerTool("echo", { description: "returns its text", inputSchema: z.object({ text: z.string() }) }, async ({ text: t }) =>
      text(t),
    );
    server.registerTool("hang", { description: "reports progress once, then runs until cancelled" }, async (ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken !== undefined)
        await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 1 } });
      await new Promise((resolve) => ctx.mcpReq.signal.addEventListener("abort", resolve, { once: true }));
      events.emit("tool-aborted");
      return text("cancelled");
    });
    return server;
  });
  const app = createV2ExpressApp();
  const node = toNodeHandler(handler);
  app.all("/mcp", (req: NodeRequest, res: http.ServerResponse) => node(req, res, req.body));
  const fixture = await serve(app, events, () => handler.close());
  return { ...fixture, notify: handler.notify };
}
