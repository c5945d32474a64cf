// Runs the relay Worker locally in workerd (through wrangler), for `porthole relay` and the embedded default.
// wrangler needs Node >= 22.12. On such a Node the relay runs in this process. On an older one (the CLI itself
// runs on Node 20) it runs in a child process under the Node 22 that wranglerNode() finds, driven over IPC.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { baseRelayConfig, packageRoot, writeRelayConfig } from "./relay-config";
import { runsWrangler, wranglerNode } from "./wrangler-node";

export type LocalRelayOptions = {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  token: string;
  domain?: string;
  graceSeconds?: number;
  headTimeoutSeconds?: number;
};

/** A relay running on this machine, in this process or in a child. */
export type LocalRelay = { url: string; stop: () => Promise<void> };

/** What the CLI tells the relay child over IPC. */
export type ToRelayChild = { type: "start"; options: LocalRelayOptions } | { type: "stop" };

/** What the relay child answers. */
export type FromRelayChild = { type: "ready"; url: string } | { type: "error"; message: string };

/** How long a child that was told to stop may take before it is killed. */
const CHILD_STOP_MS = 10_000;

/** Starts the relay in workerd on 127.0.0.1: in this process when its Node runs wrangler, else in a child. */
export function startLocalRelay(o: LocalRelayOptions): Promise<LocalRelay> {
  return runsWrangler() ? startInProcess(o) : startInChild(o);
}

/** Starts the relay through wrangler's unstable_startWorker, in this process (which must run Node >= 22.12). */
export async function startInProcess(o: LocalRelayOptions): Promise<LocalRelay> {
  process.env.WRANGLER_SEND_METRICS ??= "false";
  process.env.WRANGLER_SEND_ERROR_REPORTS ??= "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  process.env.WRANGLER_HIDE_BANNER ??= "true";
  // wrangler's local trace collector writes every event to SQLite and halves the relay's throughput.
  process.env.X_LOCAL_OBSERVABILITY ??= "false";
  const { unstable_startWorker } = await import("wrangler");
  const plain = (value: string) => ({ type: "plain_text" as const, value });
  const bindings: Record<string, unknown> = { AGENT_TOKEN: { type: "secret_text", value: o.token } };
  if (o.domain) bindings.PUBLIC_DOMAIN = plain(o.domain);
  if (o.graceSeconds !== undefined) bindings.RECONNECT_GRACE_SECONDS = plain(String(o.graceSeconds));
  if (o.headTimeoutSeconds !== undefined) bindings.RESPONSE_HEAD_TIMEOUT_SECONDS = plain(String(o.headTimeoutSeconds));
  const config = writeRelayConfig(baseRelayConfig());
  try {
    const worker = await unstable_startWorker({
      config: config.path,
      bindings,
      dev: {
        server: { hostname: "127.0.0.1", port: o.port },
        inspector: false,
        persist: false,
        watch: false,
        logLevel: process.env.PORTHOLE_RELAY_LOG ?? "error",
      },
      // biome-ignore lint/suspicious/noExplicitAny: wrangler ships this input type unresolved.
    } as any);
    const url = (await worker.url).origin;
    let stopped: Promise<void> | undefined;
    return { url, stop: () => (stopped ??= worker.dispose().finally(config.remove)) };
  } catch (err) {
    config.remove();
    throw err;
  }
}

/** Resolves when the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts the relay in a child process under a Node that runs wrangler. The child gets its own process group, so
 * Ctrl-C reaches only this process, which stops the relay in order; if this process dies, the IPC channel
 * closes and the child stops itself. The token travels over IPC, never in argv or the environment.
 */
async function startInChild(o: LocalRelayOptions): Promise<LocalRelay> {
  let node: string;
  try {
    node = wranglerNode("start a local relay");
  } catch (err) {
    throw new Error(`${(err as Error).message} Or pass --relay to use a deployed relay.`);
  }
  const script = join(packageRoot(), "dist", "relay-child.mjs");
  // The child's stdout goes to stderr: this process's stdout may be --json events only.
  const child = spawn(node, [script], { detached: true, stdio: ["ignore", 2, "inherit", "ipc"] });
  const failed = (why: string) => new Error(`Cannot start the local relay under ${node} (Node >= 22.12 for wrangler): ${why}`);
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (m: FromRelayChild) => {
      if (m.type === "ready") resolve(m.url);
      else reject(failed(m.message));
    };
    child.on("message", onMessage);
    child.once("error", (err) => reject(failed(err.message)));
    child.once("exit", (code, signal) => reject(failed(`it exited with ${signal ?? `code ${code}`} before it was ready`)));
    child.send({ type: "start", options: o } satisfies ToRelayChild);
  });
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping) process.stderr.write(`porthole: the local relay (pid ${child.pid}) exited with ${signal ?? `code ${code}`}\n`);
  });
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    if (child.connected) child.send({ type: "stop" } satisfies ToRelayChild);
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_STOP_MS);
    await exited(child);
    clearTimeout(timer);
  };
  return { url, stop: () => (stopped ??= stop()) };
}
