// The issue-6 performance targets, each checked against one run's results: one row per target with
// the direct figure, the tunnel figure, their ratio, the target and pass or miss.

const MIB = 1024;
const num = (x, digits) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** One target row; `pass` is null when the scenario did not run or produced no number. */
function row(scenario, direct, tunnel, target, pass, digits = 2) {
  const ratio = Number.isFinite(direct) && Number.isFinite(tunnel) && direct !== 0 ? num(tunnel / direct, 3) : null;
  return { scenario, direct: num(direct, digits), tunnel: num(tunnel, digits), ratio, target, pass: Number.isFinite(tunnel) ? pass : null };
}

/** Evaluates every target the run measured. */
export function evaluateTargets(r) {
  const rows = [];
  const c = r.config;
  if (r.load) {
    const { direct, tunnel } = r.load;
    rows.push(
      row(
        `GET 1 KiB c=${c.concurrency} (req/s)`,
        direct.reqPerSec,
        tunnel.reqPerSec,
        ">= 0.35x direct",
        tunnel.reqPerSec >= 0.35 * direct.reqPerSec,
        0,
      ),
    );
  }
  if (r.latency) {
    const { direct, tunnel } = r.latency;
    rows.push(row("latency c=1 p50 (ms)", direct.p50Ms, tunnel.p50Ms, "<= direct + 1 ms", tunnel.p50Ms - direct.p50Ms <= 1, 3));
    rows.push(row("latency c=1 p99 (ms)", direct.p99Ms, tunnel.p99Ms, "<= direct + 5 ms", tunnel.p99Ms - direct.p99Ms <= 5, 3));
  }
  if (r.sse) {
    const { direct, tunnel } = r.sse;
    rows.push(
      row(
        `SSE delay p99 (ms), ${c.sseIntervalMs} ms apart`,
        direct.p99Ms,
        tunnel.p99Ms,
        "<= direct + 2 ms",
        tunnel.p99Ms - direct.p99Ms <= 2,
        3,
      ),
    );
    rows.push(
      row(
        "SSE coalesced events",
        direct.coalescedEvents,
        tunnel.coalescedEvents,
        `0, all ${c.sseEvents} received`,
        tunnel.coalescedEvents === 0 && tunnel.events === c.sseEvents,
        0,
      ),
    );
  }
  if (r.download) {
    const { direct, tunnel } = r.download;
    const okBoth = direct.sha256Ok && tunnel.sha256Ok;
    const pass = okBoth && tunnel.mbPerSec >= 300 && tunnel.mbPerSec >= 0.25 * direct.mbPerSec;
    rows.push(row(`download ${c.downloadMiB} MiB (MB/s)`, direct.mbPerSec, tunnel.mbPerSec, ">= 300 and >= 0.25x", pass, 1));
    const dp = direct.probes;
    const tp = tunnel.probes;
    if (tp) {
      const clean = Object.keys(tp.errors).length === 0;
      rows.push(row("small GET p99 during download (ms)", dp?.p99Ms, tp.p99Ms, "< 20 ms", clean && tp.p99Ms < 20, 2));
    }
  }
  if (r.upload) {
    const { direct, tunnel } = r.upload;
    rows.push(
      row(`upload ${c.uploadMiB} MiB (MB/s)`, direct.mbPerSec, tunnel.mbPerSec, ">= 150", tunnel.sha256Ok && tunnel.mbPerSec >= 150, 1),
    );
  }
  const slow = r.memory?.peakDuringSlowRead;
  if (slow) {
    const limit = 150 * MIB;
    rows.push(
      row(
        `slow reader ${c.slowReadSeconds} s: relay DO peak (MiB)`,
        null,
        slow.relayWorkerKiB / MIB,
        "< 150 MiB",
        slow.relayWorkerKiB < limit,
        1,
      ),
    );
    rows.push(
      row(`slow reader ${c.slowReadSeconds} s: agent peak (MiB)`, null, slow.agentKiB / MIB, "< 150 MiB", slow.agentKiB < limit, 1),
    );
  }
  if (r.fleet) {
    const { direct, tunnel } = r.fleet;
    rows.push(
      row(
        `${c.fleetStreams} SSE + ${c.fleetRequests} GET: errors`,
        direct?.errors,
        tunnel?.errors,
        "0",
        tunnel?.errors === 0 && tunnel?.requestsOk === c.fleetRequests,
        0,
      ),
    );
  }
  return rows;
}

/** The targets as an aligned table. */
export function targetsTable(rows) {
  const header = ["Scenario", "Direct", "Tunnel", "Ratio", "Target", "Result"];
  const cells = rows.map((t) => [
    t.scenario,
    t.direct ?? "-",
    t.tunnel ?? "n/a",
    t.ratio === null ? "-" : `${t.ratio}x`,
    t.target,
    t.pass === null ? "n/a" : t.pass ? "pass" : "MISS",
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((v, i) => (i === 0 || i === 4 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join("  ");
  const passed = rows.filter((t) => t.pass).length;
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line), `${passed}/${rows.length} targets met`].join("\n");
}
