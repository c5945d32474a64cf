// `porthole status`: the relay, whether it answers, and its tunnels with which are online and since when.

import { CapturesApi } from "./api";
import { resolveConnection } from "./config";
import { span } from "./console-view";
import { type Flags, UsageError } from "./flags";
import { clock, type Printer } from "./output";
import { checkProtocol, health, ProbeError } from "./probe";

/** A tunnel as `status` shows it; `connectedAt` is when an agent last connected (ms), null if never. */
export type TunnelStatus = { name: string; online: boolean; connectedAt: number | null; captures: number };

/** Relay URL and token from the flags, environment or config files; the relay, when there is one, must be an http(s) URL. */
export function connectionOf(flags: Flags): { relay?: string; token?: string } {
  const { relay, token } = resolveConnection({ relay: flags.relay, token: flags.token });
  if (relay === undefined) return { token };
  let url: URL;
  try {
    url = new URL(relay);
  } catch {
    throw new UsageError(`--relay "${relay}" is not a URL: use http(s)://host[:port].`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--relay "${relay}" must be an http or https URL.`);
  return { relay, token };
}

/** When, for people: the time today, the date and time otherwise, and how long ago. */
function when(at: number, now: number): string {
  const d = new Date(at);
  const today = d.toDateString() === new Date(now).toDateString();
  const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")} `;
  return `${today ? "" : day}${clock(at)} (${span(now - at)} ago)`;
}

/** One line per tunnel: name, online or offline, since when, captures. */
export function statusLines(tunnels: TunnelStatus[], now: number): string[] {
  const width = Math.max(...tunnels.map((t) => t.name.length));
  return tunnels.map((t) => {
    const state = t.online ? "online " : "offline";
    const since = t.connectedAt === null ? "never connected" : `${t.online ? "since" : "last connected"} ${when(t.connectedAt, now)}`;
    return `  ${t.name.padEnd(width)}  ${state}  ${since}  ${t.captures} capture${t.captures === 1 ? "" : "s"}`;
  });
}

/** `porthole status`: prints the relay and its tunnels; 1 when the relay cannot be reached or refuses the token. */
export async function runStatus(positionals: string[], flags: Flags, p: Printer): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`"porthole status" takes no arguments, got "${positionals[0]}".`);
  const { relay, token } = connectionOf(flags);
  if (!relay) {
    throw new UsageError(
      '"porthole status" asks a relay: pass --relay URL or set PORTHOLE_RELAY (an embedded relay lives inside its porthole http).',
    );
  }
  if (!token) throw new UsageError(`No token for relay ${relay}: pass --token or set PORTHOLE_TOKEN.`);
  let protocol: number;
  let ms: number;
  try {
    const h = await health(relay);
    checkProtocol(h);
    ({ protocol, ms } = h);
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err;
    if (p.json) p.event({ event: "status", relay, reachable: false, error: err.message, fix: err.fix });
    else p.error(`porthole: relay ${relay} is not usable: ${err.message}\n  fix: ${err.fix}`);
    return 1;
  }
  const tunnels = await new CapturesApi(relay, token).tunnels();
  if (p.json) {
    p.event({ event: "status", relay, reachable: true, protocol, tunnels });
    return 0;
  }
  const online = tunnels.filter((t) => t.online).length;
  p.info(`relay    ${relay}  reachable in ${ms} ms, protocol ${protocol}`);
  if (tunnels.length === 0) {
    p.info(`tunnels  none yet: "porthole http 3000 --relay ${relay}" opens one`);
    return 0;
  }
  p.info(`tunnels  ${tunnels.length}, ${online} online`);
  for (const line of statusLines(tunnels, Date.now())) p.info(line);
  return 0;
}
