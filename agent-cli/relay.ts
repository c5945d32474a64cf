// Runs the relay Worker locally, for `porthole relay` and the embedded default: the bundled Worker (dist/) in a
// workerd process of its own, configured from the package's wrangler.toml. workerd is a native binary, so this
// works on any Node the CLI runs on, and no dev proxy sits between the public socket and the Worker.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { baseRelayConfig, packageRoot } from "./relay-config";
import { RELAY_SOCKET, workerdConfig } from "./workerd-config";

export type LocalRelayOptions = {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  token: string;
  domain?: string;
  graceSeconds?: number;
  headTimeoutSeconds?: number;
};

/** A relay running on this machine, in a workerd child process. */
export type LocalRelay = { url: string; pid: number; stop: () => Promise<void> };

/** How long workerd may take to listen, and to exit once told to stop. */
const START_MS = 30_000;
const STOP_MS = 5_000;
/** The token reaches workerd in its environment (a fromEnvironment binding), never on disk or in argv. */
const TOKEN_VARIABLE = "PORTHOLE_AGENT_TOKEN";

/** The workerd binary of the installed `workerd` package, for this platform. */
function workerdBinary(): string {
  try {
    return (createRequire(import.meta.url)("workerd") as { default: string }).default;
  } catch (err) {
    throw new Error(`Cannot start the local relay: no workerd binary for ${process.platform}-${process.arch} (${(err as Error).message}).`);
  }
}

/**
 * Where the Durable Objects' SQLite goes: the local relay keeps nothing after it stops, so tmpfs (/dev/shm) when
 * there is one, where a commit costs no disk sync; the system's temporary directory otherwise.
 */
function scratchRoot(): string {
  const shm = "/dev/shm";
  return process.platform === "linux" && existsSync(shm) ? shm : tmpdir();
}

/**
 * Removes the work directories of local relays whose CLI died without cleaning up (SIGKILL): each is named
 * after its CLI's pid, and on tmpfs a leftover one would hold memory until reboot.
 */
function sweepStale(root: string): void {
  for (const entry of readdirSync(root)) {
    const pid = Number(/^porthole-relay-(\d+)-/.exec(entry)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      // Only a pid that is gone; another user's directory stays, whether its owner lives or not.
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") continue;
      try {
        rmSync(join(root, entry), { recursive: true, force: true });
      } catch {}
    }
  }
}

/** Kills workerd when this process dies, even by SIGKILL, where util-linux's setpriv exists (Linux). */
function deathSignalPrefix(): string[] {
  if (process.platform !== "linux") return [];
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return ["setpriv", "--pdeathsig", "KILL", "--"];
  } catch {
    return [];
  }
}

/** Resolves when the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Forwards workerd's output to stderr: its own errors and the Worker's console.error/warn always, the Worker's
 * console.log only when PORTHOLE_RELAY_LOG is "log" or "debug". stdout stays free for --json events.
 */
function forwardLogs(child: ChildProcess): void {
  const verbose = ["log", "debug", "info"].includes(process.env.PORTHOLE_RELAY_LOG ?? "");
  const stdout = child.stdout;
  const stderr = child.stderr;
  if (stdout) createInterface({ input: stdout }).on("line", (line) => verbose && process.stderr.write(`[relay] ${line}\n`));
  if (stderr) createInterface({ input: stderr }).on("line", (line) => process.stderr.write(`[relay] ${line}\n`));
}

/** Waits for workerd's "listen" event for the relay socket on the control fd; rejects if it exits first. */
function listening(child: ChildProcess, port: number): Promise<number> {
  const control = child.stdio[3];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${START_MS / 1000} s`)), START_MS);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    child.once("error", (err) => done(() => reject(err)));
    child.once("exit", (code, signal) => {
      const why = port > 0 ? ` (is 127.0.0.1:${port} already in use?)` : "";
      done(() => reject(new Error(`workerd exited with ${signal ?? `code ${code}`} before it listened${why}`)));
    });
    if (!control || !("on" in control)) return done(() => reject(new Error("workerd has no control pipe")));
    createInterface({ input: control as NodeJS.ReadableStream }).on("line", (line) => {
      let event: { event?: string; socket?: string; port?: number };
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.event === "listen" && event.socket === RELAY_SOCKET && typeof event.port === "number") {
        const bound = event.port;
        done(() => resolve(bound));
      }
    });
  });
}

/** Starts the relay in workerd on 127.0.0.1 and resolves once it listens. */
export async function startLocalRelay(o: LocalRelayOptions): Promise<LocalRelay> {
  const bundle = join(packageRoot(), "dist", "relay-worker.mjs");
  if (!existsSync(bundle)) throw new Error(`Cannot start the local relay: ${bundle} is missing; run "npm run build" in ${packageRoot()}.`);
  const config = baseRelayConfig();
  const root = scratchRoot();
  sweepStale(root);
  const dir = mkdtempSync(join(root, `porthole-relay-${process.pid}-`));
  const remove = () => {
    process.off("exit", remove);
    rmSync(dir, { recursive: true, force: true });
  };
  // Also on an exit that skips async cleanup (process.exit from a signal handler).
  process.on("exit", remove);
  const vars: Record<string, string> = {};
  if (o.domain) vars.PUBLIC_DOMAIN = o.domain;
  if (o.graceSeconds !== undefined) vars.RECONNECT_GRACE_SECONDS = String(o.graceSeconds);
  if (o.headTimeoutSeconds !== undefined) vars.RESPONSE_HEAD_TIMEOUT_SECONDS = String(o.headTimeoutSeconds);
  const storageDir = join(dir, "storage");
  mkdirSync(storageDir);
  copyFileSync(bundle, join(dir, "relay-worker.mjs"));
  const capnp = join(dir, "relay.capnp");
  writeFileSync(
    capnp,
    workerdConfig(config, { module: "relay-worker.mjs", storageDir, vars, fromEnvironment: { AGENT_TOKEN: TOKEN_VARIABLE } }),
  );
  const [command, ...prefix] = [...deathSignalPrefix(), workerdBinary()];
  const args = [...prefix, "serve", capnp, "--control-fd=3", `--socket-addr=${RELAY_SOCKET}=127.0.0.1:${o.port}`];
  const child = spawn(command as string, args, {
    cwd: dir,
    env: { ...process.env, [TOKEN_VARIABLE]: o.token },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  forwardLogs(child);
  let port: number;
  try {
    port = await listening(child, o.port);
  } catch (err) {
    child.kill("SIGKILL");
    await exited(child);
    remove();
    throw new Error(`Cannot start the local relay on 127.0.0.1:${o.port}: ${(err as Error).message}.`);
  }
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping) process.stderr.write(`porthole: the local relay (workerd, pid ${child.pid}) exited with ${signal ?? `code ${code}`}\n`);
  });
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
    await exited(child);
    clearTimeout(timer);
    remove();
  };
  return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? 0, stop: () => (stopped ??= stop()) };
}
