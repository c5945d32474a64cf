// The load scenarios behind the issue-6 targets that the single-request measurements in measure.mjs
// do not cover: a slow reader (memory under backpressure), many SSE streams alongside a burst of small
// requests (errors), and small requests racing a big download (fairness).
import { Pool } from "undici";
import { download, percentile } from "./measure.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const headersFor = (target, extra = {}) => (target.host ? { host: target.host, ...extra } : { ...extra });
const bump = (errors, err) => {
  const key = String(err?.code ?? err?.message ?? err).slice(0, 80);
  errors[key] = (errors[key] ?? 0) + 1;
};

/** One GET /small on `p`; throws unless it is a whole 1 KiB 200 answer. */
async function getSmall(p, headers) {
  const { statusCode, body } = await p.request({ path: "/small", method: "GET", headers });
  const buf = Buffer.from(await body.arrayBuffer());
  if (statusCode !== 200 || buf.length !== 1024) throw new Error(`status ${statusCode}, ${buf.length} bytes`);
}

/**
 * Reads a `bytes` download at `bytesPerSec` for `seconds`, then hangs up. Pausing the body makes the
 * client's socket stop draining, so the relay and the agent must hold back instead of buffering the rest.
 */
export async function slowRead(target, { bytes, bytesPerSec, seconds }) {
  const p = new Pool(target.origin, { connections: 1, bodyTimeout: 0, headersTimeout: 15_000 });
  const controller = new AbortController();
  let received = 0;
  let error = null;
  const t0 = performance.now();
  try {
    const { statusCode, body } = await p.request({
      path: `/download?bytes=${bytes}`,
      method: "GET",
      headers: headersFor(target),
      signal: controller.signal,
    });
    if (statusCode !== 200) throw new Error(`slow download answered ${statusCode}`);
    await new Promise((resolve) => {
      const stopAt = t0 + seconds * 1000;
      const onData = (c) => {
        received += c.length;
        const now = performance.now();
        if (now >= stopAt) {
          body.off("data", onData);
          return resolve();
        }
        // Ahead of the allowed rate: pause until the schedule catches up.
        const due = t0 + (received / bytesPerSec) * 1000;
        if (due > now) {
          body.pause();
          setTimeout(() => body.resume(), Math.min(due, stopAt) - now);
        }
      };
      body.on("data", onData);
      body.on("end", resolve);
      body.on("error", (err) => {
        // Our own hang-up at the end is not a failure.
        if (!controller.signal.aborted) error = String(err.code ?? err.message);
        resolve();
      });
      setTimeout(resolve, seconds * 1000 + 100).unref();
    });
  } catch (err) {
    error = String(err.code ?? err.message);
  } finally {
    controller.abort();
    await p.destroy().catch(() => {});
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { bytes: received, seconds: round(elapsed, 2), mbPerSec: round(received / 1e6 / elapsed, 2), error };
}

/** Opens one SSE stream and counts its events until `stop` is aborted; an early end or a failure is an error. */
async function sseStream(p, target, interval, stop, state) {
  try {
    const { statusCode, body } = await p.request({
      path: `/sse?n=10000&interval=${interval}`,
      method: "GET",
      headers: headersFor(target, { accept: "text/event-stream" }),
      signal: stop,
    });
    if (statusCode !== 200) throw new Error(`SSE answered ${statusCode}`);
    let first = true;
    for await (const chunk of body) {
      const events = chunk.toString("utf8").split("\n\n").length - 1;
      state.events += events;
      if (first && events > 0) {
        first = false;
        state.open += 1;
      }
    }
    if (!stop.aborted) throw new Error("SSE stream ended early");
  } catch (err) {
    if (!stop.aborted) bump(state.errors, err);
  }
}

/**
 * Holds `streams` SSE streams open on one tunnel, and once every one has delivered an event, sends
 * `requests` GET /small from `concurrency` loops. Every stream must still be open at the end.
 */
export async function sseFleet(target, { streams, interval, requests, concurrency, openTimeoutMs, requestDeadlineMs }) {
  const sseErrors = {};
  const state = { events: 0, open: 0, errors: sseErrors };
  const ssePool = new Pool(target.origin, { connections: streams, bodyTimeout: 0, headersTimeout: openTimeoutMs });
  const smallPool = new Pool(target.origin, { connections: concurrency, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const stop = new AbortController();
  const t0 = performance.now();
  const running = Array.from({ length: streams }, () => sseStream(ssePool, target, interval, stop.signal, state));
  const requestErrors = {};
  let ok = 0;
  let openMs = Number.NaN;
  let requestSeconds = Number.NaN;
  try {
    const openDeadline = t0 + openTimeoutMs;
    while (state.open + Object.values(sseErrors).reduce((a, b) => a + b, 0) < streams && performance.now() < openDeadline) await sleep(20);
    openMs = performance.now() - t0;
    if (state.open < streams) bump(sseErrors, new Error(`only ${state.open}/${streams} streams opened`));
    const headers = headersFor(target);
    let next = 0;
    const latencies = [];
    const r0 = performance.now();
    const requestDeadline = r0 + requestDeadlineMs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests && performance.now() < requestDeadline) {
          next += 1;
          const s = performance.now();
          try {
            await getSmall(smallPool, headers);
            ok += 1;
            latencies.push(performance.now() - s);
          } catch (err) {
            bump(requestErrors, err);
          }
        }
      }),
    );
    requestSeconds = (performance.now() - r0) / 1000;
    if (next < requests) requestErrors["not sent before the deadline"] = requests - next;
    const eventsBefore = state.events;
    // Proof the streams survived the burst: events keep arriving after it.
    const flowDeadline = performance.now() + interval * 2;
    while (state.events === eventsBefore && performance.now() < flowDeadline) await sleep(10);
    const stillFlowing = state.events > eventsBefore;
    if (!stillFlowing) bump(sseErrors, new Error("no SSE events after the request burst"));
    const errors = Object.values(sseErrors).reduce((a, b) => a + b, 0) + Object.values(requestErrors).reduce((a, b) => a + b, 0);
    return {
      streams,
      streamsOpen: state.open,
      openSeconds: round(openMs / 1000, 2),
      sseEvents: state.events,
      requests,
      requestsOk: ok,
      requestSeconds: round(requestSeconds, 2),
      reqPerSec: round(ok / requestSeconds, 1),
      latencyP99Ms: round(percentile(latencies, 99)),
      errors,
      sseErrors,
      requestErrors,
    };
  } finally {
    stop.abort();
    await Promise.all(running);
    await Promise.all([ssePool.destroy().catch(() => {}), smallPool.destroy().catch(() => {})]);
  }
}

/** Runs the big download while one connection sends GET /small every `everyMs`; reports both. */
export async function downloadWithProbes(target, { bytes, expectedSha256, timeoutMs, everyMs }) {
  const p = new Pool(target.origin, { connections: 1, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const headers = headersFor(target);
  const latencies = [];
  const errors = {};
  let done = false;
  const probes = (async () => {
    await sleep(200); // Let the download reach full speed first.
    while (!done) {
      const s = performance.now();
      try {
        await getSmall(p, headers);
        if (!done) latencies.push(performance.now() - s);
      } catch (err) {
        bump(errors, err);
      }
      await sleep(Math.max(0, everyMs - (performance.now() - s)));
    }
  })();
  try {
    const result = await download(target, { bytes, expectedSha256, timeoutMs });
    done = true;
    await probes;
    result.probes = {
      requests: latencies.length,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(Math.max(...latencies)),
      errors,
    };
    return result;
  } finally {
    done = true;
    await p.destroy().catch(() => {});
  }
}
