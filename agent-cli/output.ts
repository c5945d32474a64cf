// Everything the CLI prints as lines: human lines, or one JSON object per line with --json. On a terminal,
// `porthole http` draws the live console (console.ts) instead.

import type { AgentEvent } from "./agent";

/** Text safe for a terminal: control characters (escape sequences among them), bidi marks and overrides, line separators and invisible joiners are escaped. */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
    /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

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

/** HH:MM:SS in local time. */
export function clock(at = Date.now()): string {
  return new Date(at).toTimeString().slice(0, 8);
}

/** What a fatal agent event says on stderr. */
export function fatalLine(e: Extract<AgentEvent, { event: "fatal" }>): string {
  return `porthole: ${printable(e.message)} (${printable(e.code)})`;
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
      const status = e.error && e.status === 0 ? `✗ ${printable(e.error)}` : String(e.status);
      const note = e.note ? `  [${printable(e.note)}]` : "";
      const request = `${printable(e.method)} ${printable(e.path)}`;
      p.info(`${clock()}  ${request} → ${status}  ${e.durationMs} ms  ↑${size(e.bytesIn)} ↓${size(e.bytesOut)}${note}`);
      return;
    }
    case "refused":
      p.info(`${clock()}  ${printable(e.method)} ${printable(e.path)} → ${e.status} refused by the relay: ${printable(e.reason)}`);
      return;
    case "disconnected":
      p.error(`${clock()}  relay connection lost: ${printable(e.reason)}`);
      return;
    case "reconnecting":
      p.error(`${clock()}  reconnecting (attempt ${e.attempt}) in ${(e.delayMs / 1000).toFixed(1)} s: ${printable(e.cause)}`);
      return;
    case "fatal":
      p.error(fatalLine(e));
      return;
  }
}
