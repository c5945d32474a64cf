// Shared plumbing for the in-workerd tests: how to reach the relay, bounded waits, and a
// mailbox that turns socket events into "await the next item that matches".

import { exports } from "cloudflare:workers";
import { concatBytes } from "../../worker/bytes";

export const RELAY = "http://relay.test";
export const TOKEN = "test-token";
/** Default wait for an event that should come promptly. */
export const WAIT_MS = 3_000;

export type Closed = { code: number; reason: string };

/** A tunnel name no other test uses, so tests never share a Durable Object. */
export function uniqueName(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A public request in host mode: `http://<name>.localhost<path>`. */
export function publicFetch(name: string, path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`http://${name}.localhost${path}`, init);
}

/** The upgrade an agent sends to /_porthole/connect; tests vary the auth headers. */
export function connectRequest(name: string, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }): Promise<Response> {
  return exports.default.fetch(`${RELAY}/_porthole/connect?name=${name}`, { headers: { Upgrade: "websocket", ...headers } });
}

/** A call to a tunnel's captures API with the agent token; `path` follows /_porthole/api/tunnels/<name>. */
export async function api<T>(name: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await exports.default.fetch(`${RELAY}/_porthole/api/tunnels/${name}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} on tunnel "${name}" answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/** Resolves with the error `promise` fails with; throws if it succeeds or is still pending after `ms`. */
export async function failure(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  const outcome = await within(
    promise.then(
      () => ({ failed: false as const }),
      (error: unknown) => ({ failed: true as const, error }),
    ),
    ms,
    what,
  );
  if (!outcome.failed) throw new Error(`expected ${what}, but it succeeded`);
  return outcome.error;
}

/** A short pause, for asserting that something does *not* happen or letting a request reach a wait. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Items in arrival order; `take` removes the first match, waiting for one until the mailbox ends. */
export class Mailbox<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();
  private ended?: Error;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  /** Fails every current and future wait that finds nothing, e.g. once the socket closed. */
  end(reason: Error): void {
    this.ended ??= reason;
    this.wake();
  }

  /** Items not yet taken. */
  get unread(): readonly T[] {
    return this.items;
  }

  take(where: (item: T) => boolean, ms: number, what: string): Promise<T> {
    const unread = this.items.length;
    return within(
      new Promise<T>((resolve, reject) => {
        const check = () => {
          const i = this.items.findIndex(where);
          if (i >= 0) return resolve(this.items.splice(i, 1)[0] as T);
          if (this.ended) return reject(new Error(`${this.ended.message} while waiting for ${what}`));
          this.waiters.add(check);
        };
        check();
      }),
      ms,
      `${what} (${unread} unread item(s) did not match)`,
    );
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}

/** Listens for a socket's close; the promise resolves with its code and reason. */
export function onClose(ws: WebSocket, then: (c: Closed) => void = () => {}): Promise<Closed> {
  return new Promise((resolve) => {
    ws.addEventListener("close", (e) => {
      const closed = { code: e.code, reason: e.reason };
      then(closed);
      resolve(closed);
    });
  });
}

/** Closes a socket at the end of a test, whatever state it is in. */
export function closeQuietly(ws: WebSocket, code = 1000, reason = ""): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  return concatBytes(
    [...parts],
    parts.reduce((n, p) => n + p.byteLength, 0),
  );
}

/** Deterministic bytes that are not text, so a body that is re-encoded or reordered shows. */
export function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}
