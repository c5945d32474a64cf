// Child processes for the benchmark: spawned in their own process group, read as JSON lines,
// and always killed by process group at the end, even on error or Ctrl-C.
import { fork, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const live = new Set();
const STDERR_KEEP = 60;

/** Spawns `node args…` detached (own process group); stdout is parsed as JSON lines. */
/** The environment for the porthole CLI in a benchmark: offline wrangler, and no relay or config of the user's. */
export function cliEnv() {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    PORTHOLE_RELAY: "",
    PORTHOLE_TOKEN: "",
    PORTHOLE_CONFIG: "/nonexistent/porthole.json",
  };
}

export function spawnNode(label, args, { cwd, env }) {
  const child = spawn(process.execPath, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const proc = { label, child, pid: child.pid, exited: false, exitCode: null, stderr: [], errorLines: 0, listeners: new Set() };
  live.add(proc);
  child.on("exit", (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
    proc.exitedAt = performance.now();
    if (live.has(proc) && !proc.stopping) {
      process.stderr.write(
        `[bench] ${label} (pid ${proc.pid}) exited unexpectedly (${proc.exitCode}) at ${(proc.exitedAt / 1000).toFixed(1)} s\n`,
      );
    }
    for (const l of proc.listeners) l({ event: "__exit", code: proc.exitCode });
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      event = { event: "__text", line };
    }
    for (const l of proc.listeners) l(event);
  });
  createInterface({ input: child.stderr }).on("line", (raw) => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes.
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
    if (/\[ERROR\]|^Error|error:/i.test(line)) proc.errorLines += 1;
    if (!line.trim()) return;
    proc.stderr.push(line);
    if (proc.stderr.length > STDERR_KEEP) proc.stderr.shift();
  });
  return proc;
}

/** Forks a Node module detached (own process group) with IPC; resolves with its first IPC message. */
export function forkModule(label, modulePath, timeoutMs) {
  const child = fork(modulePath, [], { detached: true, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const proc = { label, child, pid: child.pid, exited: false, exitCode: null, stderr: [], listeners: new Set() };
  live.add(proc);
  child.on("exit", (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
  });
  const first = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} sent nothing within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}) before it was ready`));
    });
  });
  return { proc, first };
}

/** Resolves with the first stdout event named `name`; rejects on exit or after `timeoutMs`. */
export function waitForEvent(proc, name, timeoutMs) {
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      clearTimeout(timer);
      proc.listeners.delete(listener);
      fn(value);
    };
    const fail = (why) =>
      done(reject, new Error(`${proc.label} ${why} before "${name}". Last stderr:\n  ${proc.stderr.slice(-15).join("\n  ")}`));
    const listener = (e) => {
      if (e.event === name) done(resolve, e);
      else if (e.event === "__exit") fail(`exited (${e.code})`);
      else if (e.event === "fatal") fail(`failed: ${e.message}`);
    };
    const timer = setTimeout(() => fail(`gave no sign within ${timeoutMs / 1000} s`), timeoutMs);
    proc.listeners.add(listener);
    if (proc.exited) fail(`exited (${proc.exitCode})`);
  });
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty.
  }
}

/** SIGTERM to the whole process group, then SIGKILL to whatever is left after `graceMs`. */
export async function stopProc(proc, graceMs = 4000) {
  if (!live.has(proc)) return;
  proc.stopping = true;
  signalGroup(proc.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && signalGroup(proc.pid, 0)) await new Promise((r) => setTimeout(r, 50));
  signalGroup(proc.pid, "SIGKILL");
  live.delete(proc);
}

/** Stops every child still registered. */
export async function stopAll() {
  await Promise.all([...live].map((p) => stopProc(p)));
}

/** Last-resort synchronous cleanup for process exit. */
export function killAllNow() {
  for (const p of live) signalGroup(p.pid, "SIGKILL");
  live.clear();
}

/** The pid and every descendant pid. */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${tid}/children`, "utf8").split(" ")) if (c.trim()) out.push(Number(c));
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return out;
}

/** {comm, rssKiB, hwmKiB} of one process, or undefined when it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return { pid, comm, rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/stat and /proc/<pid>/stat on Linux.

/** user+system CPU seconds of one process (0 when it is gone). */
function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine, summed over all cores. */
function machineBusySeconds() {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return (v.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far, per named group of pids (each expanded to its process tree), plus the
 * whole machine. `groups`: { name: () => pids[] }.
 */
export function cpuSnapshot(groups) {
  const out = { at: performance.now(), machine: machineBusySeconds(), groups: {} };
  for (const [name, pids] of Object.entries(groups)) out.groups[name] = pids().reduce((a, pid) => a + cpuSecondsOf(pid), 0);
  return out;
}

/** Percent of one core per group between two snapshots, and "other" for everything else on the machine. */
export function cpuUsage(a, b) {
  const seconds = (b.at - a.at) / 1000;
  const pct = (x) => Math.round((x / seconds) * 1000) / 10;
  const out = {};
  let ours = 0;
  for (const name of Object.keys(b.groups)) {
    // A process that died in between no longer counts; never report negative use.
    const used = Math.max(0, b.groups[name] - (a.groups[name] ?? 0));
    ours += used;
    out[name] = pct(used);
  }
  out.otherProcesses = pct(Math.max(0, b.machine - a.machine - ours));
  return out;
}
