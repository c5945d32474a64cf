// The local half of `porthole mcp`: an HTTP server on 127.0.0.1 that serves a stdio MCP server as Streamable HTTP
// at /mcp, one server process per MCP session. The tunnel agent forwards to it like to any local port.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isInitializeRequest, isJSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import { describeCommand, type ExitStatus, type ServerCommand, startCause } from "./mcp-child";
import { type EndReason, McpSession, type SessionEnd } from "./mcp-session";

/** Bridge tunables. */
export const BRIDGE_DEFAULTS = {
  /** Sessions open at once, each one a server process; one more initialize is refused with 503. */
  maxSessions: 16,
  /** A session whose client has had no request or stream open this long is ended, and its process stopped. */
  sessionIdleMs: 30 * 60_000,
  /** Largest initialize body read by the bridge; later requests are read by the SDK, under its own 4 MiB limit. */
  maxInitializeBytes: 1024 * 1024,
} as const;

/** The one path the bridge serves. */
export const MCP_PATH = "/mcp";

/** What the bridge reports: a session opened (a process started) or ended (a process stopped). */
export type BridgeEvent =
  | { event: "mcp-session-start"; session: string; pid: number }
  | {
      event: "mcp-session-end";
      session: string;
      pid: number;
      reason: Exclude<EndReason, "refused">;
      exitCode: ExitStatus["code"];
      signal: ExitStatus["signal"];
      failedRequests: number;
    };

export type BridgeOptions = {
  server: ServerCommand;
  /** How answers to clients name the server: its serverInfo.name. The command line (args may hold secrets) stays local. */
  serverName: string;
  maxSessions?: number;
  sessionIdleMs?: number;
  onEvent?: (event: BridgeEvent) => void;
  /** A line from a server process's stderr or about it, by pid, or from the bridge itself (default: stderr, prefixed). */
  onOutput?: (who: number | "bridge", line: string) => void;
};

/** A running bridge. */
export type Bridge = {
  /** http://127.0.0.1:PORT, the tunnel's target. */
  origin: string;
  /** Sessions open now. */
  sessionCount: () => number;
  /** Ends every session (stopping its process) and the HTTP server; safe to call twice. */
  close: () => Promise<void>;
};

type ErrorExtra = { id?: unknown; code?: number; headers?: Record<string, string> };

/** Answers with a JSON-RPC error, worded as the SDK words its own where there is one. */
function rpcError(res: ServerResponse, status: number, message: string, extra: ErrorExtra = {}) {
  if (res.headersSent) return void res.end();
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code: extra.code ?? -32000, message }, id: extra.id ?? null });
  res.writeHead(status, { "Content-Type": "application/json", ...extra.headers }).end(body);
}

class BodyTooLarge extends Error {}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** Starts the bridge on 127.0.0.1:0. Server processes start when clients initialize, not before. */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const maxSessions = o.maxSessions ?? BRIDGE_DEFAULTS.maxSessions;
  const onOutput = o.onOutput ?? ((who, line) => process.stderr.write(`[mcp ${who}] ${line}\n`));
  const live = new Set<McpSession>();
  let opening = 0;
  const byId = new Map<string, McpSession>();
  let allowedHosts: string[] = [];
  let closing: Promise<void> | undefined;

  const sessionOptions = {
    server: o.server,
    serverName: o.serverName,
    idleMs: o.sessionIdleMs ?? BRIDGE_DEFAULTS.sessionIdleMs,
    onOutput,
    onStart: (s: McpSession) => {
      byId.set(s.id as string, s);
      o.onEvent?.({ event: "mcp-session-start", session: s.id as string, pid: s.pid });
    },
    onEnd: (s: McpSession, { reason, exit, failedRequests }: SessionEnd) => {
      live.delete(s);
      // A refused initialize never made a session anyone heard of.
      if (s.id === undefined || reason === "refused") return;
      byId.delete(s.id);
      o.onEvent?.({
        event: "mcp-session-end",
        session: s.id,
        pid: s.pid,
        reason,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        failedRequests,
      });
    },
  };

  /** A request without a session id may only be an initialize; it gets a session and a process of its own. */
  async function initialize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") return rpcError(res, 400, "Bad Request: Mcp-Session-Id header is required");
    let body: unknown;
    try {
      body = await readJson(req, BRIDGE_DEFAULTS.maxInitializeBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) return rpcError(res, 413, `Payload Too Large: over ${BRIDGE_DEFAULTS.maxInitializeBytes} bytes`);
      return rpcError(res, 400, "Parse error: Invalid JSON", { code: -32700 });
    }
    if (!isJSONRPCRequest(body) || !isInitializeRequest(body)) return rpcError(res, 400, "Bad Request: Mcp-Session-Id header is required");
    if (closing) return rpcError(res, 503, "porthole mcp is stopping", { id: body.id });
    if (live.size + opening >= maxSessions) {
      const message = `porthole mcp: ${maxSessions} sessions are open, the limit; end one (DELETE /mcp) or wait until one is idle`;
      return rpcError(res, 503, message, { id: body.id, headers: { "Retry-After": "30" } });
    }
    let session: McpSession;
    opening++;
    try {
      session = await McpSession.open(sessionOptions);
    } catch (err) {
      // The client is anyone with the URL: it gets the server's name and the cause class, the terminal the details.
      const cause = startCause(err, undefined);
      onOutput("bridge", `cannot start "${describeCommand(o.server)}" for a new session: ${cause} (${(err as Error).message})`);
      return rpcError(res, 502, `Cannot start the MCP server "${o.serverName}": ${cause}`, { id: body.id });
    } finally {
      opening--;
    }
    live.add(session);
    session.track(res);
    await session.http.handleRequest(req, res, body);
    // The transport refused this initialize (say, a bad Accept header): the process started for it goes too.
    if (session.id === undefined) await session.end("refused");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS-rebinding protection: the agent always sends Host 127.0.0.1:PORT; a web page rebound to this port would not.
    if (!allowedHosts.includes(req.headers.host ?? "")) return rpcError(res, 403, `Invalid Host header: ${req.headers.host ?? "(none)"}`);
    if (new URL(req.url ?? "/", "http://bridge").pathname !== MCP_PATH) {
      return rpcError(res, 404, `Not found: porthole mcp serves the MCP server at ${MCP_PATH} only`);
    }
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId !== "string") return initialize(req, res);
    const session = byId.get(sessionId);
    // 404 tells the client to initialize again (a new session, a new process).
    if (!session) return rpcError(res, 404, "Session not found", { code: -32001 });
    session.track(res);
    await session.http.handleRequest(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      // Raw error text may name paths or the command line: it stays on the terminal.
      onOutput("bridge", `cannot handle "${req.method} ${req.url}": ${err.message}`);
      rpcError(res, 500, "Internal error: porthole mcp could not handle this request");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];

  const close = async () => {
    await Promise.all([...live].map((s) => s.end("shutdown")));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    sessionCount: () => live.size,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
