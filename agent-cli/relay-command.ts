// `porthole relay`: the relay Worker in local workerd, for agents on this machine.

import { randomBytes } from "node:crypto";
import { type Flags, nonNegative } from "./flags";
import { onSignal } from "./http-command";
import type { Printer } from "./output";
import { startLocalRelay } from "./relay";

/** `porthole relay`: the relay in workerd on 127.0.0.1, until stopped. */
export async function runRelay(flags: Flags, p: Printer): Promise<void> {
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
