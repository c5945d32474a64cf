// The local origin for the soak, forked with IPC like bench/origin.mjs: plain HTTP plus a WebSocket
// echo on the same port. Binds 127.0.0.1:0 and sends {port} to the parent.
//   GET  /small          1 KiB body
//   POST /echo           answers the request body unchanged (the client checks its digest)
//   GET  /sse?n=3        n SSE events at once, then the end of the stream
//   WS   /ws             echoes every message, text or binary
import http from "node:http";
import { WebSocketServer } from "ws";

const small = Buffer.alloc(1024, "s");
const MAX_SSE_EVENTS = 100;

function echo(req, res) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) });
    res.end(body);
  });
}

function sse(res, url) {
  const n = Math.min(MAX_SSE_EVENTS, Math.max(1, Number(url.searchParams.get("n") ?? 3)));
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  for (let i = 0; i < n; i++) res.write(`id: ${i}\ndata: {"i":${i}}\n\n`);
  res.end();
}

const server = http.createServer({ keepAliveTimeout: 60_000, noDelay: true }, (req, res) => {
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  if (req.method === "GET" && url.pathname === "/small") {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "1024" });
    return void res.end(small);
  }
  if (req.method === "POST" && url.pathname === "/echo") return echo(req, res);
  if (req.method === "GET" && url.pathname === "/sse") return sse(res, url);
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found\n");
});

const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});

server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
// The parent going away (even by SIGKILL) closes the IPC channel: leave with it.
process.on("disconnect", () => process.exit(0));
