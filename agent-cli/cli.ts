// The porthole command: parses arguments, starts the agent or the relay, and prints.

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { parseRateLimit } from "../worker/access";
import type { HostHeaderMode } from "../worker/headers";
import { type PolicyInput, parsePolicy } from "../worker/policy";
import { HEARTBEAT_MS, SSE_KEEPALIVE_MS, TUNNEL_NAME } from "../worker/protocol";
import { type AgentEvent, AgentFatalError, startAgent } from "./agent";
import { runCaptures, runReplay } from "./captures";
import { resolveConnection } from "./config";
import { runMcp, type TunnelExtras } from "./mcp-command";
import { randomName } from "./names";
import { type Printer, printAgentEvent, printer } from "./output";
import { type LocalRelay, startLocalRelay } from "./relay";
import { parseTarget, type Target } from "./target";

const VERSION = "0.1.0";

const HELP = `porthole ${VERSION}: a localhost tunnel through a relay you own

Usage:
  porthole http <port|host:port|url> [options]   expose a local server
  porthole <port>                                 shorthand for "porthole http <port>"
  porthole relay [options]                        run the relay locally in workerd
  porthole captures [NAME] [options]              list the requests a tunnel carried
  porthole replay <id> [NAME] [options]           send a captured request again
  porthole mcp [options] -- <command> [args...]   serve a stdio MCP server over HTTP

http options:
  --relay URL          relay to connect to (env PORTHOLE_RELAY); without one,
                       porthole starts a local relay on 127.0.0.1
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --name NAME          tunnel name, a DNS label (default: a random readable name)
  --host-header MODE   Host sent to the local server: rewrite (default, the
                       target's host), preserve (the public host) or a value
  --force              take the name over from an agent that holds it
  --capture-bytes N    bytes of each body the relay keeps in a capture (default 1 MiB)
  --heartbeat S        seconds between heartbeats (default 15); the relay and the
                       agent each call the other dead after three silent periods
  --sse-keepalive S    seconds an event stream may be idle before the relay writes
                       a ": keepalive" comment between events (default 20; 0 or off)
  --verify P:SECRET    verify webhook signatures at the relay (repeatable); P is
                       github, stripe, slack, standard-webhooks (svix), shopify,
                       twilio, square, linear, discord, twitch, paddle, zoom,
                       sendgrid, mailgun, intercom, pagerduty, gitlab, typeform,
                       calendly, vercel or an hmac recipe
  --verify-mode MODE   enforce (default: a bad signature gets 401) or log
  --basic-auth U:P     require HTTP basic auth on the public URL (repeatable)
  --bearer TOKEN       require "Authorization: Bearer TOKEN" (repeatable)
  --allow-ip CIDR      allow only these client addresses, IPv4 or IPv6 (repeatable)
  --rate-limit N/min   at most N requests a minute per client address (429)
  --json               print newline-delimited JSON events
  --verbose            print stack traces on errors

mcp options: the http options except --host-header, then "--" and the command
  that starts the stdio MCP server. Each client session gets its own server
  process; clients connect to the public URL + /mcp.

relay options:
  --port N             port on 127.0.0.1 (default 8787; 0 picks a free one)
  --token T            agent token (env PORTHOLE_TOKEN; default: random, printed)
  --domain D           public domain for host mode (default localhost)
  --grace S            seconds to hold requests while an agent reconnects (default 10)
  --json               print newline-delimited JSON events

captures and replay options (NAME defaults to the relay's only tunnel):
  --relay URL          relay to ask (env PORTHOLE_RELAY; required here)
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --limit N            captures to list, newest first (default 50)
  --follow             list oldest first, then print each capture as it completes
  --mcp                list MCP messages instead: each request with its answer
                       and timing, notifications too (--limit counts them)
  --mcp-method M       only MCP method M and those under it (tools/call,
                       notifications); implies --mcp
  --method M           replay with another method
  --path P             replay to another path and query
  --header K:V         replay with header K set to V (repeatable; "K:" removes K)
  --body-file F        replay with the bytes of file F as the body
  --resign             replay signed again, with a fresh timestamp, by the
                       tunnel's --verify secret (verbatim without it)
  --json               print one JSON object per line

Config file: $PORTHOLE_CONFIG or ~/.config/porthole/config.json with {"relay", "token"}.
Flags win over the environment, and the environment over the config file.
`;

const OPTIONS = {
  relay: { type: "string" },
  token: { type: "string" },
  name: { type: "string" },
  "host-header": { type: "string" },
  force: { type: "boolean" },
  heartbeat: { type: "string" },
  "sse-keepalive": { type: "string" },
  verify: { type: "string", multiple: true },
  "verify-mode": { type: "string" },
  "basic-auth": { type: "string", multiple: true },
  bearer: { type: "string", multiple: true },
  "allow-ip": { type: "string", multiple: true },
  "rate-limit": { type: "string" },
  "capture-bytes": { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  port: { type: "string" },
  domain: { type: "string" },
  grace: { type: "string" },
  follow: { type: "boolean" },
  mcp: { type: "boolean" },
  "mcp-method": { type: "string" },
  limit: { type: "string" },
  method: { type: "string" },
  path: { type: "string" },
  header: { type: "string", multiple: true },
  "body-file": { type: "string" },
  resign: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** A mistake in how porthole was called: printed without a stack, exit code 2. */
class UsageError extends Error {}

function hostHeaderMode(value: string | undefined): HostHeaderMode {
  if (value === undefined || value === "rewrite") return "rewrite";
  if (value === "preserve") return "preserve";
  return { value };
}

function nonNegative(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} expects a non-negative number, got "${value}".`);
  return n;
}

function heartbeatMs(value: string): number {
  const ms = Math.round(Number(value) * 1000);
  if (!Number.isFinite(ms) || ms < HEARTBEAT_MS.min || ms > HEARTBEAT_MS.max) {
    throw new UsageError(`--heartbeat expects seconds between ${HEARTBEAT_MS.min / 1000} and ${HEARTBEAT_MS.max / 1000}, got "${value}".`);
  }
  return ms;
}

function sseKeepaliveMs(value: string): number {
  if (value === "off" || value === "0") return 0;
  const ms = Math.round(Number(value) * 1000);
  if (!Number.isFinite(ms) || ms < SSE_KEEPALIVE_MS.min || ms > SSE_KEEPALIVE_MS.max) {
    const range = `${SSE_KEEPALIVE_MS.min / 1000} and ${SSE_KEEPALIVE_MS.max / 1000}`;
    throw new UsageError(`--sse-keepalive expects seconds between ${range}, or 0 or "off", got "${value}".`);
  }
  return ms;
}

/** The policy from --verify and the access flags; undefined when none is given, which keeps the relay's. */
function policyFlags(flags: Flags): PolicyInput | undefined {
  const mode = flags["verify-mode"];
  const given = [flags.verify, flags["basic-auth"], flags.bearer, flags["allow-ip"], flags["rate-limit"], mode];
  if (given.every((v) => v === undefined)) return undefined;
  // Checked here too, so a typo fails before connecting.
  try {
    const access = {
      ...(flags["basic-auth"] ? { basicAuth: flags["basic-auth"] } : {}),
      ...(flags.bearer ? { bearer: flags.bearer } : {}),
      ...(flags["allow-ip"] ? { allowIp: flags["allow-ip"] } : {}),
      ...(flags["rate-limit"] ? { rateLimitPerMinute: parseRateLimit(flags["rate-limit"]) } : {}),
    };
    return parsePolicy({ verify: flags.verify ?? [], verifyMode: mode ?? "enforce", access }).input;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** 8787 when it is free, else any free port, said out loud. */
async function embeddedPort(p: Printer): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(8787, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  if (!free) p.info("porthole  port 8787 is busy; the local relay takes a free port instead");
  return free ? 8787 : 0;
}

/** Stops on Ctrl-C or SIGTERM, cleaning up in order. */
function onSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function runHttp(targetArg: string | undefined, flags: Flags, p: Printer, extras?: TunnelExtras): Promise<void> {
  if (!targetArg) throw new UsageError('Missing the target: "porthole http 3000" exposes http://localhost:3000.');
  let target: Target;
  try {
    target = parseTarget(targetArg);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const name = flags.name ?? randomName();
  if (!TUNNEL_NAME.test(name)) throw new UsageError(`--name "${name}" is not a DNS label: use a-z, 0-9 and "-", 1 to 63 characters.`);
  let { relay, token } = resolveConnection({ relay: flags.relay, token: flags.token });
  let local: LocalRelay | undefined;
  if (!relay) {
    token = randomBytes(24).toString("hex");
    local = await startLocalRelay({ port: await embeddedPort(p), token });
    relay = local.url;
  }
  if (!token) throw new UsageError(`No token for relay ${relay}: pass --token or set PORTHOLE_TOKEN.`);
  const relayLabel = local ? `${relay} (embedded local relay)` : relay;
  const print = (e: AgentEvent) =>
    printAgentEvent(p, e, {
      target: target.origin,
      relay: relayLabel,
      inspector: `${relay}/_porthole/inspect/${name}`,
      // The embedded relay's token exists only in this process: show it, or nobody could log in.
      token: local ? token : undefined,
    });
  const agent = startAgent({
    relay,
    token,
    name,
    target,
    hostHeader: hostHeaderMode(flags["host-header"]),
    force: flags.force,
    heartbeatMs: flags.heartbeat === undefined ? undefined : heartbeatMs(flags.heartbeat),
    captureBytes: flags["capture-bytes"] === undefined ? undefined : nonNegative(flags["capture-bytes"], "--capture-bytes", 0),
    sseKeepaliveMs: flags["sse-keepalive"] === undefined ? undefined : sseKeepaliveMs(flags["sse-keepalive"]),
    policy: policyFlags(flags),
    onEvent: (e) => (extras ? extras.print(e, print) : print(e)),
  });
  onSignal(async () => {
    await agent.close();
    await extras?.stop();
    await local?.stop();
  });
  try {
    await agent.done;
  } finally {
    await local?.stop();
  }
}

async function runRelay(flags: Flags, p: Printer): Promise<void> {
  const port = nonNegative(flags.port, "--port", 8787);
  const given = flags.token ?? (process.env.PORTHOLE_TOKEN || undefined);
  const token = given ?? randomBytes(24).toString("hex");
  const relay = await startLocalRelay({
    port,
    token,
    domain: flags.domain,
    graceSeconds: flags.grace === undefined ? undefined : nonNegative(flags.grace, "--grace", 10),
  });
  const domain = flags.domain ?? "localhost";
  const hostPattern = `${new URL(relay.url).protocol}//<name>.${domain}:${new URL(relay.url).port}`;
  if (p.json) p.event({ event: "relay-ready", url: relay.url, ...(given ? {} : { token }) });
  else {
    p.info(`porthole  relay listening on ${relay.url}`);
    p.info(`  tunnels     ${hostPattern}  or  ${relay.url}/t/<name>`);
    if (!given) p.info(`  token       ${token}`);
  }
  onSignal(relay.stop);
  await new Promise(() => {});
}

/** Runs the CLI with the given arguments (without node and the script path). */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  // Everything after the first "--" is the command line porthole mcp runs, never porthole's own arguments.
  const dash = argv.indexOf("--");
  const commandLine = dash < 0 ? undefined : argv.slice(dash + 1);
  try {
    parsed = parseArgs({ args: dash < 0 ? argv : argv.slice(0, dash), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`porthole: ${(err as Error).message}\nRun "porthole --help" for usage.\n`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const p = printer(!!flags.json);
  if (flags.version || flags.help || positionals.length === 0) {
    process.stdout.write(flags.version ? `${VERSION}\n` : HELP);
    return 0;
  }
  const [command, ...rest] = positionals;
  try {
    if (commandLine !== undefined && command !== "mcp")
      throw new UsageError('"--" separates the command of "porthole mcp"; other commands take no command line.');
    if (command === "http") await runHttp(rest[0], flags, p);
    else if (command === "relay") await runRelay(flags, p);
    else if (command === "captures") await runCaptures(rest, flags, { printer: p, usage: (m) => new UsageError(m) });
    else if (command === "replay") await runReplay(rest, flags, { printer: p, usage: (m) => new UsageError(m) });
    else if (command === "mcp")
      await runMcp(rest, commandLine, flags, { printer: p, usage: (m) => new UsageError(m), expose: (t, x) => runHttp(t, flags, p, x) });
    else if (/^\d+$/.test(command ?? "") && rest.length === 0) await runHttp(command, flags, p);
    else throw new UsageError(`Unknown command "${command}". Run "porthole --help" for usage.`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      p.error(`porthole: ${err.message}`);
      return 2;
    }
    // The agent already printed its fatal event; other errors are printed here, stack only with --verbose.
    if (!(err instanceof AgentFatalError)) {
      p.error(`porthole: ${flags.verbose && err instanceof Error ? err.stack : (err as Error).message}`);
    }
    return 1;
  }
}
