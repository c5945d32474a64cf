// The platform's ceiling for the small-GET targets: the same client against workerd run the way the local relay
// runs it (its own binary, a direct socket), serving 1 KiB from the thinnest possible Worker, with and without a
// Durable Object hop, next to the same direct origin. Nothing porthole does per request is in these figures, so
// a tunnel figure above them is impossible on this machine. Run with `node bench/ceiling.mjs`.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { sequentialLatency, smallLoad } from "./measure.mjs";
import { forkModule, killAllNow } from "./procs.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const workerd = createRequire(import.meta.url)("workerd").default;

const WORKER = `import { DurableObject } from "cloudflare:workers";
const KIB = new Uint8Array(1024).fill(120);
export class Echo extends DurableObject {
  fetch() { return new Response(KIB); }
}
export default {
  fetch(request, env) {
    if (request.headers.get("host").startsWith("do.")) return env.ECHO.get(env.ECHO.idFromName("one")).fetch(request);
    return new Response(KIB);
  },
};
`;

const CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .main), (name = "storage", disk = (path = "storage", writable = true))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const main :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "2026-11-01",
  bindings = [(name = "ECHO", durableObjectNamespace = "Echo")],
  durableObjectNamespaces = [(className = "Echo", uniqueKey = "ceiling-echo", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
);
`;

async function startWorkerd(dir) {
  mkdirSync(join(dir, "storage"));
  writeFileSync(join(dir, "worker.mjs"), WORKER);
  writeFileSync(join(dir, "ceiling.capnp"), CONFIG);
  const child = spawn(workerd, ["serve", "ceiling.capnp", "--control-fd=3", `--directory-path=storage=${join(dir, "storage")}`], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  const port = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`workerd exited (${code})`)));
    createInterface({ input: child.stdio[3] }).on("line", (line) => {
      const e = JSON.parse(line);
      if (e.event === "listen") resolve(e.port);
    });
  });
  return { child, port };
}

const dir = mkdtempSync(join(tmpdir(), "porthole-ceiling-"));
const origin = forkModule("origin", join(here, "origin.mjs"), 10_000);
let runtime;
try {
  const { port: originPort } = await origin.first;
  runtime = await startWorkerd(dir);
  const targets = {
    "direct origin (node)": { origin: `http://127.0.0.1:${originPort}` },
    "workerd: Worker answers": { origin: `http://127.0.0.1:${runtime.port}`, host: `w.localhost:${runtime.port}` },
    "workerd: Worker -> Durable Object": { origin: `http://127.0.0.1:${runtime.port}`, host: `do.localhost:${runtime.port}` },
  };
  const rows = [];
  for (const [label, target] of Object.entries(targets)) {
    const load = await smallLoad(target, { concurrency: 32, durationMs: 5000, warmupMs: 1000 });
    const latency = await sequentialLatency(target, { count: 500, warmup: 50, maxMs: 30_000 });
    rows.push({ label, reqPerSec: load.reqPerSec, p50: latency.p50Ms, p99: latency.p99Ms });
  }
  const direct = rows[0].reqPerSec;
  console.log("GET 1 KiB: platform ceiling on this machine (no porthole code in the path)\n");
  console.log(
    `${"path".padEnd(36)}${"c=32 req/s".padStart(12)}${"x direct".padStart(10)}${"c=1 p50 ms".padStart(12)}${"p99 ms".padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(36)}${String(r.reqPerSec).padStart(12)}${(r.reqPerSec / direct).toFixed(3).padStart(10)}${String(r.p50).padStart(12)}${String(r.p99).padStart(9)}`,
    );
  }
} finally {
  runtime?.child.kill("SIGKILL");
  killAllNow();
  rmSync(dir, { recursive: true, force: true });
}
