// A local server that remembers every request it received, byte for byte, so a test can prove what
// reached the local side and, as much as that, what never did. A judge may answer a request itself,
// as an application that checks webhook signatures on its own would.

import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the local server received it. */
export type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: Buffer };

/** The local application's own answer to a request; undefined answers 200 "ok". */
export type Judge = (seen: Seen) => { status: number; body: string } | undefined;

/** A recording local server on 127.0.0.1. */
export type RecordingOrigin = {
  port: number;
  /** Every request so far, in arrival order. */
  seen: Seen[];
  /** The requests whose path (without the query) is `path`. */
  at: (path: string) => Seen[];
  close: () => Promise<void>;
};

/** Starts the server on a free port; `judge` decides the answers (default: 200 "ok"). */
export async function startRecordingOrigin(judge: Judge = () => undefined): Promise<RecordingOrigin> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      seen.push(request);
      const answer = judge(request) ?? { status: 200, body: "ok" };
      res.writeHead(answer.status, { "Content-Type": "text/plain" });
      res.end(answer.body);
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    at: (path) => seen.filter((s) => s.url.split("?")[0] === path),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
