// A real local origin on 127.0.0.1:0: HTTP endpoints for every behaviour the tunnel must carry,
// and a WebSocket echo server with subprotocol negotiation.

import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { WebSocketServer } from "ws";

/** A gzip body the tunnel must pass through untouched, never decoded or re-encoded. */
export const GZIPPED = gzipSync("compressed hello\n".repeat(50));

/** 1 MiB of deterministic bytes; large bodies repeat it, so tests can compute the expected sha256. */
export const BLOCK = (() => {
  const b = Buffer.alloc(1024 * 1024);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
})();

/** sha256 of `BLOCK` repeated to `bytes` bytes. */
export function expectedSha256(bytes: number): string {
  const h = createHash("sha256");
  for (let left = bytes; left > 0; left -= BLOCK.length) h.update(left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left));
  return h.digest("hex");
}

export type Origin = {
  port: number;
  /** Emits "request-closed" (path) when a client-side abort reached the origin, "sent" (path, bytes). */
  events: EventEmitter;
  /** Bytes the /stream endpoint has handed to its socket so far. */
  streamed: { bytes: number };
  close: () => Promise<void>;
};

/** Writes `bytes` of BLOCK data, respecting backpressure. */
function streamBytes(res: http.ServerResponse, bytes: number, counter: { bytes: number }): void {
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const piece = left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left);
      left -= piece.length;
      counter.bytes += piece.length;
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}

export async function startOrigin(): Promise<Origin> {
  const events = new EventEmitter();
  const streamed = { bytes: 0 };
  const server = http.createServer((req, res) => {
    // Parse as a path even when it starts with "//", which new URL() would read as a host.
    const url = new URL(`http://origin${req.url ?? "/"}`);
    const path = url.pathname;
    req.on("close", () => {
      if (!res.writableEnded) events.emit("request-closed", path);
    });
    if (path === "/echo" || path.startsWith("//evil.example/")) {
      const hash = createHash("sha256");
      let length = 0;
      req.on("data", (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      req.on("end", () => {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, length, sha256: hash.digest("hex") }));
      });
      return;
    }
    if (path.startsWith("/status/")) {
      res.statusCode = Number(path.slice("/status/".length));
      if (res.statusCode === 304 || res.statusCode === 204) return void res.end();
      return void res.end(`status ${res.statusCode}`);
    }
    if (path === "/redirect") {
      res.writeHead(302, { Location: "/elsewhere" });
      return void res.end("moved");
    }
    if (path === "/headers") {
      // Repeats and order matter: several Set-Cookie and a repeated custom header.
      res.writeHead(200, [
        ["X-First", "1"],
        ["Set-Cookie", "a=1; Path=/"],
        ["Set-Cookie", "b=2; HttpOnly"],
        ["X-Multi", "one"],
        ["X-Multi", "two"],
        ["Content-Type", "text/plain"],
        ["Connection", "keep-alive"],
        ["Keep-Alive", "timeout=5"],
      ] as unknown as http.OutgoingHttpHeaders);
      return void res.end("headers");
    }
    if (path === "/binary") {
      const body = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length });
      return void res.end(body);
    }
    if (path === "/bytes") {
      const n = Number(url.searchParams.get("n") ?? "0");
      const headers: http.OutgoingHttpHeaders = { "Content-Type": "application/octet-stream" };
      if (url.searchParams.get("length") === "1") headers["Content-Length"] = n;
      res.writeHead(200, headers);
      return streamBytes(res, n, streamed);
    }
    if (path === "/upload") {
      const pauseMs = Number(url.searchParams.get("pause") ?? "0");
      if (pauseMs > 0) {
        req.pause();
        setTimeout(() => req.resume(), pauseMs);
      }
      const hash = createHash("sha256");
      let length = 0;
      req.on("data", (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      req.on("end", () => res.end(JSON.stringify({ length, sha256: hash.digest("hex") })));
      return;
    }
    if (path === "/stream") {
      // Writes a line every `interval` ms until the client goes away or `n` lines are out.
      const type = url.searchParams.get("type") ?? "text/event-stream";
      const n = Number(url.searchParams.get("n") ?? "1000000");
      const interval = Number(url.searchParams.get("interval") ?? "100");
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-cache" });
      let i = 0;
      const tick = () => {
        res.write(type === "text/event-stream" ? `id: ${i}\ndata: event ${i}\n\n` : `line ${i}\n`);
        i += 1;
        if (i >= n) return void res.end();
        timer = setTimeout(tick, interval);
      };
      let timer = setTimeout(tick, 0);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    if (path === "/gzip") {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip" });
      return void res.end(GZIPPED);
    }
    res.statusCode = 404;
    res.end("not found");
  });
  const wss = new WebSocketServer({
    server,
    path: "/ws",
    handleProtocols: (protocols) => (protocols.has("chat.v2") ? "chat.v2" : false),
  });
  wss.on("connection", (ws, req) => {
    ws.send(JSON.stringify({ hello: true, protocol: ws.protocol, host: req.headers.host }));
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      const close = /^close:(\d+):(.*)$/.exec(text);
      if (close) return ws.close(Number(close[1]), close[2]);
      ws.send(data, { binary: isBinary });
    });
    ws.on("close", (code, reason) => events.emit("ws-closed", code, reason.toString()));
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    events,
    streamed,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
