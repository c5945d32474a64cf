// Everything the CLI prints: human lines on a terminal, or one JSON object per line with --json.

import type { AgentEvent } from "./agent";

/** Where and how the CLI prints. */
export type Printer = {
  json: boolean;
  event: (e: Record<string, unknown> & { event: string }) => void;
  info: (line: string) => void;
  error: (line: string) => void;
};

/** A printer for stdout/stderr; in JSON mode, human lines go to stderr so stdout stays parseable. */
export function printer(json: boolean): Printer {
  return {
    json,
    event: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
    info: (line) => (json ? process.stderr : process.stdout).write(`${line}\n`),
    error: (line) => process.stderr.write(`${line}\n`),
  };
}

/** A byte count for people: B, KiB or MiB. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Prints one agent event, as JSON or as a line for people. */
export function printAgentEvent(
  p: Printer,
  e: AgentEvent,
  extra: { target: string; relay: string; inspector: string; token?: string },
): void {
  if (p.json) return p.event(e);
  switch (e.event) {
    case "ready":
      p.info(`porthole  tunnel "${e.name}" is online, forwarding to ${extra.target}`);
      p.info(`  public URL  ${e.url}`);
      p.info(`  path URL    ${e.pathUrl}`);
      p.info(`  relay       ${extra.relay}`);
      p.info(`  inspector   ${extra.inspector}${extra.token ? `  (token ${extra.token})` : ""}`);
      if (e.policy) p.info(`  policy      ${e.policy}`);
      return;
    case "exchange": {
      const status = e.error && e.status === 0 ? `✗ ${e.error}` : String(e.status);
      const note = e.note ? `  [${e.note}]` : "";
      p.info(`${clock()}  ${e.method} ${e.path} → ${status}  ${e.durationMs} ms  ↑${size(e.bytesIn)} ↓${size(e.bytesOut)}${note}`);
      return;
    }
    case "refused":
      p.info(`${clock()}  ${e.method} ${e.path} → ${e.status} refused by the relay: ${e.reason}`);
      return;
    case "disconnected":
      p.error(`${clock()}  relay connection lost: ${e.reason}`);
      return;
    case "reconnecting":
      p.error(`${clock()}  reconnecting (attempt ${e.attempt}) in ${(e.delayMs / 1000).toFixed(1)} s: ${e.cause}`);
      return;
    case "fatal":
      p.error(`porthole: ${e.message} (${e.code})`);
      return;
  }
}
