// `porthole http`: one tunnel to a local target, on the configured relay or an embedded local one.

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { TUNNEL_NAME } from "../worker/protocol";
import { type AgentEvent, startAgent } from "./agent";
import { resolveConnection } from "./config";
import { TerminalConsole, wantsConsole } from "./console";
import { type Flags, UsageError } from "./flags";
import type { TunnelExtras } from "./mcp-command";
import { randomName } from "./names";
import { type Printer, printAgentEvent } from "./output";
import { tunnelOptions } from "./presets";
import { type LocalRelay, startLocalRelay } from "./relay";
import { parseTarget, type Target } from "./target";

/** 8787 when it is free, else any free port, said out loud. */
export async function embeddedPort(p: Printer): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(8787, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  if (!free) p.info("porthole  port 8787 is busy; the local relay takes a free port instead");
  return free ? 8787 : 0;
}

/** Stops on Ctrl-C or SIGTERM, cleaning up in order. */
export function onSignal(stop: () => Promise<void>): void {
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

/** The configured relay, or an embedded local one (with a fresh token) when none is configured. */
export async function relayFor(
  given: { relay?: string; token?: string },
  p: Printer,
): Promise<{ relay: string; token: string; local?: LocalRelay }> {
  if (given.relay) {
    if (!given.token) throw new UsageError(`No token for relay ${given.relay}: pass --token or set PORTHOLE_TOKEN.`);
    return { relay: given.relay, token: given.token };
  }
  const token = randomBytes(24).toString("hex");
  const local = await startLocalRelay({ port: await embeddedPort(p), token });
  return { relay: local.url, token, local };
}

/** `porthole http`: exposes the target through the relay (an embedded one when none is configured) until stopped. */
export async function runHttp(targetArg: string | undefined, flags: Flags, p: Printer, extras?: TunnelExtras): Promise<void> {
  if (!targetArg) throw new UsageError('Missing the target: "porthole http 3000" exposes http://localhost:3000.');
  let target: Target;
  try {
    target = parseTarget(targetArg);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const name = flags.name ?? randomName();
  if (!TUNNEL_NAME.test(name)) throw new UsageError(`--name "${name}" is not a DNS label: use a-z, 0-9 and "-", 1 to 63 characters.`);
  const { relay, token, local } = await relayFor(resolveConnection({ relay: flags.relay, token: flags.token }), p);
  const relayLabel = local ? `${relay} (embedded local relay)` : relay;
  const inspector = `${relay}/_porthole/inspect/${name}`;
  // The embedded relay's token exists only in this process: show it, or nobody could log in.
  const shownToken = local ? token : undefined;
  // A terminal gets the live console; `porthole mcp` keeps lines, because its client setup must stay on screen to be copied.
  const screen = !extras && wantsConsole(p) ? new TerminalConsole({ relay: relayLabel, token: shownToken }) : undefined;
  const print =
    screen?.tunnel({ name, target: target.origin, inspector }) ??
    ((e: AgentEvent) => printAgentEvent(p, e, { target: target.origin, relay: relayLabel, inspector, token: shownToken }));
  const agent = startAgent({
    relay,
    token,
    name,
    target,
    ...tunnelOptions(flags),
    onEvent: (e) => (extras ? extras.print(e, print) : print(e)),
  });
  // Started once the flags have parsed, so a usage error is printed on the normal screen.
  screen?.start();
  onSignal(async () => {
    screen?.stop();
    await agent.close();
    await extras?.stop();
    await local?.stop();
  });
  try {
    await agent.done;
  } finally {
    screen?.stop();
    await local?.stop();
  }
}
