// One MCP session of `porthole mcp`: the SDK's Streamable HTTP server transport paired with a server process
// of its own, so two clients never share a server's state. Messages pass through unchanged; only messages the
// server starts need a stream picked for them, because stdio says nothing about which request they belong to.

import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type ProgressToken,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { ChildTransport, describeCommand, describeExit, type ExitStatus, type ServerCommand } from "./mcp-child";

/** Why a session ended: the client deleted it, it sat idle, its server exited, porthole stopped, or initialize was refused. */
export type EndReason = "deleted" | "idle" | "exited" | "shutdown" | "refused";

/** What is known once a session has ended. */
export type SessionEnd = { reason: EndReason; exit?: ExitStatus; failedRequests: number };

/** How a session reports and how long it may sit idle. */
export type SessionOptions = {
  server: ServerCommand;
  /** How messages to clients name the server: its serverInfo.name, never its command line (args may hold secrets). */
  serverName: string;
  idleMs: number;
  /** A line the server wrote to stderr, or a message it garbled on stdout. */
  onOutput: (pid: number, line: string) => void;
  onStart: (session: McpSession) => void;
  onEnd: (session: McpSession, end: SessionEnd) => void;
};

/** A stdio transport error in words; the usual one is a server that logs to stdout, which belongs to JSON-RPC. */
function stdioError(err: Error): string {
  const garbled = err instanceof SyntaxError || err.name === "ZodError";
  return garbled ? `wrote something other than JSON-RPC to stdout (logs belong on stderr): ${err.message}` : `stdio: ${err.message}`;
}

/** A client session and the server process that serves it alone. */
export class McpSession {
  readonly http: StreamableHTTPServerTransport;
  readonly pid: number;
  /** Client requests the server has not answered, oldest first, with their progress tokens. */
  private readonly inFlight = new Map<RequestId, ProgressToken | undefined>();
  private readonly progress = new Map<ProgressToken, RequestId>();
  private openResponses = 0;
  private idleTimer?: NodeJS.Timeout;
  private ending?: Promise<void>;

  private constructor(
    private readonly o: SessionOptions,
    private readonly child: ChildTransport,
  ) {
    this.pid = child.pid ?? 0;
    this.http = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: () => o.onStart(this),
    });
    this.http.onmessage = (message) => this.toServer(message);
    this.http.onclose = () => void this.end("deleted");
    child.onmessage = (message) => this.toClient(message);
    child.onerror = (err) => o.onOutput(this.pid, stdioError(err));
    child.onclose = () => void this.end("exited");
  }

  /** Starts a server process for a new session; rejects when the command cannot be spawned. */
  static async open(o: SessionOptions): Promise<McpSession> {
    let pid = 0;
    const child = new ChildTransport(o.server, (line) => o.onOutput(pid, line));
    await child.start();
    pid = child.pid ?? 0;
    return new McpSession(o, child);
  }

  /** The session id, once initialize has been accepted. */
  get id(): string | undefined {
    return this.http.sessionId;
  }

  /** Counts an HTTP exchange of this session; with none open for `idleMs`, the client is gone and the session ends. */
  track(res: ServerResponse): void {
    this.openResponses++;
    clearTimeout(this.idleTimer);
    res.once("close", () => {
      if (--this.openResponses > 0 || this.ending) return;
      this.idleTimer = setTimeout(() => void this.end("idle"), this.o.idleMs).unref();
    });
  }

  /** Ends the session once: in-flight requests get an error if the server died, then the streams and the process close. */
  end(reason: EndReason): Promise<void> {
    // Deferred a tick so that the close callbacks this triggers find `ending` already set.
    this.ending ??= Promise.resolve().then(() => this.finish(reason));
    return this.ending;
  }

  private async finish(reason: EndReason): Promise<void> {
    clearTimeout(this.idleTimer);
    const failedRequests = reason === "exited" ? this.failInFlight() : 0;
    await this.http.close();
    // The SDK's stdio shutdown: close stdin, then SIGTERM, then SIGKILL, a couple of seconds apart.
    await this.child.close();
    this.o.onEnd(this, { reason, exit: this.child.exit, failedRequests });
  }

  /**
   * Answers every unanswered request with an error that says the server exited, and how. The client is anyone
   * with the URL: it hears the server's name and the exit status; the command line goes to the terminal only.
   */
  private failInFlight(): number {
    const how = describeExit(this.child.exit);
    const message = `The MCP server "${this.o.serverName}" ${how} before answering`;
    const ids = [...this.inFlight.keys()];
    for (const id of ids) this.send({ jsonrpc: "2.0", id, error: { code: ErrorCode.ConnectionClosed, message } });
    if (ids.length > 0) this.o.onOutput(this.pid, `"${describeCommand(this.o.server)}" ${how} before answering ${ids.length} request(s)`);
    return ids.length;
  }

  private toServer(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      const token = message.params?._meta?.progressToken;
      this.inFlight.set(message.id, token);
      if (token !== undefined) this.progress.set(token, message.id);
    } else if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
      // A cancelled request gets no answer: stop counting it as in flight.
      const id = message.params?.requestId;
      if (typeof id === "string" || typeof id === "number") this.settle(id);
    }
    this.child.send(message).catch(() => {
      // The process is gone; its close ends the session and answers the requests in flight.
    });
  }

  private toClient(message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      // Responses find their stream by id; once answered, a request no longer takes notifications.
      this.send(message);
      if (message.id !== undefined) this.settle(message.id);
      return;
    }
    this.send(message, this.streamFor(message));
  }

  /**
   * The request whose open SSE stream carries a message the server started: progress goes to the request that
   * asked for it; anything else (logs, sampling, elicitation) to the newest unanswered request, which the client
   * is surely listening to. With none, the SDK uses the session's GET stream.
   */
  private streamFor(message: JSONRPCMessage): RequestId | undefined {
    if (isJSONRPCNotification(message) && message.method === "notifications/progress") {
      const token = message.params?.progressToken as ProgressToken | undefined;
      const id = token === undefined ? undefined : this.progress.get(token);
      if (id !== undefined && this.inFlight.has(id)) return id;
    }
    return [...this.inFlight.keys()].at(-1);
  }

  private send(message: JSONRPCMessage, relatedRequestId?: RequestId): void {
    this.http.send(message, { relatedRequestId }).catch(() => {
      // The client dropped that stream (in 2025-era MCP that is not a cancel): nobody is left to tell.
    });
  }

  private settle(id: RequestId): void {
    const token = this.inFlight.get(id);
    this.inFlight.delete(id);
    if (token !== undefined) this.progress.delete(token);
  }
}
