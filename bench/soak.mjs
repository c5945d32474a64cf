// porthole soak: N mixed requests (GET, POST echoed and checked by digest, SSE, WebSocket echo) through
// one tunnel with bounded concurrency, then checks that nothing failed, that the relay and the agent
// both went back to 0 open streams, and that every request left exactly one capture.
// `npm run soak` runs 100,000 (SOAK_REQUESTS, SOAK_CONCURRENCY change that); test/e2e/soak.test.ts
// imports runSoak() for a bounded run in CI.

import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Pool } from "undici";
import { cliEnv, forkModule, killAllNow, spawnNode, stopAll, waitForEvent } from "./procs.mjs";
import { CLIENTS, MIX } from "./soak-clients.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const REQUEST_TIMEOUT_MS = 15_000;
/** How long the counts may take to settle after the last request: captures are written as exchanges end. */
const SETTLE_MS = 15_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done(value)` or `ms` pass; returns the last value either way. */
async function settle(read, done, ms) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

/** Starts the origin, a relay in workerd and an agent for tunnel `name`; `stop` ends all three. */
async function startStack(name) {
  const origin = forkModule("origin", join(here, "soak-origin.mjs"), 10_000);
  const { port: originPort } = await origin.first;
  const token = randomBytes(16).toString("hex");
  const env = cliEnv();
  const bin = join(root, "bin", "porthole.mjs");
  const relay = spawnNode("relay", [bin, "relay", "--port", "0", "--token", token, "--json"], { cwd: root, env });
  const { url: relayUrl } = await waitForEvent(relay, "relay-ready", 90_000);
  const agentArgs = [bin, "http", String(originPort), "--relay", relayUrl, "--token", token, "--name", name, "--json"];
  const agent = spawnNode("agent", agentArgs, { cwd: root, env });
  await waitForEvent(agent, "ready", 30_000);
  const api = async (path) => {
    const res = await fetch(`${relayUrl}/_porthole/api/tunnels/${name}/${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path} of tunnel "${name}" answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  /** The agent's open streams, asked for with SIGUSR2 (see the agent's "stats" event). */
  const agentStreams = async () => {
    const stats = waitForEvent(agent, "stats", 5000);
    process.kill(agent.pid, "SIGUSR2");
    return (await stats).streams;
  };
  return { relay, agent, relayUrl, address: `127.0.0.1:${new URL(relayUrl).port}`, api, agentStreams };
}

/**
 * The most streams the relay and the agent reported open while `running` was pending, sampled every
 * 250 ms: proof that the counters move, so their return to 0 means something.
 */
async function samplePeaks(stack, running) {
  const peak = { relayHttp: 0, relayWebsocket: 0, agent: 0 };
  let finished = false;
  const finish = () => {
    finished = true;
  };
  running.then(finish, finish);
  while (!finished) {
    const [{ streams }, agent] = await Promise.all([stack.api("summary"), stack.agentStreams()]);
    peak.relayHttp = Math.max(peak.relayHttp, streams.http);
    peak.relayWebsocket = Math.max(peak.relayWebsocket, streams.websocket);
    peak.agent = Math.max(peak.agent, agent);
    await sleep(250);
  }
  return peak;
}

/** Sends `requests` mixed requests from `concurrency` loops; counts successes and errors per kind. */
async function drive(stack, name, { requests, concurrency }) {
  const pool = new Pool(`http://${stack.address}`, {
    connections: concurrency,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const target = {
    pool,
    address: stack.address,
    host: `${name}.localhost:${stack.address.split(":")[1]}`,
    timeoutMs: REQUEST_TIMEOUT_MS,
    signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  const ok = { get: 0, post: 0, sse: 0, ws: 0 };
  const errors = {};
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < requests; i = next++) {
      const kind = MIX[i % MIX.length];
      try {
        await CLIENTS[kind](target, i);
        ok[kind] += 1;
      } catch (err) {
        const key = `${kind}: ${String(err.code ?? err.message).slice(0, 120)}`;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    await pool.destroy();
  }
  return { ok, errors };
}

/**
 * Runs the soak and returns its figures; `failures` lists every broken expectation (empty when it passed).
 * Options: requests, concurrency, name, log (a line printer).
 */
export async function runSoak({ requests, concurrency = 32, name = "soak", log = () => {} }) {
  log(`starting origin, relay and agent for tunnel "${name}"`);
  // A caller that exits early (a test timing out, say) must not leave the relay and the agent running.
  process.on("exit", killAllNow);
  try {
    const stack = await startStack(name);
    const agentExchanges = { count: 0, withError: 0, errors: {} };
    stack.agent.listeners.add((e) => {
      if (e.event !== "exchange") return;
      agentExchanges.count += 1;
      if (!e.error) return;
      agentExchanges.withError += 1;
      const key = String(e.error).slice(0, 100);
      agentExchanges.errors[key] = (agentExchanges.errors[key] ?? 0) + 1;
    });
    const before = await stack.api("captures?limit=1");
    log(`sending ${requests} requests, ${concurrency} at a time`);
    const t0 = performance.now();
    const driving = drive(stack, name, { requests, concurrency });
    const peak = await samplePeaks(stack, driving);
    const { ok, errors } = await driving;
    const seconds = (performance.now() - t0) / 1000;
    const succeeded = Object.values(ok).reduce((a, b) => a + b, 0);
    log(`${succeeded}/${requests} succeeded in ${seconds.toFixed(1)} s; waiting for the counts to settle`);

    const idle = (s) => s.streams.http === 0 && s.streams.websocket === 0;
    const relayStreams = (await settle(() => stack.api("summary"), idle, SETTLE_MS)).streams;
    const agentStreams = await settle(stack.agentStreams, (n) => n === 0, SETTLE_MS);
    const stored = (c) => c.total + c.evicted - before.total - before.evicted;
    const after = await settle(
      () => stack.api("captures?limit=1"),
      (c) => stored(c) >= requests,
      SETTLE_MS,
    );
    const captures = stored(after);

    const failures = [];
    if (succeeded !== requests) failures.push(`${requests - succeeded} request(s) failed: ${JSON.stringify(errors)}`);
    if (agentExchanges.withError)
      failures.push(`the agent reported ${agentExchanges.withError} failed exchange(s): ${JSON.stringify(agentExchanges.errors)}`);
    if (!idle({ streams: relayStreams })) failures.push(`the relay still has open streams: ${JSON.stringify(relayStreams)}`);
    if (agentStreams !== 0) failures.push(`the agent still has ${agentStreams} open stream(s)`);
    if (captures !== requests) failures.push(`${captures} capture(s) were written for ${requests} requests`);
    for (const p of [stack.relay, stack.agent]) {
      if (p.exited) failures.push(`the ${p.label} exited (${p.exitCode})`);
      if (p.errorLines) failures.push(`the ${p.label} printed ${p.errorLines} error line(s); last: ${p.stderr.at(-1)}`);
    }
    return {
      requests,
      concurrency,
      seconds: Number(seconds.toFixed(2)),
      requestsPerSecond: Math.round(requests / seconds),
      ok,
      errors,
      agentExchanges: agentExchanges.count,
      relayStreams,
      agentStreams,
      peakStreams: peak,
      captures: { written: captures, stored: after.total, evicted: after.evicted },
      failures,
    };
  } finally {
    await stopAll();
    process.off("exit", killAllNow);
  }
}

/** `node bench/soak.mjs`: the full soak, printed; exits 1 on any failure. */
async function main() {
  const requests = Number(process.env.SOAK_REQUESTS ?? 100_000);
  const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);
  const log = (line) => process.stderr.write(`[soak ${(performance.now() / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      killAllNow();
      process.exit(130);
    });
  }
  try {
    const r = await runSoak({ requests, concurrency, log });
    console.log(JSON.stringify(r, null, 2));
    const kinds = Object.entries(r.ok)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    console.log(
      `\nsoak: ${r.requests} requests (${kinds}) at concurrency ${r.concurrency} in ${r.seconds} s = ${r.requestsPerSecond} req/s`,
    );
    console.log(
      r.failures.length ? `FAILED:\n  ${r.failures.join("\n  ")}` : "PASSED: no errors, no open streams, one capture per request",
    );
    process.exitCode = r.failures.length ? 1 : 0;
  } catch (err) {
    log(`FAILED: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
