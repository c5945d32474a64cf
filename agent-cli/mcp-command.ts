// `porthole mcp [options] -- <command …>`: serves a stdio MCP server as Streamable HTTP through a tunnel, and
// prints the MCP URL with the client configuration to paste.

import type { Implementation } from "@modelcontextprotocol/sdk/types.js";
import type { AgentEvent } from "./agent";
import type { Flags } from "./flags";
import { type BridgeEvent, MCP_PATH, startBridge } from "./mcp-bridge";
import { describeCommand, describeExit, probeServer, type ServerCommand } from "./mcp-child";
import type { Printer } from "./output";

/** How long the startup check waits for the server's answer to initialize (npx may be installing it). */
const PROBE_TIMEOUT_MS = 60_000;

const EXAMPLE = "porthole mcp -- npx -y @modelcontextprotocol/server-everything";

/**
 * mcp-remote's Authorization argument: it expands ${AUTH_HEADER} from the env itself, its documented way round
 * clients (Claude Desktop, Cursor on Windows) that mangle spaces inside args.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder mcp-remote expands, not a template.
const REMOTE_AUTH_ARG = "Authorization:${AUTH_HEADER}";

/** Printed once when no access rule guards the tunnel. */
const OPEN_WARNING =
  "porthole  warning: no access rule, so anyone with the URL can start the server's processes on this machine; add --bearer, --basic-auth or --allow-ip";

/** What `porthole mcp` adds to the http tunnel it runs on. */
export type TunnelExtras = {
  /** Prints an agent event in place of the standard printer, which it may call. */
  print: (e: AgentEvent, standard: (e: AgentEvent) => void) => void;
  /** Stops what the command started; runs on Ctrl-C or SIGTERM, after the agent has closed. */
  stop: () => Promise<void>;
};

/** What the CLI hands to runMcp. */
export type McpContext = {
  printer: Printer;
  usage: (message: string) => Error;
  /** Runs the http tunnel to `target` (an origin) until it stops, exactly as `porthole http` does. */
  expose: (target: string, extras: TunnelExtras) => Promise<void>;
};

type Ready = Extract<AgentEvent, { event: "ready" }>;

/** The host-mode MCP URL, its path-mode twin, and the one to put in a client's config. */
function mcpUrls(ready: Ready) {
  const mcpUrl = `${ready.url}${MCP_PATH}`;
  const mcpPathUrl = `${ready.pathUrl}${MCP_PATH}`;
  // Node's resolver (so mcp-remote and most CLI clients) cannot resolve *.localhost; the path URL works everywhere.
  const configUrl = new URL(mcpUrl).hostname.endsWith(".localhost") ? mcpPathUrl : mcpUrl;
  return { mcpUrl, mcpPathUrl, configUrl };
}

/** One line for people about a session event. */
function describeBridgeEvent(e: BridgeEvent): string {
  const who = `mcp session ${e.session.slice(0, 8)} (server pid ${e.pid})`;
  if (e.event === "mcp-session-start") return `${who} opened`;
  const why = {
    deleted: "ended by the client",
    idle: "ended: its client was idle too long",
    exited: `ended: the server ${describeExit({ code: e.exitCode, signal: e.signal })}`,
    shutdown: "ended: porthole is stopping",
  }[e.reason];
  return `${who} ${why}${e.failedRequests > 0 ? `; ${e.failedRequests} request(s) in flight got an error` : ""}`;
}

/** The flags runMcp reads: the access rules shape the snippets, --host-header is refused. */
type McpFlags = Pick<Flags, "host-header" | "bearer" | "basic-auth" | "allow-ip">;

/**
 * The Authorization value clients must send when the tunnel demands credentials, as a placeholder: the snippets
 * are meant to be pasted and shared, so they never carry the secret itself. Either credential passes; bearer is shorter.
 */
function authorizationPlaceholder(flags: McpFlags): string | undefined {
  if (flags.bearer) return "Bearer <your --bearer token>";
  if (flags["basic-auth"]) return "Basic <base64 of your --basic-auth user:password>";
  return undefined;
}

/** The claude.ai line: connectors send no custom headers, so a tunnel that demands credentials locks them out. */
function claudeAiLine(configUrl: string, authorization: string | undefined): string {
  if (authorization)
    return "  claude.ai   connectors cannot send an Authorization header, so they cannot reach this tunnel (--bearer/--basic-auth)";
  return new URL(configUrl).protocol === "https:"
    ? `  claude.ai   Settings → Connectors → Add custom connector → ${configUrl}`
    : "  claude.ai   connectors need an https relay reachable from the internet (see Self-hosting in the README)";
}

/** The URL and the config snippets to paste into clients, with an Authorization placeholder when the tunnel demands one. */
function printSetup(
  p: Printer,
  o: { name: string; server: Implementation; command: ServerCommand; urls: ReturnType<typeof mcpUrls>; authorization?: string },
) {
  const { mcpUrl, configUrl } = o.urls;
  const url = new URL(configUrl);
  const auth = o.authorization;
  // mcp-remote refuses plain http unless the host is exactly localhost or 127.0.0.1.
  const plainRemote = url.protocol === "http:" && url.hostname !== "127.0.0.1" && url.hostname !== "localhost";
  const block = (value: unknown) => JSON.stringify(value, null, 2).replace(/^/gm, "    ");
  const remoteArgs = [
    "-y",
    "mcp-remote",
    configUrl,
    ...(plainRemote ? ["--allow-http"] : []),
    ...(auth ? ["--header", REMOTE_AUTH_ARG] : []),
  ];
  const remote = { command: "npx", args: remoteArgs, ...(auth ? { env: { AUTH_HEADER: auth } } : {}) };
  p.info(`porthole  MCP server "${o.server.name}" ${o.server.version} (${describeCommand(o.command)}), one process per client session`);
  p.info(`  MCP URL     ${mcpUrl}`);
  if (configUrl !== mcpUrl) p.info(`              ${configUrl}  (the same, for clients that cannot resolve *.localhost)`);
  p.info(claudeAiLine(configUrl, auth));
  p.info(`  Claude Code claude mcp add --transport http ${o.name} ${configUrl}${auth ? ` --header "Authorization: ${auth}"` : ""}`);
  p.info("  Claude Desktop, in claude_desktop_config.json (mcp-remote bridges its stdio to the URL):");
  p.info(block({ mcpServers: { [o.name]: remote } }));
  p.info('  Streamable HTTP clients (.mcp.json, Cursor; VS Code names the key "servers"):');
  p.info(block({ mcpServers: { [o.name]: { type: "http", url: configUrl, ...(auth ? { headers: { Authorization: auth } } : {}) } } }));
}

/** Runs `porthole mcp`: checks the server starts, bridges it to HTTP, and tunnels the bridge until stopped. */
export async function runMcp(positionals: string[], commandLine: string[] | undefined, flags: McpFlags, ctx: McpContext) {
  if (positionals.length > 0) throw ctx.usage(`Put the MCP server's command after "--": ${EXAMPLE}`);
  const [command, ...args] = commandLine ?? [];
  if (!command) throw ctx.usage(`Missing the MCP server's command after "--": ${EXAMPLE}`);
  if (flags["host-header"] !== undefined) {
    throw ctx.usage("porthole mcp sets the Host header itself (its bridge checks it); --host-header is for porthole http.");
  }
  const server: ServerCommand = { command, args };
  const p = ctx.printer;
  // Each new session starts a process on this machine: without an access rule, the URL alone is enough.
  const open = [flags.bearer, flags["basic-auth"], flags["allow-ip"]].every((rule) => rule === undefined);
  const serverLine = (who: number | "bridge" | "check", line: string) => p.error(`[mcp ${who}] ${line}`);
  const info = await probeServer(server, { timeoutMs: PROBE_TIMEOUT_MS, onStderrLine: (line) => serverLine("check", line) });
  const bridge = await startBridge({
    server,
    serverName: info.name,
    onOutput: serverLine,
    onEvent: (e) => {
      if (p.json) p.event(e);
      else (e.event === "mcp-session-end" && e.reason === "exited" ? p.error : p.info)(describeBridgeEvent(e));
    },
  });
  let shown = false;
  try {
    await ctx.expose(bridge.origin, {
      print: (e, standard) => {
        if (e.event !== "ready") return standard(e);
        const urls = mcpUrls(e);
        const ready = { ...e, mcpUrl: urls.mcpUrl, mcpPathUrl: urls.mcpPathUrl, server: { name: info.name, version: info.version } };
        standard(ready);
        if (!shown) {
          if (!p.json) printSetup(p, { name: e.name, server: info, command: server, urls, authorization: authorizationPlaceholder(flags) });
          if (open) p.error(OPEN_WARNING);
        }
        shown = true;
      },
      stop: bridge.close,
    });
  } finally {
    await bridge.close();
  }
}
