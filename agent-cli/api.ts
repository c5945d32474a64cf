// A small client for the relay's captures API (docs/captures-api.md), for the CLI's commands.

import WebSocket from "ws";
import type { CaptureSummary } from "../worker/capture-model";
import type { McpView } from "../worker/mcp-view";

/** Tunables of the API client. */
export const API_DEFAULTS = {
  /** An API call that has not answered by then fails; above the relay's 100 s response-head timeout. */
  requestTimeoutMs: 120_000,
  /** Feed messages are small JSON summaries. */
  feedMaxMessageBytes: 1024 * 1024,
} as const;

/** The list view of one exchange, as the API sends it (the relay's own type). */
export type { CaptureSummary };

/** A stored body: `text` only when the stored bytes are UTF-8. */
export type CaptureBody = { size: number; truncated: boolean; base64: string; text?: string };

/** The full capture; only the parts the CLI reads are typed. */
export type Capture = CaptureSummary & {
  request: { headers: [string, string][]; body: CaptureBody };
  response: { headers: [string, string][]; body: CaptureBody } | null;
};

/** What a replay may change; anything left out is sent as captured. */
export type ReplayEdits = { method?: string; path?: string; headers?: [string, string][]; body?: { base64: string }; resign?: boolean };

/** The MCP view of a tunnel: decoded JSON-RPC messages, requests paired with their answers (the relay's own type). */
export type McpViewAnswer = McpView & { scanned: number; complete: boolean };

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

  /** The newest `limit` MCP entries, of `method` (and its sub-methods) when given. */
  mcp(name: string, opts: { method?: string; limit: number }): Promise<McpViewAnswer> {
    const query = new URLSearchParams({ limit: String(opts.limit), ...(opts.method ? { method: opts.method } : {}) });
    return this.call("GET", `${tunnelPath(name)}/mcp?${query}`, `read the MCP messages of tunnel "${name}"`);
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
      maxPayload: API_DEFAULTS.feedMaxMessageBytes,
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
        signal: AbortSignal.timeout(API_DEFAULTS.requestTimeoutMs),
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
