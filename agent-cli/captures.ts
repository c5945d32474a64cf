// `porthole captures` and `porthole replay`: the two commands that print what the captures API answers.

import { readFileSync } from "node:fs";
import type WebSocket from "ws";
import { TUNNEL_NAME } from "../worker/protocol";
import { type CaptureSummary, CapturesApi, type ReplayEdits } from "./api";
import { resolveConnection } from "./config";
import { mcpLine } from "./mcp-lines";
import { type Printer, printable, size } from "./output";

/** Tunables of the two commands. */
export const CAPTURES_DEFAULTS = {
  /** Captures listed when --limit is not given. */
  limit: 50,
  feedBackoffInitialMs: 250,
  feedBackoffMaxMs: 10_000,
  /** Ids remembered by --follow so a capture seen in the list and on the feed prints once. */
  seenIds: 1000,
} as const;

/** What the commands need from the CLI: where to print, and how it reports a usage mistake (exit 2). */
export type CommandContext = { printer: Printer; usage: (message: string) => Error };

type ConnectionFlags = { relay?: string; token?: string; json?: boolean };

function connect(flags: ConnectionFlags, command: string, usage: CommandContext["usage"]): CapturesApi {
  const { relay, token } = resolveConnection({ relay: flags.relay, token: flags.token });
  if (!relay) throw usage(`"porthole ${command}" reads captures from a relay: pass --relay URL or set PORTHOLE_RELAY.`);
  let url: URL;
  try {
    url = new URL(relay);
  } catch {
    throw usage(`--relay "${relay}" is not a URL: use http(s)://host[:port].`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usage(`--relay "${relay}" must be an http or https URL.`);
  if (!token) throw usage(`No token for relay ${relay}: pass --token or set PORTHOLE_TOKEN.`);
  return new CapturesApi(relay, token);
}

/** The tunnel NAME, or the relay's only tunnel when NAME is left out. */
async function tunnelName(api: CapturesApi, given: string | undefined, usage: CommandContext["usage"]): Promise<string> {
  if (given !== undefined) {
    if (!TUNNEL_NAME.test(given)) throw usage(`"${given}" is not a tunnel name: use a-z, 0-9 and "-", 1 to 63 characters.`);
    return given;
  }
  const names = (await api.tunnels()).map((t) => t.name);
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw usage(`Relay ${api.relay} has no tunnels yet.`);
  throw usage(`Relay ${api.relay} has ${names.length} tunnels, name one of them: ${names.join(", ")}.`);
}

/** One capture as a line for people. Ids are printed whole: they start with the time, so a prefix names no single capture. */
export function captureLine(c: CaptureSummary, now = new Date()): string {
  const at = new Date(c.startedAt);
  const day =
    at.toDateString() === now.toDateString()
      ? ""
      : `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")} `;
  const result = c.state === "open" ? "… open" : c.outcome === "ok" ? String(c.status) : `${c.status ? `${c.status} ` : ""}✗ ${c.outcome}`;
  const ws = c.kind === "websocket" ? " (WebSocket)" : "";
  const replay = c.replayOf ? ` (replay of ${c.replayOf})` : "";
  const took = `${Math.round(c.durationMs * 10) / 10} ms`;
  const line = `${day}${at.toTimeString().slice(0, 8)}  ${c.method} ${c.path}${ws} → ${result}${deniedReason(c)}  ${took}`;
  return `${line}  ↑${size(c.requestSize)} ↓${size(c.responseSize)}  ${c.id}${replay}${verdict(c.verification)}`;
}

/** Why the relay denied the request, unless the signature verdict printed at the end of the line already says it. */
function deniedReason(c: CaptureSummary): string {
  if (c.outcome !== "denied" || !c.error) return "";
  return c.verification && !c.verification.ok && c.verification.reason === c.error ? "" : `: ${printable(c.error)}`;
}

/** The webhook signature verdict: `  ✓ github`, `  ✗ github: signature mismatch`, `  ✗ github (log): …` when only logged. */
function verdict(v: CaptureSummary["verification"] | undefined): string {
  if (!v) return "";
  const handshake = v.handshake ? ` ${printable(v.handshake)}` : "";
  if (v.ok) return `  ✓ ${v.provider}${handshake}`;
  return `  ✗ ${v.provider}${v.mode === "log" ? " (log)" : ""}${handshake}: ${printable(v.reason)}`;
}

function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export type CapturesFlags = ConnectionFlags & { follow?: boolean; limit?: string; mcp?: boolean; "mcp-method"?: string };

/** `porthole captures [NAME]`: the newest captures, then with --follow each one as it completes, until Ctrl-C. */
export async function runCaptures(args: string[], flags: CapturesFlags, ctx: CommandContext): Promise<void> {
  if (args.length > 1) throw ctx.usage(`"porthole captures" takes at most one tunnel name, got ${args.length} arguments.`);
  const limit = flags.limit === undefined ? CAPTURES_DEFAULTS.limit : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw ctx.usage(`--limit expects a positive whole number, got "${flags.limit}".`);
  const mcp = flags.mcp || flags["mcp-method"] !== undefined;
  if (mcp && flags.follow) throw ctx.usage("--mcp shows the MCP messages stored so far; it does not combine with --follow.");
  const api = connect(flags, "captures", ctx.usage);
  const name = await tunnelName(api, args[0], ctx.usage);
  if (mcp) return printMcp(api, name, { method: flags["mcp-method"], limit, json: !!flags.json }, ctx.printer);
  const print = (c: CaptureSummary) => (flags.json ? writeJson(c) : ctx.printer.info(captureLine(c)));
  if (!flags.follow) {
    const { captures } = await api.list(name, limit);
    for (const c of captures) print(c);
    if (captures.length === 0 && !flags.json) ctx.printer.info(`porthole  tunnel "${name}" has no captures on ${api.relay}`);
    return;
  }
  await follow(api, name, limit, print, ctx.printer);
}

/** `porthole captures --mcp`: the relay's MCP view, oldest first, one line (or JSON object) per entry. */
async function printMcp(api: CapturesApi, name: string, o: { method?: string; limit: number; json: boolean }, p: Printer): Promise<void> {
  const view = await api.mcp(name, { method: o.method, limit: o.limit });
  for (const entry of view.entries) o.json ? writeJson(entry) : p.info(mcpLine(entry));
  for (const note of view.notes) p.info(`porthole  note on capture ${note.captureId}: ${printable(note.message)}`);
  if (!view.complete) p.info(`porthole  only the newest ${view.scanned} captures were read`);
  if (view.entries.length === 0) {
    const which = o.method ? ` of method "${printable(o.method)}"` : "";
    p.info(`porthole  tunnel "${name}" has no MCP messages${which} on ${api.relay} (methods seen: ${view.methods.join(", ") || "none"})`);
  }
}

/** Prints the backlog oldest first, then every completed capture, reconnecting the feed when it drops. */
async function follow(api: CapturesApi, name: string, limit: number, print: (c: CaptureSummary) => void, p: Printer): Promise<void> {
  const seen = new Set<string>();
  const once = (c: CaptureSummary) => {
    if (seen.has(c.id)) return;
    seen.add(c.id);
    if (seen.size > CAPTURES_DEFAULTS.seenIds) seen.delete(seen.values().next().value!);
    print(c);
  };
  let stopped = false;
  let socket: WebSocket | undefined;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    socket?.close(1000, "porthole captures --follow stopped");
    wake?.();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let failures = 0;
  let everOpened = false;
  try {
    while (!stopped) {
      // Open the feed before listing, holding its messages, so nothing completes unseen in between.
      let held: CaptureSummary[] | undefined = [];
      const feed = api.feed(name, (m) => {
        if (m.type === "end") {
          if (held) held.push(m.capture);
          else once(m.capture);
        } else if (m.type === "clear" && !p.json) p.info(`porthole  captures of tunnel "${name}" were cleared`);
      });
      socket = feed.socket;
      const closed = new Promise<string>((resolve) =>
        feed.socket.once("close", (code, reason) => resolve(`${code}${reason.length ? ` ${String(reason)}` : ""}`)),
      );
      try {
        await feed.opened;
        const backlog = (await api.list(name, limit)).captures.filter((c) => c.state === "done").reverse();
        for (const c of [...backlog, ...held]) once(c);
        held = undefined;
      } catch (err) {
        // A relay that refuses or cannot be reached at the start ends the command; later, it is retried.
        if (stopped) break;
        if (!everOpened) throw err;
        feed.socket.terminate();
        await pause(++failures, `cannot reopen the feed of tunnel "${name}": ${(err as Error).message}`);
        continue;
      }
      if (everOpened) p.error(`porthole  feed of tunnel "${name}" reopened`);
      everOpened = true;
      failures = 0;
      const why = await closed;
      if (!stopped) await pause(++failures, `feed of tunnel "${name}" closed (${why})`);
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }

  function pause(attempt: number, cause: string): Promise<void> {
    const base = Math.min(CAPTURES_DEFAULTS.feedBackoffMaxMs, CAPTURES_DEFAULTS.feedBackoffInitialMs * 2 ** (attempt - 1));
    const delayMs = Math.round(base * (0.5 + Math.random() / 2));
    p.error(`porthole  ${cause}; reconnecting (attempt ${attempt}) in ${(delayMs / 1000).toFixed(1)} s`);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

export type ReplayFlags = ConnectionFlags & { method?: string; path?: string; header?: string[]; "body-file"?: string; resign?: boolean };

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Applies `K:V` edits to captured headers: a name given replaces every header of that name where the first stood,
 * new names are appended, and `K:` alone removes K. */
export function editHeaders(original: [string, string][], edits: string[], usage: CommandContext["usage"]): [string, string][] {
  const given = new Map<string, [string, string][]>();
  for (const edit of edits) {
    const colon = edit.indexOf(":");
    const name = edit.slice(0, colon).trim();
    if (colon < 0 || !HEADER_NAME.test(name)) throw usage(`--header expects NAME:VALUE (or "NAME:" to remove it), got "${edit}".`);
    const value = edit.slice(colon + 1).trim();
    const list = given.get(name.toLowerCase()) ?? [];
    if (value !== "") list.push([name, value]);
    given.set(name.toLowerCase(), list);
  }
  const out: [string, string][] = [];
  for (const [name, value] of original) {
    const replacement = given.get(name.toLowerCase());
    if (!replacement) out.push([name, value]);
    else {
      out.push(...replacement);
      replacement.length = 0;
    }
  }
  for (const rest of given.values()) out.push(...rest);
  return out;
}

/** `porthole replay <id> [NAME]`: sends a captured request to the tunnel again, with the edits given. */
export async function runReplay(args: string[], flags: ReplayFlags, ctx: CommandContext): Promise<void> {
  const [id, given, ...extra] = args;
  if (!id) throw ctx.usage('Missing the capture id: "porthole replay <id> [NAME]"; "porthole captures" lists the ids.');
  if (extra.length) throw ctx.usage(`"porthole replay" takes a capture id and at most one tunnel name, got ${args.length} arguments.`);
  const edits: ReplayEdits = {};
  if (flags.method !== undefined) {
    if (!HEADER_NAME.test(flags.method)) throw ctx.usage(`--method "${flags.method}" is not an HTTP method.`);
    edits.method = flags.method.toUpperCase();
  }
  if (flags.path !== undefined) {
    if (!flags.path.startsWith("/")) throw ctx.usage(`--path expects a path starting with "/", got "${flags.path}".`);
    edits.path = flags.path;
  }
  const file = flags["body-file"];
  if (file !== undefined) {
    try {
      edits.body = { base64: readFileSync(file).toString("base64") };
    } catch (err) {
      throw ctx.usage(`Cannot read --body-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
    }
  }
  const api = connect(flags, "replay", ctx.usage);
  const name = await tunnelName(api, given, ctx.usage);
  if (flags.header?.length) {
    // Check the edits before asking the relay, so a typo fails fast.
    editHeaders([], flags.header, ctx.usage);
    edits.headers = editHeaders((await api.get(name, id)).request.headers, flags.header, ctx.usage);
  }
  if (flags.resign) edits.resign = true;
  const replayed = await api.replay(name, id, edits);
  if (flags.json) writeJson({ replayOf: id, id: replayed.id, status: replayed.status });
  else ctx.printer.info(`replayed ${id} → ${replayed.id}: ${replayed.status}`);
}
