// Formats the benchmark results as aligned plain-text tables.

const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : Number(x).toFixed(digits));
const mib = (kib) => (kib ? `${(kib / 1024).toFixed(1)}` : "n/a");

function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? "").length)));
  const left = (i) => i === 0 || header[i] === "Notes";
  const line = (r) =>
    r
      .map((c, i) => (left(i) ? String(c ?? "").padEnd(widths[i]) : String(c ?? "").padStart(widths[i])))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}

function ratio(tunnel, direct) {
  if (!Number.isFinite(tunnel) || !Number.isFinite(direct) || direct === 0) return "n/a";
  return `${(tunnel / direct).toFixed(tunnel / direct < 0.1 ? 3 : 2)}x`;
}

const ok = (r) => (r.sha256Ok ? "sha256 ok" : `MISMATCH ${r.bytes}/${r.expectedBytes} B${r.error ? ` (${r.error})` : ""}`);

/** The comparison table: one row per figure, direct and tunnel side by side. */
export function comparisonTable(r) {
  const rows = [];
  const { load, latency, sse, download, upload, config: c } = r;
  if (load) {
    rows.push([
      `GET 1 KiB, c=${c.concurrency}, ${c.loadSeconds} s (req/s)`,
      fmt(load.direct.reqPerSec),
      fmt(load.tunnel.reqPerSec),
      ratio(load.tunnel.reqPerSec, load.direct.reqPerSec),
      `under load p50/p99 ms: direct ${fmt(load.direct.latencyP50Ms, 2)}/${fmt(load.direct.latencyP99Ms, 2)}, tunnel ${fmt(load.tunnel.latencyP50Ms, 2)}/${fmt(load.tunnel.latencyP99Ms, 2)}${errs(load)}`,
    ]);
  }
  if (latency) {
    for (const [label, key] of [
      ["p50", "p50Ms"],
      ["p99", "p99Ms"],
    ]) {
      rows.push([
        `Latency c=1, ${latency.tunnel.requests} req, ${label} (ms)`,
        fmt(latency.direct[key], 3),
        fmt(latency.tunnel[key], 3),
        ratio(latency.tunnel[key], latency.direct[key]),
        `added ${fmt(latency.tunnel[key] - latency.direct[key], 3)} ms${label === "p50" ? errs(latency) : ""}`,
      ]);
    }
  }
  if (sse) {
    for (const [label, key] of [
      ["p50", "p50Ms"],
      ["p99", "p99Ms"],
    ]) {
      rows.push([
        `SSE ${c.sseEvents} ev / ${c.sseIntervalMs} ms, delay ${label} (ms)`,
        fmt(sse.direct[key], 3),
        fmt(sse.tunnel[key], 3),
        ratio(sse.tunnel[key], sse.direct[key]),
        `added ${fmt(sse.tunnel[key] - sse.direct[key], 3)} ms`,
      ]);
    }
    rows.push([
      "SSE coalesced events (chunks)",
      `${sse.direct.coalescedEvents} (${sse.direct.coalescedChunks})`,
      `${sse.tunnel.coalescedEvents} (${sse.tunnel.coalescedChunks})`,
      "",
      `received direct ${sse.direct.events}/${c.sseEvents}, tunnel ${sse.tunnel.events}/${c.sseEvents}; max ms direct ${fmt(sse.direct.maxMs, 2)}, tunnel ${fmt(sse.tunnel.maxMs, 2)}`,
    ]);
  }
  if (download) {
    rows.push([
      `Download ${c.downloadMiB} MiB (MB/s)`,
      fmt(download.direct.mbPerSec),
      fmt(download.tunnel.mbPerSec),
      ratio(download.tunnel.mbPerSec, download.direct.mbPerSec),
      `direct ${ok(download.direct)} ${fmt(download.direct.seconds, 2)} s; tunnel ${ok(download.tunnel)} ${fmt(download.tunnel.seconds, 2)} s`,
    ]);
  }
  if (upload) {
    rows.push([
      `Upload ${c.uploadMiB} MiB (MB/s)`,
      fmt(upload.direct.mbPerSec),
      fmt(upload.tunnel.mbPerSec),
      ratio(upload.tunnel.mbPerSec, upload.direct.mbPerSec),
      `direct ${ok(upload.direct)} ${fmt(upload.direct.seconds, 2)} s; tunnel ${ok(upload.tunnel)} ${fmt(upload.tunnel.seconds, 2)} s`,
    ]);
  }
  return table(["Measurement", "Direct", "Tunnel", "Tunnel/Direct", "Notes"], rows);
}

function errs(pair) {
  const n = (e) => Object.values(e ?? {}).reduce((a, b) => a + b, 0);
  const d = n(pair.direct.errors);
  const t = n(pair.tunnel.errors);
  return d || t ? `; ERRORS direct ${d}, tunnel ${t}` : "";
}

/** The memory table: summed RSS (MiB) of the relay runtime, the relay's Node host and the agent. */
export function memoryTable(m) {
  const groups = [
    ["relay runtime (workerd tree)", "relayRuntimeKiB"],
    ["relay host (node)", "relayHostKiB"],
    ["agent (node)", "agentKiB"],
  ];
  const rows = groups.map(([label, key]) => [
    label,
    mib(m.afterStart?.[key]),
    mib(m.beforeDownload?.[key]),
    mib(m.peakBeforeDownload?.[key]),
    mib(m.peakDuringDownload?.[key]),
    mib(m.peakDuringUpload?.[key]),
    mib(m.peakDuringSlowRead?.[key]),
    mib(m.atEnd?.[key]),
    mib(m.hwmAtEnd?.[key]),
  ]);
  return table(
    ["RSS, MiB", "after start", "before dl", "peak before dl", "PEAK during dl", "peak during ul", "peak slow read", "at end", "sum VmHWM"],
    rows,
  );
}

/** Where the CPU went in each phase, in percent of one core; "other" is everything else on the machine. */
export function cpuTable(phases) {
  const cols = ["client", "origin", "relayWorker", "relayHost", "agent", "otherProcesses"];
  const rows = phases.map((p) => [`${p.phase} (${p.side})`, ...cols.map((c) => fmt(p[c], 0))]);
  return table(["CPU, % of one core", "bench client", "origin", "workerd relay+DO", "relay node", "agent", "rest of machine"], rows);
}

const LINE_WIDTH = 140;

/**
 * JSON laid out the way the repo's formatter (biome) lays it out, so bench/results.json passes
 * `npm run lint`: objects one key per line; arrays of plain values on one line when they fit.
 */
export function formatJson(value, indent = "", prefix = 0) {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const plain = value.every((v) => v === null || typeof v !== "object");
    if (plain) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
      if (indent.length + prefix + flat.length + 1 <= LINE_WIDTH) return flat;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${formatJson(v, inner, 0)}`).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = `${indent}  `;
    const lines = entries.map(([k, v]) => {
      const key = `${JSON.stringify(k)}: `;
      return `${inner}${key}${formatJson(v, inner, key.length)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}
