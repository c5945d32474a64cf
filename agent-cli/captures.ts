// `porthole captures` and `porthole replay`: a small client for the relay's captures API
// (docs/captures-api.md) and the two commands that print what it answers.

import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { TUNNEL_NAME } from "../worker/protocol";
import { resolveConnection } from "./config";
import { type Printer, size } from "./output";

/** Tunables of the two commands. */
export const CAPTURES_DEFAULTS = {
  /** Captures listed when --limit is not given. */
  limit: 50,
  /** An API call that has not answered by then fails; above the relay's 100 s response-head timeout. */
  requestTimeoutMs: 120_000,
  feedBackoffInitialMs: 250,
  feedBackoffMaxMs: 10_000,
  /** Ids remembered by --follow so a capture seen in the list and on the feed prints once. */
  seenIds: 1000,
  /** Feed messages are small JSON summaries. */
  feedMaxMessageBytes: 1024 * 1024,
} as const;

/** The list view of one exchange, as the API sends it. */
export type CaptureSummary = {
  id: string;
  replayOf: string | null;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  path: string;
  status: number;
  outcome: string;
  error: string | null;
  kind: "http" | "websocket";
  requestSize: number;
  responseSize: number;
  contentType: string | null;
  state: "open" | "done";
};

/** A stored body: `text` only when the stored bytes are UTF-8. */
export type CaptureBody = { size: number; truncated: boolean; base64: string; text?: string };

/** The full capture; only the parts the CLI reads are typed. */
export type Capture = CaptureSummary & {
  request: { headers: [string, string][]; body: CaptureBody };
  response: { headers: [string, string][]; body: CaptureBody } | null;
};

/** What a replay may change; anything left out is sent as captured. */
export type ReplayEdits = { method?: string; path?: string; headers?: [string, string][]; body?: { base64: string } };

export type FeedMessage = { type: "start" | "end"; capture: CaptureSummary } | { type: "clear" };

/** A non-2xx answer of the relay: its one sentence and its X-Porthole-Error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(code ? `${message} (${code})` : message);
    this.name = "ApiError";
  }
}

function apiError(relay: string, action: string, status: number, code: string | undefined, body: string): ApiError {
  const sentence = body.trim().split("\n")[0]?.slice(0, 300);
  if (sentence && code) return new ApiError(status, code, sentence);
  // No porthole error code: not a porthole relay, or one from before the captures API.
  return new ApiError(status, code, `Cannot ${action}: relay ${relay} answered HTTP ${status}${sentence ? `: ${sentence}` : ""}`);
}

function unreachable(relay: string, err: unknown): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new Error(`Cannot reach relay ${relay}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
}

/** The captures API of one relay, authenticated with the agent token. */
export class CapturesApi {
  constructor(
    readonly relay: string,
    private readonly token: string,
  ) {}

  /** Every tunnel the relay knows. */
  tunnels(): Promise<{ name: string; online: boolean; connectedAt: number | null; captures: number }[]> {
    return this.call("GET", "/_porthole/api/tunnels", "list the tunnels");
  }

  /** A tunnel's captures, newest first. */
  list(name: string, limit: number): Promise<{ captures: CaptureSummary[]; total: number; evicted: number }> {
    return this.call("GET", `${tunnelPath(name)}/captures?limit=${limit}`, `list the captures of tunnel "${name}"`);
  }

  /** One capture with headers and bodies. */
  get(name: string, id: string): Promise<Capture> {
    return this.call("GET", `${tunnelPath(name)}/captures/${encodeURIComponent(id)}`, `read capture ${id} of tunnel "${name}"`);
  }

  /** Sends a capture again, with edits; answers the new capture's id and status. */
  replay(name: string, id: string, edits: ReplayEdits): Promise<{ id: string; status: number }> {
    const path = `${tunnelPath(name)}/captures/${encodeURIComponent(id)}/replay`;
    return this.call("POST", path, `replay capture ${id} of tunnel "${name}"`, edits);
  }

  /** Opens the live feed; `opened` rejects when the relay refuses or cannot be reached. */
  feed(name: string, onMessage: (m: FeedMessage) => void): { socket: WebSocket; opened: Promise<void> } {
    const url = new URL(`${tunnelPath(name)}/feed`, this.relay);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.token}` },
      perMessageDeflate: false,
      maxPayload: CAPTURES_DEFAULTS.feedMaxMessageBytes,
    });
    const opened = new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.on("error", (err) => reject(unreachable(this.relay, { cause: err })));
      socket.once("unexpected-response", (_req, res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => {
          const code = res.headers["x-porthole-error"];
          reject(apiError(this.relay, `follow tunnel "${name}"`, res.statusCode ?? 0, typeof code === "string" ? code : undefined, body));
          socket.terminate();
        });
      });
    });
    opened.catch(() => {});
    socket.on("message", (data, isBinary) => {
      if (isBinary) return;
      try {
        onMessage(JSON.parse(String(data)) as FeedMessage);
      } catch {
        // A message this CLI cannot read is skipped; the next one may be fine.
      }
    });
    return { socket, opened };
  }

  private async call<T>(method: string, path: string, action: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.relay), {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CAPTURES_DEFAULTS.requestTimeoutMs),
      });
    } catch (err) {
      throw unreachable(this.relay, err);
    }
    const text = await res.text();
    if (!res.ok) throw apiError(this.relay, action, res.status, res.headers.get("x-porthole-error") ?? undefined, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`Cannot ${action}: relay ${this.relay} answered something that is not JSON. Is it a porthole relay?`);
    }
  }
}

function tunnelPath(name: string): string {
  return `/_porthole/api/tunnels/${encodeURIComponent(name)}`;
}

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
  return `${day}${at.toTimeString().slice(0, 8)}  ${c.method} ${c.path}${ws} → ${result}  ${took}  ↑${size(c.requestSize)} ↓${size(c.responseSize)}  ${c.id}${replay}`;
}

function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export type CapturesFlags = ConnectionFlags & { follow?: boolean; limit?: string };

/** `porthole captures [NAME]`: the newest captures, then with --follow each one as it completes, until Ctrl-C. */
export async function runCaptures(args: string[], flags: CapturesFlags, ctx: CommandContext): Promise<void> {
  if (args.length > 1) throw ctx.usage(`"porthole captures" takes at most one tunnel name, got ${args.length} arguments.`);
  const limit = flags.limit === undefined ? CAPTURES_DEFAULTS.limit : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw ctx.usage(`--limit expects a positive whole number, got "${flags.limit}".`);
  const api = connect(flags, "captures", ctx.usage);
  const name = await tunnelName(api, args[0], ctx.usage);
  const print = (c: CaptureSummary) => (flags.json ? writeJson(c) : ctx.printer.info(captureLine(c)));
  if (!flags.follow) {
    const { captures } = await api.list(name, limit);
    for (const c of captures) print(c);
    if (captures.length === 0 && !flags.json) ctx.printer.info(`porthole  tunnel "${name}" has no captures on ${api.relay}`);
    return;
  }
  await follow(api, name, limit, print, ctx.printer);
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

export type ReplayFlags = ConnectionFlags & { method?: string; path?: string; header?: string[]; "body-file"?: string };

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
  const replayed = await api.replay(name, id, edits);
  if (flags.json) writeJson({ replayOf: id, id: replayed.id, status: replayed.status });
  else ctx.printer.info(`replayed ${id} → ${replayed.id}: ${replayed.status}`);
}
