// What the terminal console shows, as plain data: each tunnel's state, the recent exchanges and the
// counters. Agent events go in; console-view.ts draws it. No terminal here, so it is tested directly.

import type { AgentEvent } from "./agent";

/** How much the console remembers. */
export const CONSOLE_LIMITS = {
  /** Exchanges kept for the list; a screen shows at most this many. */
  rows: 200,
  /** Recent durations the percentiles are computed over. */
  durations: 500,
} as const;

/** One tunnel as the console shows it. */
export type TunnelState = {
  name: string;
  target: string;
  inspector: string;
  url?: string;
  pathUrl?: string;
  policy?: string;
  state: "connecting" | "online" | "offline" | "reconnecting" | "stopped";
  /** When the current state began. */
  since: number;
  /** While reconnecting: when the next attempt starts, and its number. */
  retryAt?: number;
  attempt?: number;
  /** Why it is not online; untrusted text, escaped when drawn. */
  cause?: string;
  requests: number;
};

/** One finished exchange, or a request the relay refused. Method, path, note and error are untrusted. */
export type ExchangeRow = {
  at: number;
  tunnel: string;
  method: string;
  path: string;
  status: number;
  durationMs?: number;
  note?: string;
  error?: string;
  refused?: boolean;
};

/** Totals since the console started. */
export type Counters = {
  total: number;
  /** Index 1 to 5: responses by status class (1xx … 5xx). */
  byClass: number[];
  errors: number;
  refused: number;
  bytesIn: number;
  bytesOut: number;
};

/** The console's whole state. */
export class ConsoleModel {
  readonly tunnels = new Map<string, TunnelState>();
  /** Newest first. */
  readonly rows: ExchangeRow[] = [];
  readonly counters: Counters = { total: 0, byClass: [0, 0, 0, 0, 0, 0], errors: 0, refused: 0, bytesIn: 0, bytesOut: 0 };
  private readonly durations: number[] = [];

  constructor(
    readonly relay: string,
    readonly startedAt: number,
    /** The embedded relay's token, shown so the user can log in to the inspector. */
    readonly token?: string,
  ) {}

  /** Adds a tunnel before its agent connects. */
  add(t: { name: string; target: string; inspector: string }, now: number): void {
    this.tunnels.set(t.name, { ...t, state: "connecting", since: now, requests: 0 });
  }

  /** Applies one event of tunnel `name`'s agent. */
  apply(name: string, e: AgentEvent, now: number): void {
    const t = this.tunnels.get(name);
    if (!t) return;
    switch (e.event) {
      case "ready":
        Object.assign(t, { url: e.url, pathUrl: e.pathUrl, policy: e.policy, state: "online", since: now });
        t.cause = t.retryAt = t.attempt = undefined;
        return;
      case "disconnected":
        Object.assign(t, { state: "offline", since: now, cause: e.reason });
        return;
      case "reconnecting":
        // Keeps `since`: the countdown is new, the outage is not.
        if (t.state === "online") t.since = now;
        Object.assign(t, { state: "reconnecting", retryAt: now + e.delayMs, attempt: e.attempt, cause: e.cause });
        return;
      case "fatal":
        Object.assign(t, { state: "stopped", since: now, cause: `${e.message} (${e.code})`, retryAt: undefined });
        return;
      case "exchange":
        t.requests += 1;
        this.count(e.status, !!e.error && e.status === 0, e.bytesIn, e.bytesOut);
        this.durations.push(e.durationMs);
        if (this.durations.length > CONSOLE_LIMITS.durations) this.durations.shift();
        return this.push({
          at: now,
          tunnel: name,
          method: e.method,
          path: e.path,
          status: e.status,
          durationMs: e.durationMs,
          ...(e.note ? { note: e.note } : {}),
          ...(e.error ? { error: e.error } : {}),
        });
      case "refused":
        t.requests += 1;
        this.counters.total += 1;
        this.counters.refused += 1;
        return this.push({ at: now, tunnel: name, method: e.method, path: e.path, status: e.status, note: e.reason, refused: true });
    }
  }

  /** The p-th percentile (0-100) of recent durations, in ms; undefined before the first exchange. */
  percentile(p: number): number | undefined {
    if (this.durations.length === 0) return undefined;
    const sorted = [...this.durations].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  }

  private count(status: number, failed: boolean, bytesIn: number, bytesOut: number): void {
    const c = this.counters;
    c.total += 1;
    c.bytesIn += bytesIn;
    c.bytesOut += bytesOut;
    const cls = Math.floor(status / 100);
    if (failed || cls < 1 || cls > 5) c.errors += 1;
    else c.byClass[cls] = (c.byClass[cls] ?? 0) + 1;
  }

  private push(row: ExchangeRow): void {
    this.rows.unshift(row);
    if (this.rows.length > CONSOLE_LIMITS.rows) this.rows.pop();
  }
}
