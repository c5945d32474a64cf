// The stdio MCP server process behind `porthole mcp`: spawned by the SDK's StdioClientTransport, its stderr
// passed on line by line, and its exit status kept, because the SDK reports a close without one.

import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Implementation } from "@modelcontextprotocol/sdk/types.js";

/** The server's command line, as given after `--`. */
export type ServerCommand = { command: string; args: string[] };

/** How a server process ended: an exit code, or the signal that stopped it. */
export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

/** `node server.mjs --flag`, quoted where needed: how messages name the server. */
export function describeCommand(server: ServerCommand): string {
  return [server.command, ...server.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** "exited with code 3", "was stopped by SIGTERM". */
export function describeExit(exit: ExitStatus | undefined): string {
  if (exit?.signal) return `was stopped by ${exit.signal}`;
  return exit?.code === null || exit?.code === undefined ? "exited" : `exited with code ${exit.code}`;
}

/**
 * The server gets the environment it would get if run from this shell (the SDK would pass only a few variables),
 * minus porthole's own: PORTHOLE_TOKEN is the relay's secret, and the server may be anyone's code.
 */
function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith("PORTHOLE_")),
  );
}

/** A stdio transport to one server process that also records how the process ended. */
export class ChildTransport extends StdioClientTransport {
  /** Set once the process has exited; always set before `onclose` runs. */
  exit?: ExitStatus;

  constructor(server: ServerCommand, onStderrLine: (line: string) => void) {
    super({ command: server.command, args: server.args, env: inheritedEnv(), stderr: "pipe" });
    createInterface({ input: this.stderr as Readable, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onStderrLine);
  }

  override async start(): Promise<void> {
    await super.start();
    // The SDK keeps its ChildProcess private and its onclose has no exit code; "exit" always fires before "close".
    (this as unknown as { _process?: ChildProcess })._process?.once("exit", (code, signal) => {
      this.exit = { code, signal };
    });
  }
}

/**
 * Why a server could not be started, as a cause class that is safe to show anyone: never the command line,
 * its arguments (which may hold an API key), paths, or raw error text.
 */
export function startCause(err: unknown, exit: ExitStatus | undefined, timeoutMs?: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "command not found";
  if (code === "EACCES") return "permission denied";
  if (exit) return `it ${describeExit(exit)} before answering initialize`;
  if (timeoutMs !== undefined && /timed out/i.test((err as Error).message)) return `no answer to initialize within ${timeoutMs / 1000} s`;
  return "it could not be started";
}

/** Why a server could not be started, for the terminal that started it: the cause class, the command line and the raw error. */
function startFailure(server: ServerCommand, transport: ChildTransport, err: unknown, timeoutMs: number): Error {
  const cause = startCause(err, transport.exit, timeoutMs);
  // The exit status says it all; otherwise the raw error (a spawn errno, a protocol error) helps.
  const detail = transport.exit ? "" : ` (${(err as Error).message})`;
  return new Error(`Cannot start the MCP server "${describeCommand(server)}": ${cause}${detail}.`);
}

/** Spawns the server once and initializes it, so a wrong command fails now rather than on the first client. */
export async function probeServer(
  server: ServerCommand,
  o: { timeoutMs: number; onStderrLine: (line: string) => void },
): Promise<Implementation> {
  const transport = new ChildTransport(server, o.onStderrLine);
  const client = new Client({ name: "porthole-probe", version: "1.0.0" });
  try {
    await client.connect(transport, { timeout: o.timeoutMs });
    return client.getServerVersion() ?? { name: "unnamed", version: "unknown" };
  } catch (err) {
    throw startFailure(server, transport, err, o.timeoutMs);
  } finally {
    await client.close();
  }
}
