// `porthole start [NAMES…]`: runs tunnel presets from the config files as several tunnels of one process,
// one agent each, on the configured relay or on one embedded local relay they share.

import { type AgentEvent, AgentFatalError, startAgent } from "./agent";
import { connection, loadConfig, presets } from "./config";
import { startConsole } from "./console";
import { type Flags, UsageError } from "./flags";
import { onSignal, relayFor } from "./http-command";
import { type Printer, printAgentEvent } from "./output";
import { PRESET_FIELDS, type Preset, tunnelOptions } from "./presets";

/** One preset as it runs, with what its ready lines show. */
export type TunnelRun = Preset & { relayLabel: string; inspector: string; token?: string };

/** How `start` shows a tunnel's events; the TTY console can take this one's place. */
export type StartView = (run: TunnelRun, e: AgentEvent) => void;

/** Prints like `porthole http`, each line prefixed with the preset when several run; JSON events carry "tunnel". */
export function plainView(p: Printer, several: boolean): StartView {
  return (run, e) => {
    const prefix = several ? `[${run.preset}] ` : "";
    const tunnelPrinter: Printer = {
      json: p.json,
      event: (event) => p.event({ ...event, tunnel: run.preset }),
      info: (line) => p.info(prefix + line),
      error: (line) => p.error(prefix + line),
    };
    printAgentEvent(tunnelPrinter, e, { target: run.target.origin, relay: run.relayLabel, inspector: run.inspector, token: run.token });
  };
}

/** The presets NAMES picks (all of them when none is named), or a usage error listing the known ones. */
function choose(names: string[], loaded: ReturnType<typeof loadConfig>): Preset[] {
  const all = presets(loaded);
  const files = [loaded.project?.path, loaded.user.path].filter(Boolean).join(" or ");
  if (all.size === 0) {
    throw new UsageError(`No tunnel presets in ${files}: add {"tunnels": {"web": {"target": "3000"}}} to one of them.`);
  }
  const unknown = names.find((n) => !all.has(n));
  if (unknown !== undefined) throw new UsageError(`Unknown tunnel preset "${unknown}"; the presets are: ${[...all.keys()].join(", ")}.`);
  const chosen = names.length === 0 ? [...all.values()] : [...new Set(names)].map((n) => all.get(n)!);
  const byName = new Map<string, string>();
  for (const preset of chosen) {
    const other = byName.get(preset.name);
    if (other !== undefined) throw new UsageError(`Presets "${other}" and "${preset.preset}" both use the tunnel name "${preset.name}".`);
    byName.set(preset.name, preset.preset);
  }
  return chosen;
}

/** A tunnel's own options belong in its preset: on `start` they would apply to every tunnel, or silently to none. */
function rejectTunnelFlags(flags: Flags): void {
  const fields = Object.entries(PRESET_FIELDS).map(([field, spec]) => [field, spec.flag] as const);
  for (const [field, flag] of [["name", "name"] as const, ...fields]) {
    if (flags[flag] !== undefined) throw new UsageError(`--${flag} is a tunnel's own option: set "${field}" in its preset instead.`);
  }
}

/** `porthole start`: runs the presets until Ctrl-C; one tunnel's fatal error leaves the others running. */
export async function runStart(names: string[], flags: Flags, p: Printer, view?: StartView): Promise<void> {
  rejectTunnelFlags(flags);
  const loaded = loadConfig();
  const chosen = choose(names, loaded);
  // Parsed before anything starts, so a bad --heartbeat fails without a relay to clean up.
  const options = chosen.map((preset) => tunnelOptions({ ...preset.flags, force: flags.force, heartbeat: flags.heartbeat }));
  const { relay, token, local } = await relayFor(connection(flags, process.env, loaded), p);
  const runs: TunnelRun[] = chosen.map((preset) => ({
    ...preset,
    relayLabel: local ? `${relay} (embedded local relay)` : relay,
    inspector: `${relay}/_porthole/inspect/${preset.name}`,
    // The embedded relay's token exists only in this process: show it, or nobody could log in.
    token: local ? token : undefined,
  }));
  // On a terminal, the live console shows every tunnel (console.ts); it gives the terminal back before anything else prints.
  const tunnels = runs.map((run) => ({ name: run.name, target: run.target.origin, inspector: run.inspector }));
  const screen = view ? undefined : startConsole(p, { relay: runs[0]!.relayLabel, token: runs[0]!.token, tunnels });
  const show = view ?? (screen ? (run: TunnelRun, e: AgentEvent) => screen.show(run.name, e) : plainView(p, chosen.length > 1));
  const agents = runs.map((run, i) =>
    startAgent({ ...options[i], relay: relay!, token: token!, name: run.name, target: run.target, onEvent: (e) => show(run, e) }),
  );
  onSignal(async () => {
    screen?.stop();
    await Promise.all(agents.map((agent) => agent.close()));
    await local?.stop();
  });
  let running = runs.length;
  const failed: string[] = [];
  await Promise.all(
    runs.map((run, i) =>
      agents[i]!.done.catch((err: AgentFatalError) => {
        running -= 1;
        failed.push(`${run.preset} (${err.code})`);
        // The console shows a stopped tunnel itself; a line would scribble over it.
        if (running > 0 && !screen) p.error(`porthole: tunnel preset "${run.preset}" stopped; ${running} of ${runs.length} still running`);
      }),
    ),
  );
  screen?.stop();
  await local?.stop();
  if (failed.length > 0) {
    if (runs.length > 1) p.error(`porthole: every tunnel stopped: ${failed.join(", ")}`);
    throw new AgentFatalError("all-stopped", `every tunnel stopped: ${failed.join(", ")}`);
  }
}
