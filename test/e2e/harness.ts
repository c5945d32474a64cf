// Real parts for end-to-end tests: the relay in workerd, the agent CLI as a child process,
// and clients that reach host-mode URLs (*.localhost) on 127.0.0.1.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { Agent as UndiciAgent, fetch as undiciFetch } from "undici";
import WebSocket from "ws";
import { startOrigin } from "./origin";

export const TOKEN = "e2e-token-0123456789";
const ROOT = new URL("../..", import.meta.url).pathname;

/** Resolves every *.localhost name to 127.0.0.1, as browsers do; nothing leaves loopback. */
export function loopbackLookup(
  _host: string,
  opts: { all?: boolean },
  cb: (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void,
): void {
  if (opts.all) cb(null, [{ address: "127.0.0.1", family: 4 }]);
  else cb(null, "127.0.0.1", 4);
}

const dispatcher = new UndiciAgent({ connect: { lookup: loopbackLookup as never } });

/** fetch that can reach http://<name>.localhost:<port>/ URLs. */
export function fetchUrl(url: string, init: Parameters<typeof undiciFetch>[1] = {}) {
  return undiciFetch(url, { dispatcher, redirect: "manual", ...init });
}

/** A WebSocket client for *.localhost URLs. */
export function openWebSocket(url: string, protocols?: string[], options: WebSocket.ClientOptions = {}): WebSocket {
  return new WebSocket(url, protocols, { lookup: loopbackLookup as never, ...options });
}

/** A relay running in its own process, as `porthole relay` runs it. */
export type RelayProcess = { url: string; process: AgentProcess; stop: () => Promise<void> };

/** Starts the real relay in workerd with `porthole relay` on 127.0.0.1:0 (or a given port). */
export async function startRelay(opts: { port?: number; graceSeconds?: number; logs?: boolean } = {}): Promise<RelayProcess> {
  const args = ["relay", "--port", String(opts.port ?? 0), "--token", TOKEN, "--json"];
  if (opts.graceSeconds !== undefined) args.push("--grace", String(opts.graceSeconds));
  // With logs, the relay's console lines (one per Durable Object start, say) show up in its output.
  const relay = spawnCli(args, { env: opts.logs ? { PORTHOLE_RELAY_LOG: "log" } : {} });
  const ready = await relay.waitFor((e) => e.event === "relay-ready", 30_000);
  return { url: String(ready.url), process: relay, stop: () => relay.kill() };
}

export type AgentProcess = {
  child: ChildProcess;
  events: Record<string, unknown>[];
  /** Every line that is not a JSON event, from stdout and stderr. */
  output: string[];
  /** Resolves with the first JSON event (past or future) that matches. */
  waitFor: (match: (e: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
};

/** Spawns the built CLI as a real process with --json; extra args are appended. */
export function spawnCli(args: string[], opts: { node?: string; env?: NodeJS.ProcessEnv } = {}): AgentProcess {
  const child = spawn(opts.node ?? process.execPath, [`${ROOT}bin/porthole.mjs`, ...args], {
    cwd: ROOT,
    env: { ...process.env, PORTHOLE_CONFIG: "/nonexistent/porthole.json", PORTHOLE_RELAY: "", PORTHOLE_TOKEN: "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events: Record<string, unknown>[] = [];
  const output: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      output.push(line);
    }
    for (const l of listeners) l();
  });
  createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor: AgentProcess["waitFor"] = (match, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (!found) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no matching event within ${timeoutMs} ms; events=${JSON.stringify(events)} output=${output.join("\n")}`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
      void exited.then(() => setTimeout(() => check() || undefined, 50));
    });
  return {
    child,
    events,
    output,
    waitFor,
    exited,
    kill: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}

/** Spawns an agent for `name` forwarding to `port` and waits until it is ready. */
export async function startAgent(relay: RelayProcess, port: number, name: string, extra: string[] = []) {
  const agent = spawnCli(["http", String(port), "--relay", relay.url, "--token", TOKEN, "--name", name, "--json", ...extra]);
  const ready = await agent.waitFor((e) => e.event === "ready");
  return { agent, ready: ready as { name: string; url: string; pathUrl: string } };
}

/** The host-mode URL of a tunnel on this relay. */
export function hostUrl(relay: RelayProcess, name: string, path = "/"): string {
  return `http://${name}.localhost:${new URL(relay.url).port}${path}`;
}

/** A relay, an origin and an agent exposing it as `name`, with one teardown for all three. */
export async function startTunnel(name: string) {
  const [relay, origin] = await Promise.all([startRelay(), startOrigin()]);
  const { agent, ready } = await startAgent(relay, origin.port, name);
  const stop = async () => {
    await agent.kill();
    await relay.stop();
    await origin.close();
  };
  return { relay, origin, agent, ready, stop };
}

/** Debian's headless Chromium. This machine has no network: keep it from trying to reach Google's services. */
export function launchChromium() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Reads a body until it breaks off or ends: how a client sees a stream the tunnel failed. */
export async function readUntilBroken(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<"errored" | "ended"> {
  try {
    for (;;) if ((await reader.read()).done) return "ended";
  } catch {
    return "errored";
  }
}

/** Reads a response body chunk by chunk, recording when each chunk arrived. */
export async function timedChunks(body: AsyncIterable<Uint8Array>): Promise<{ at: number; text: string }[]> {
  const out: { at: number; text: string }[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of body) out.push({ at: performance.now(), text: decoder.decode(chunk, { stream: true }) });
  return out;
}

/** A port on 127.0.0.1 that was free a moment ago, for a process that must listen on a known port. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export { once };
