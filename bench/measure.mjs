// The client side of each measurement. A target is where requests go:
//   { origin: "http://127.0.0.1:PORT", host?: "name.localhost:PORT" }
// Direct targets talk to the origin itself; tunnel targets talk to the relay with the tunnel's Host.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { Pool } from "undici";
import { slices } from "./content.mjs";

/** Wall-clock milliseconds with sub-millisecond resolution; the origin uses the same formula. */
export const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const REQUEST_TIMEOUT_MS = 15_000;

/** Nearest-rank percentile of an unsorted array of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

function headersFor(target, extra = {}) {
  return target.host ? { host: target.host, ...extra } : { ...extra };
}

function pool(target, connections) {
  return new Pool(target.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

/** GET /small from `concurrency` loops for `durationMs` (after a warm-up); counts only whole, correct answers. */
export async function smallLoad(target, { concurrency, durationMs, warmupMs }) {
  const p = pool(target, concurrency);
  const headers = headersFor(target);
  const errors = {};
  const run = async (untilMs, record) => {
    let ok = 0;
    const latencies = [];
    for (let guard = 0; guard < 10_000_000 && performance.now() < untilMs; guard++) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await p.request({ path: "/small", method: "GET", headers });
        const buf = Buffer.from(await body.arrayBuffer());
        if (statusCode !== 200 || buf.length !== 1024) throw new Error(`status ${statusCode}, ${buf.length} bytes`);
        ok += 1;
        if (record) latencies.push(performance.now() - t0);
      } catch (err) {
        const key = String(err.code ?? err.message).slice(0, 80);
        if (record) errors[key] = (errors[key] ?? 0) + 1;
        await sleep(20); // A failing target must not turn this loop into a spin.
      }
    }
    return { ok, latencies };
  };
  try {
    const warmEnd = performance.now() + warmupMs;
    await Promise.all(Array.from({ length: concurrency }, () => run(warmEnd, false)));
    const start = performance.now();
    const end = start + durationMs;
    const results = await Promise.all(Array.from({ length: concurrency }, () => run(end, true)));
    const elapsedMs = performance.now() - start;
    const ok = results.reduce((a, r) => a + r.ok, 0);
    const latencies = results.flatMap((r) => r.latencies);
    return {
      requests: ok,
      elapsedMs: round(elapsedMs, 1),
      reqPerSec: round((ok / elapsedMs) * 1000, 1),
      latencyP50Ms: round(percentile(latencies, 50)),
      latencyP99Ms: round(percentile(latencies, 99)),
      errors,
    };
  } finally {
    await p.destroy();
  }
}

/** `count` sequential GET /small on one keep-alive connection, after `warmup` unrecorded ones. */
export async function sequentialLatency(target, { count, warmup, maxMs }) {
  const p = pool(target, 1);
  const headers = headersFor(target);
  const latencies = [];
  const errors = {};
  const deadline = performance.now() + maxMs;
  try {
    for (let i = 0; i < warmup + count && performance.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await p.request({ path: "/small", method: "GET", headers });
        const buf = Buffer.from(await body.arrayBuffer());
        if (statusCode !== 200 || buf.length !== 1024) throw new Error(`status ${statusCode}, ${buf.length} bytes`);
        if (i >= warmup) latencies.push(performance.now() - t0);
      } catch (err) {
        const key = String(err.code ?? err.message).slice(0, 80);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  } finally {
    await p.destroy();
  }
  return {
    requests: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    errors,
  };
}

/**
 * Reads an SSE stream of `n` events `interval` ms apart. Each event carries the origin's send time;
 * the delay is arrival minus send time (same machine clock). A chunk that completes two or more
 * events is a coalesced chunk: those events did not reach the client separately.
 */
export async function sseDelay(target, { n, interval }) {
  const p = pool(target, 1);
  const delays = [];
  const perChunk = [];
  let buffer = "";
  let chunks = 0;
  let bad = 0;
  const started = performance.now();
  let firstByteMs = Number.NaN;
  try {
    const { statusCode, headers, body } = await p.request({
      path: `/sse?n=${n}&interval=${interval}`,
      method: "GET",
      headers: headersFor(target, { accept: "text/event-stream" }),
      signal: AbortSignal.timeout(n * interval + 20_000),
    });
    if (statusCode !== 200) throw new Error(`SSE answered ${statusCode}`);
    await new Promise((resolve, reject) => {
      body.on("data", (chunk) => {
        const arrived = wallNow();
        if (chunks === 0) firstByteMs = performance.now() - started;
        chunks += 1;
        buffer += chunk.toString("utf8");
        let completed = 0;
        for (let at = buffer.indexOf("\n\n"); at !== -1; at = buffer.indexOf("\n\n")) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          try {
            const { t } = JSON.parse(data ?? "");
            delays.push(arrived - t);
            completed += 1;
          } catch {
            bad += 1;
          }
        }
        if (completed > 0) perChunk.push(completed);
      });
      body.on("end", resolve);
      body.on("error", reject);
    });
    const coalescedChunks = perChunk.filter((k) => k > 1);
    return {
      contentEncoding: headers["content-encoding"] ?? null,
      events: delays.length,
      expected: n,
      malformed: bad,
      chunks,
      coalescedChunks: coalescedChunks.length,
      coalescedEvents: coalescedChunks.reduce((a, b) => a + b, 0),
      largestChunkEvents: Math.max(0, ...perChunk),
      firstByteMs: round(firstByteMs),
      p50Ms: round(percentile(delays, 50)),
      p99Ms: round(percentile(delays, 99)),
      maxMs: round(Math.max(...delays)),
    };
  } finally {
    await p.destroy();
  }
}

/** Downloads `bytes` of deterministic content, hashing as it streams; checks length and sha256. */
export async function download(target, { bytes, expectedSha256, timeoutMs }) {
  const p = pool(target, 1);
  const hash = createHash("sha256");
  let received = 0;
  let largestChunk = 0;
  const t0 = performance.now();
  let error;
  try {
    const { statusCode, body } = await p.request({
      path: `/download?bytes=${bytes}`,
      method: "GET",
      headers: headersFor(target),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (statusCode !== 200) throw new Error(`download answered ${statusCode}`);
    await new Promise((resolve, reject) => {
      body.on("data", (c) => {
        received += c.length;
        if (c.length > largestChunk) largestChunk = c.length;
        hash.update(c);
      });
      body.on("end", resolve);
      body.on("error", reject);
    });
  } catch (err) {
    error = String(err.code ?? err.message);
  } finally {
    await p.destroy().catch(() => {});
  }
  const seconds = (performance.now() - t0) / 1000;
  const sha256 = hash.digest("hex");
  return {
    bytes: received,
    expectedBytes: bytes,
    seconds: round(seconds),
    mbPerSec: round(received / 1e6 / seconds, 1),
    sha256Ok: received === bytes && sha256 === expectedSha256,
    sha256,
    largestChunk,
    error: error ?? null,
  };
}

/** Uploads `bytes` of deterministic content with a Content-Length; the origin reports what it got. */
export async function upload(target, { block, bytes, expectedSha256, timeoutMs }) {
  const p = pool(target, 1);
  const t0 = performance.now();
  let answer;
  let status = 0;
  let error;
  try {
    const { statusCode, body } = await p.request({
      path: "/upload",
      method: "POST",
      headers: headersFor(target, { "content-type": "application/octet-stream", "content-length": String(bytes) }),
      body: Readable.from(slices(block, bytes, 64 * 1024), { objectMode: false }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = statusCode;
    const text = await body.text();
    answer = statusCode === 200 ? JSON.parse(text) : { error: text.slice(0, 200) };
  } catch (err) {
    error = String(err.code ?? err.message);
  } finally {
    await p.destroy().catch(() => {});
  }
  const seconds = (performance.now() - t0) / 1000;
  const got = answer?.bytes ?? 0;
  return {
    status,
    bytes: got,
    expectedBytes: bytes,
    seconds: round(seconds),
    mbPerSec: round(got / 1e6 / seconds, 1),
    sha256Ok: got === bytes && answer?.sha256 === expectedSha256,
    error: error ?? answer?.error ?? null,
  };
}
