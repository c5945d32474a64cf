// The local origin for the benchmark, run as a child process (forked with IPC) so it has its own
// event loop and CPU, exactly as a developer's local server would. Binds 127.0.0.1:0 and sends
// {port} to the parent.
//   GET  /small                      1 KiB body
//   GET  /sse?n=100&interval=10      n SSE events, each carrying its send time
//   GET  /download?bytes=N           N bytes of deterministic content (Content-Length set)
//   POST /upload                     counts and hashes the body, answers {bytes, sha256}
import { createHash } from "node:crypto";
import http from "node:http";
import { makeBlock, slices } from "./content.mjs";

const block = makeBlock();
const small = Buffer.alloc(1024, "x");
/** Wall-clock milliseconds with sub-millisecond resolution; the client uses the same formula. */
const wallNow = () => performance.timeOrigin + performance.now();
const MAX_SSE_EVENTS = 10_000;

function sse(req, res, url) {
  const n = Math.min(MAX_SSE_EVENTS, Math.max(1, Number(url.searchParams.get("n") ?? 100)));
  const interval = Math.max(0, Number(url.searchParams.get("interval") ?? 10));
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.flushHeaders();
  const start = performance.now() + interval;
  let i = 0;
  let timer;
  const tick = () => {
    if (res.destroyed) return;
    res.write(`id: ${i}\ndata: {"i":${i},"t":${wallNow().toFixed(3)}}\n\n`);
    i += 1;
    if (i >= n) return void res.end();
    // Scheduled against the start time so event spacing does not drift.
    timer = setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
  };
  timer = setTimeout(tick, interval);
  req.on("close", () => clearTimeout(timer));
}

function download(res, url) {
  const total = Math.max(0, Math.floor(Number(url.searchParams.get("bytes") ?? 0)));
  res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(total) });
  const it = slices(block, total, 256 * 1024);
  const pump = () => {
    for (;;) {
      const { value, done } = it.next();
      if (done) return void res.end();
      if (!res.write(value)) return void res.once("drain", pump);
    }
  };
  res.on("close", () => it.return());
  pump();
}

function upload(req, res) {
  const hash = createHash("sha256");
  let bytes = 0;
  req.on("data", (c) => {
    bytes += c.length;
    hash.update(c);
  });
  req.on("end", () => {
    const body = JSON.stringify({ bytes, sha256: hash.digest("hex") });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
}

const server = http.createServer({ keepAliveTimeout: 60_000, noDelay: true }, (req, res) => {
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  if (req.method === "GET" && url.pathname === "/small") {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "1024" });
    return void res.end(small);
  }
  if (req.method === "GET" && url.pathname === "/sse") return sse(req, res, url);
  if (req.method === "GET" && url.pathname === "/download") return download(res, url);
  if (req.method === "POST" && url.pathname === "/upload") return upload(req, res);
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found\n");
});
server.headersTimeout = 60_000;
server.requestTimeout = 0;

server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
// The parent going away (even by SIGKILL) closes the IPC channel: leave with it.
process.on("disconnect", () => process.exit(0));
