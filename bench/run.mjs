// porthole benchmark: every figure measured direct (client -> local origin on 127.0.0.1) and through
// the tunnel (client -> local relay in workerd -> agent -> the same origin), printed side by side.
// Run with `npm run bench`. Sizes and durations can be shrunk for a quick look with BENCH_* variables.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Pool } from "undici";
import { expectedDigest, makeBlock } from "./content.mjs";
import { sequentialLatency, smallLoad, sseDelay, upload } from "./measure.mjs";
import {
  cliEnv,
  cpuSnapshot,
  cpuUsage,
  forkModule,
  killAllNow,
  memoryOf,
  processTree,
  spawnNode,
  stopAll,
  waitForEvent,
} from "./procs.mjs";
import { profileLines, summariseProfiles } from "./profile.mjs";
import { comparisonTable, cpuTable, formatJson, memoryTable } from "./report.mjs";
import { downloadWithProbes, slowRead, sseFleet } from "./scenarios.mjs";
import { evaluateTargets, targetsTable } from "./targets.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const envNumber = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

const args = process.argv.slice(2);
const PROFILED = ["get", "download", "upload"];
const profileArg = args.find((a) => a === "--profile" || a.startsWith("--profile="));
/** --json writes bench/results.json; --profile[=get|download|upload] runs only that scenario with the agent under --cpu-prof. */
const flags = { json: args.includes("--json"), profile: profileArg ? (profileArg.split("=")[1] ?? "get") : null };
if (flags.profile && !PROFILED.includes(flags.profile)) {
  process.stderr.write(`bench: --profile takes one of ${PROFILED.join(", ")}, not "${flags.profile}"\n`);
  process.exit(2);
}
/** Whether a scenario runs: all of them, or only the profiled one. */
const runs = (scenario) => !flags.profile || flags.profile === scenario;

const config = {
  concurrency: envNumber("BENCH_CONCURRENCY", 32),
  loadSeconds: envNumber("BENCH_LOAD_SECONDS", 5),
  warmupSeconds: 1,
  latencyRequests: envNumber("BENCH_LATENCY_REQUESTS", 500),
  latencyWarmup: 50,
  sseEvents: envNumber("BENCH_SSE_EVENTS", 100),
  sseIntervalMs: 10,
  downloadMiB: envNumber("BENCH_DOWNLOAD_MIB", 1024),
  probeEveryMs: 10,
  slowReadSeconds: envNumber("BENCH_SLOW_READ_SECONDS", 20),
  slowReadBytesPerSec: 1e6,
  fleetStreams: envNumber("BENCH_FLEET_STREAMS", 2000),
  fleetRequests: envNumber("BENCH_FLEET_REQUESTS", 20_000),
  fleetIntervalMs: 2000,
  fleetDeadlineSeconds: 90,
  uploadMiB: envNumber("BENCH_UPLOAD_MIB", 90),
  transferTimeoutSeconds: 60,
  rssSampleMs: 50,
  tunnelName: "bench",
};
/** The whole run is killed after this, whatever happens. */
const WATCHDOG_MS = 300_000;

const log = (line) => process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

// Children are killed by process group on every way out.
process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    killAllNow();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  log(`watchdog: the bench ran over ${WATCHDOG_MS / 1000} s, killing everything`);
  killAllNow();
  process.exit(3);
}, WATCHDOG_MS);
watchdog.unref();

/** Current RSS and VmHWM of the relay runtime (workerd), the relay's node host and the agent. */
function memorySnapshot(relayPid, agentPid) {
  const relay = processTree(relayPid).map(memoryOf).filter(Boolean);
  const agent = processTree(agentPid).map(memoryOf).filter(Boolean);
  const sum = (list, key) => list.reduce((a, m) => a + m[key], 0);
  const workerd = relay.filter((m) => m.comm === "workerd");
  const host = relay.filter((m) => m.pid === relayPid);
  return {
    rss: { relayRuntimeKiB: sum(workerd, "rssKiB"), relayHostKiB: sum(host, "rssKiB"), agentKiB: sum(agent, "rssKiB") },
    hwm: { relayRuntimeKiB: sum(workerd, "hwmKiB"), relayHostKiB: sum(host, "hwmKiB"), agentKiB: sum(agent, "hwmKiB") },
    processes: [...relay.map((m) => ({ group: "relay", ...m })), ...agent.map((m) => ({ group: "agent", ...m }))],
  };
}

function startSampler(roots) {
  const worker = new Worker(join(here, "rss-sampler.mjs"), {
    workerData: { roots, intervalMs: config.rssSampleMs, maxSamples: 20_000 },
  });
  let nextId = 0;
  const waiting = new Map();
  worker.on("message", (m) => {
    waiting.get(m.id)?.(m.result);
    waiting.delete(m.id);
  });
  return {
    /** Peak RSS in the window, in the memory table's shape. */
    async peak(from, to, relayPid) {
      const id = nextId++;
      const r = await new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ cmd: "peak", id, from, to });
      });
      return {
        samples: r.relay.samples,
        relayRuntimeKiB: r.relay.peakRuntimeKiB,
        relayHostKiB: r.relay.perProcessPeakKiB[relayPid] ?? 0,
        relayTreeKiB: r.relay.peakKiB,
        agentKiB: r.agent.peakKiB,
        perProcessPeakKiB: { relay: r.relay.perProcessPeakKiB, agent: r.agent.perProcessPeakKiB },
        comm: { ...r.relay.comm, ...r.agent.comm },
      };
    },
    stop: () => worker.terminate(),
  };
}

/** One plain GET through a target, to prove the path works before measuring it. */
async function probe(origin, host, path) {
  const p = new Pool(origin, { connections: 1 });
  try {
    const { statusCode, headers, body } = await p.request({ path, method: "GET", headers: host ? { host } : {} });
    const text = await body.text();
    return { statusCode, bytes: Buffer.byteLength(text), error: headers["x-porthole-error"] ?? null };
  } finally {
    await p.destroy();
  }
}

/** Runs one measurement direct, then through the tunnel, recording where the CPU went during each. */
async function pair(label, cpu, fn) {
  const out = {};
  for (const side of ["direct", "tunnel"]) {
    ensureAlive();
    log(`${label}: ${side}`);
    const before = cpuSnapshot(cpu.groups);
    const errorsBefore = cpu.errorLines();
    const result = await fn(side);
    cpu.phases.push({ phase: label, side, ...cpuUsage(before, cpuSnapshot(cpu.groups)), childErrorLines: cpu.errorLines() - errorsBefore });
    out[side] = result;
  }
  return out;
}

function environment() {
  let commit = null;
  let modified = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    // The figures describe the working tree, which may differ from the commit.
    modified = execFileSync("git", ["diff", "--name-only", "HEAD", "--", "worker", "agent-cli"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {}
  return {
    date: new Date().toISOString(),
    commit,
    modifiedSinceCommit: modified,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    // wrangler switches local-dev features on by default; record the switches so runs are comparable.
    relayEnv: Object.fromEntries(
      ["X_LOCAL_OBSERVABILITY", "X_LOCAL_EXPLORER", "PORTHOLE_RELAY_LOG"].map((k) => [k, process.env[k] ?? null]),
    ),
  };
}

/** Throws when a child the measurements depend on has died; checked before every measurement. */
let ensureAlive = () => {};

async function main(results) {
  const block = makeBlock();
  const downloadBytes = config.downloadMiB * 2 ** 20;
  const uploadBytes = config.uploadMiB * 2 ** 20;
  log("computing the expected sha256 of the transfer bodies");
  const downloadSha = expectedDigest(block, downloadBytes);
  const uploadSha = expectedDigest(block, uploadBytes);

  log("starting the origin");
  const origin = forkModule("origin", join(here, "origin.mjs"), 10_000);
  const { port: originPort } = await origin.first;

  const token = randomBytes(16).toString("hex");
  const env = cliEnv();
  log("starting the relay (workerd)");
  const bin = join(root, "bin", "porthole.mjs");
  const relay = spawnNode("relay", [bin, "relay", "--port", "0", "--token", token, "--json"], { cwd: root, env });
  const { url: relayUrl } = await waitForEvent(relay, "relay-ready", 90_000);
  const relayPort = Number(new URL(relayUrl).port);

  log(`starting the agent for 127.0.0.1:${originPort}`);
  const agentEnv = { ...env };
  if (flags.profile) {
    results.profileDir = mkdtempSync(join(os.tmpdir(), "porthole-prof-"));
    agentEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${results.profileDir}`.trim();
  }
  const agent = spawnNode(
    "agent",
    [bin, "http", String(originPort), "--relay", relayUrl, "--token", token, "--name", config.tunnelName, "--json"],
    { cwd: root, env: agentEnv },
  );
  const agentStats = { exchanges: 0, withError: 0, errors: {}, statuses: {}, otherEvents: [] };
  agent.listeners.add((e) => {
    if (e.event === "exchange") {
      agentStats.exchanges += 1;
      agentStats.statuses[e.status] = (agentStats.statuses[e.status] ?? 0) + 1;
      if (e.error) {
        agentStats.withError += 1;
        const key = String(e.error).slice(0, 100);
        agentStats.errors[key] = (agentStats.errors[key] ?? 0) + 1;
      }
    } else if (e.event !== "ready" && !e.event.startsWith("__") && agentStats.otherEvents.length < 50) agentStats.otherEvents.push(e);
  });
  const ready = await waitForEvent(agent, "ready", 30_000);
  ensureAlive = () => {
    for (const p of [relay, agent, origin.proc]) {
      if (p.exited)
        throw new Error(`${p.label} (pid ${p.pid}) exited unexpectedly (${p.exitCode}); the remaining measurements are skipped`);
    }
  };
  results.tunnel = { relayUrl, publicUrl: ready.url, pathUrl: ready.pathUrl };

  const direct = { origin: `http://127.0.0.1:${originPort}` };
  const tunnel = { origin: `http://127.0.0.1:${relayPort}`, host: `${config.tunnelName}.localhost:${relayPort}` };
  const targets = { direct, tunnel };
  results.probes = {
    direct: await probe(direct.origin, undefined, "/small"),
    hostMode: await probe(tunnel.origin, tunnel.host, "/small"),
    pathMode: await probe(tunnel.origin, undefined, `/t/${config.tunnelName}/small`),
  };
  for (const [k, v] of Object.entries(results.probes)) {
    if (v.statusCode !== 200 || v.bytes !== 1024) throw new Error(`probe ${k} failed: ${JSON.stringify(v)}`);
  }

  const sampler = startSampler({ relay: relay.pid, agent: agent.pid });
  const workerdPids = () => processTree(relay.pid).filter((pid) => memoryOf(pid)?.comm === "workerd");
  const cpu = {
    groups: {
      client: () => [process.pid],
      origin: () => [origin.proc.pid],
      relayWorker: workerdPids,
      relayHost: () => processTree(relay.pid).filter((pid) => !workerdPids().includes(pid)),
      agent: () => processTree(agent.pid),
    },
    phases: [],
    /** Error lines the relay and the agent printed so far, so each phase can count its own. */
    errorLines: () => relay.errorLines + agent.errorLines,
  };
  results.cpu = cpu.phases;
  const workerd = workerdPids();
  results.relayProcesses = processTree(relay.pid).map((pid) => {
    const m = memoryOf(pid);
    const role =
      pid === relay.pid
        ? "relay host (node, porthole relay)"
        : m?.comm === "workerd"
          ? "workerd: relay worker + Tunnel DO (serves the relay port)"
          : m?.comm;
    return { pid, comm: m?.comm, role };
  });
  const t0 = Date.now();
  const memory = {};
  results.memory = memory;
  const exit = (p) => (p.exited ? { code: p.exitCode, atSeconds: Number((p.exitedAt / 1000).toFixed(1)) } : null);
  try {
    memory.afterStart = memorySnapshot(relay.pid, agent.pid).rss;

    // First, on the freshly started relay and agent: the peak then shows what this transfer holds, not what the
    // allocators kept from the load phases (which the RSS table reports after each phase).
    if (config.slowReadSeconds > 0 && !flags.profile) {
      ensureAlive();
      log(
        `slow reader: ${config.slowReadBytesPerSec / 1e6} MB/s for ${config.slowReadSeconds} s of a ${config.downloadMiB} MiB body (tunnel)`,
      );
      const relayWorker = workerd[0];
      const baseline = { relayWorkerKiB: memoryOf(relayWorker)?.rssKiB ?? 0, agentKiB: memorySnapshot(relay.pid, agent.pid).rss.agentKiB };
      const from = Date.now();
      results.slowRead = await slowRead(tunnel, {
        bytes: downloadBytes,
        bytesPerSec: config.slowReadBytesPerSec,
        seconds: config.slowReadSeconds,
      });
      await new Promise((r) => setTimeout(r, 2 * config.rssSampleMs));
      const peak = await sampler.peak(from, Date.now(), relay.pid);
      memory.peakDuringSlowRead = { ...peak, relayWorkerKiB: peak.perProcessPeakKiB.relay[relayWorker] ?? 0, before: baseline };
    }

    if (runs("get")) {
      results.load = await pair(`GET 1 KiB c=${config.concurrency}`, cpu, (side) =>
        smallLoad(targets[side], {
          concurrency: config.concurrency,
          durationMs: config.loadSeconds * 1000,
          warmupMs: config.warmupSeconds * 1000,
        }),
      );
    }
    if (!flags.profile) {
      results.latency = await pair("latency c=1", cpu, (side) =>
        sequentialLatency(targets[side], { count: config.latencyRequests, warmup: config.latencyWarmup, maxMs: 30_000 }),
      );
      results.sse = await pair("SSE", cpu, (side) => sseDelay(targets[side], { n: config.sseEvents, interval: config.sseIntervalMs }));
    }

    const timeoutMs = config.transferTimeoutSeconds * 1000;
    const windows = {};
    if (runs("download")) {
      const before = memorySnapshot(relay.pid, agent.pid);
      memory.beforeDownload = before.rss;
      memory.hwmBeforeDownload = before.hwm;
      memory.peakBeforeDownload = await sampler.peak(t0, Date.now(), relay.pid);
      results.download = await pair(`download ${config.downloadMiB} MiB`, cpu, async (side) => {
        windows[side] = { from: Date.now() };
        const r = await downloadWithProbes(targets[side], {
          bytes: downloadBytes,
          expectedSha256: downloadSha,
          timeoutMs,
          everyMs: config.probeEveryMs,
        });
        windows[side].to = Date.now();
        return r;
      });
      await new Promise((r) => setTimeout(r, 2 * config.rssSampleMs));
      memory.peakDuringDownload = await sampler.peak(windows.tunnel.from, windows.tunnel.to + 2 * config.rssSampleMs, relay.pid);
      const afterDl = memorySnapshot(relay.pid, agent.pid);
      memory.afterDownload = afterDl.rss;
      memory.hwmAfterDownload = afterDl.hwm;
    }

    if (config.uploadMiB > 0 && runs("upload")) {
      results.upload = await pair(`upload ${config.uploadMiB} MiB`, cpu, async (side) => {
        windows[side] = { from: Date.now() };
        const r = await upload(targets[side], { block, bytes: uploadBytes, expectedSha256: uploadSha, timeoutMs });
        windows[side].to = Date.now();
        return r;
      });
      await new Promise((r) => setTimeout(r, 2 * config.rssSampleMs));
      memory.peakDuringUpload = await sampler.peak(windows.tunnel.from, windows.tunnel.to + 2 * config.rssSampleMs, relay.pid);
    }
    if (config.fleetStreams > 0 && !flags.profile) {
      results.fleet = await pair(`${config.fleetStreams} SSE + ${config.fleetRequests} GET`, cpu, (side) =>
        sseFleet(targets[side], {
          streams: config.fleetStreams,
          interval: config.fleetIntervalMs,
          requests: config.fleetRequests,
          concurrency: config.concurrency,
          openTimeoutMs: 30_000,
          requestDeadlineMs: config.fleetDeadlineSeconds * 1000,
        }),
      );
    }
    const end = memorySnapshot(relay.pid, agent.pid);
    memory.atEnd = end.rss;
    memory.hwmAtEnd = end.hwm;
    memory.processesAtEnd = end.processes;
  } finally {
    await sampler.stop();
    results.agent = {
      ...agentStats,
      stillRunning: !agent.exited,
      exit: exit(agent),
      errorLines: agent.errorLines,
      stderrTail: agent.stderr.slice(-20),
    };
    results.relay = { stillRunning: !relay.exited, exit: exit(relay), errorLines: relay.errorLines, stderrTail: relay.stderr.slice(-20) };
  }
}

function notes(r) {
  const out = [];
  const s = r.sse?.tunnel;
  if (s && s.coalescedEvents > 0)
    out.push(`SSE through the tunnel: ${s.coalescedEvents} events arrived in ${s.coalescedChunks} shared chunks.`);
  if (s && s.events !== r.config.sseEvents) out.push(`SSE through the tunnel delivered ${s.events}/${r.config.sseEvents} events.`);
  for (const k of ["download", "upload"]) {
    for (const side of ["direct", "tunnel"]) {
      const x = r[k]?.[side];
      if (x && !x.sha256Ok)
        out.push(`${k} ${side}: content check FAILED (${x.bytes}/${x.expectedBytes} bytes, ${x.error ?? "hash differs"}).`);
    }
  }
  const m = r.memory;
  if (m?.peakDuringDownload && m.beforeDownload) {
    const grow = (m.peakDuringDownload.relayRuntimeKiB - m.beforeDownload.relayRuntimeKiB) / 1024;
    const growAgent = (m.peakDuringDownload.agentKiB - m.beforeDownload.agentKiB) / 1024;
    out.push(
      `RSS growth during the ${r.config.downloadMiB} MiB tunnel download: relay runtime +${grow.toFixed(1)} MiB, agent +${growAgent.toFixed(1)} MiB.`,
    );
  }
  if (r.agent && !r.agent.stillRunning) out.push(`The agent process died during the run: ${JSON.stringify(r.agent.exit)}.`);
  if (r.relay && !r.relay.stillRunning) out.push(`The relay process died during the run: ${JSON.stringify(r.relay.exit)}.`);
  if (r.agent?.withError) out.push(`The agent reported ${r.agent.withError} exchanges with an error: ${JSON.stringify(r.agent.errors)}.`);
  if (r.agent?.otherEvents?.length) out.push(`Agent events besides exchanges: ${JSON.stringify(r.agent.otherEvents.slice(0, 5))}.`);
  const busy = (r.cpu ?? []).map((p) => p.otherProcesses);
  const meanBusy = busy.reduce((a, b) => a + b, 0) / Math.max(1, busy.length);
  if (meanBusy > 25) {
    out.push(
      `Other processes on this ${r.environment.cpus}-CPU machine used ${meanBusy.toFixed(0)}% of a core on average during the phases: the figures are perturbed.`,
    );
  }
  const noisy = (r.cpu ?? []).filter((p) => p.childErrorLines > 0);
  if (noisy.length) {
    out.push(`Error lines on relay/agent stderr: ${noisy.map((p) => `${p.phase} (${p.side}) ${p.childErrorLines}`).join(", ")}.`);
  }
  for (const [who, x] of [
    ["relay", r.relay],
    ["agent", r.agent],
  ]) {
    const last = x?.stderrTail?.filter((l) => /\[ERROR\]|error/i.test(l)).at(-1) ?? x?.stderrTail?.at(-1);
    if (last) out.push(`The ${who} printed ${x.errorLines} error line(s) on stderr; last: ${last.trim().slice(0, 220)}`);
  }
  return out;
}

const results = { environment: environment(), config, notes: [] };
let exitCode = 0;
try {
  await main(results);
} catch (err) {
  exitCode = 1;
  results.error = err.message;
  log(`FAILED: ${err.stack ?? err.message}`);
} finally {
  log("stopping the relay, the agent and the origin");
  await stopAll();
}
if (flags.profile && results.profileDir) {
  try {
    results.profile = summariseProfiles(results.profileDir);
  } catch (err) {
    results.notes.push(`no agent CPU profile in ${results.profileDir}: ${err.message}`);
  }
}
/** Prints the tables and notes, and writes bench/results.json. */
function report(results) {
  results.notes = [...results.notes, ...notes(results)];
  results.targets = evaluateTargets(results);
  if (flags.json) writeFileSync(join(here, "results.json"), `${formatJson(results)}\n`);
  const e = results.environment;
  const out = [];
  const dirty = e.modifiedSinceCommit?.length ? ` + uncommitted changes to ${e.modifiedSinceCommit.join(", ")}` : "";
  out.push(`porthole bench  ${e.date}  commit ${e.commit}${dirty}  node ${e.node}  ${e.cpus} x ${e.cpuModel}`);
  out.push(`load average at start ${e.loadAverageAtStart?.join(" ")}; relay env ${JSON.stringify(e.relayEnv)}`, "");
  if (results.error) out.push(`BENCH FAILED: ${results.error}`, "");
  out.push(targetsTable(results.targets), "");
  out.push(comparisonTable(results), "");
  if (results.slowRead) {
    const s = results.slowRead;
    const b = results.memory.peakDuringSlowRead.before;
    const mib = (kib) => (kib / 1024).toFixed(1);
    out.push(
      `Slow reader (tunnel): read ${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds} s (${s.mbPerSec} MB/s)${s.error ? `, error ${s.error}` : ""}; run first, on the fresh relay and agent; peaks are over that window, from RSS before it of relay worker+DO ${mib(b.relayWorkerKiB)} MiB, agent ${mib(b.agentKiB)} MiB.`,
      "",
    );
  }
  if (results.fleet) {
    for (const side of ["direct", "tunnel"]) {
      const f = results.fleet[side];
      out.push(
        `Fleet (${side}): ${f.streamsOpen}/${f.streams} streams open in ${f.openSeconds} s, ${f.requestsOk}/${f.requests} GET in ${f.requestSeconds} s (${f.reqPerSec} req/s, p99 ${f.latencyP99Ms} ms), errors ${JSON.stringify({ ...f.sseErrors, ...f.requestErrors })}`,
      );
    }
    out.push("");
  }
  if (results.profile) out.push(...profileLines(results.profile), "");
  out.push(memoryTable(results.memory ?? {}));
  out.push(
    `RSS: 'relay runtime' sums every workerd process under the relay; peaks sampled every ${config.rssSampleMs} ms ` +
      "from /proc VmRSS; 'sum VmHWM' adds each process's lifetime peak.",
  );
  const peaks = results.memory?.peakDuringDownload?.perProcessPeakKiB?.relay;
  for (const p of results.relayProcesses ?? []) {
    if (p.comm === "workerd" && peaks)
      out.push(`  ${p.role}, pid ${p.pid}: peak ${((peaks[p.pid] ?? 0) / 1024).toFixed(1)} MiB during the download`);
  }
  out.push("", cpuTable(results.cpu ?? []));
  out.push("CPU: user+system time from /proc/<pid>/stat; 'rest of machine' is every other process plus kernel softirq time.");
  if (results.agent) {
    out.push(
      "",
      `Agent: ${results.agent.exchanges} exchanges reported, ${results.agent.withError} with an error; statuses ${JSON.stringify(results.agent.statuses)}.`,
    );
  }
  if (results.notes.length) out.push("", "Notes:", ...results.notes.map((n) => `  - ${n}`));
  if (flags.json) out.push("", `Wrote ${join("bench", "results.json")}`);
  console.log(`\n${out.join("\n")}`);
}

report(results);
process.exitCode = exitCode;
