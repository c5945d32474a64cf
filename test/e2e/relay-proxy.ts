// A reverse proxy in front of the relay, as a company proxy or CDN would be: it can drop WebSocket
// upgrades (forwarding them as plain requests, as a proxy without upgrade support does) and can stamp
// a Date header from a skewed clock.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";

export type RelayProxy = { url: string; close: () => Promise<void> };

/** Starts the proxy on 127.0.0.1:0 in front of `relay`. */
export async function startRelayProxy(relay: string, o: { upgrades: boolean; dateOffsetMs?: number }): Promise<RelayProxy> {
  const upstream = new URL(relay);
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const headers = { ...req.headers };
    // What a proxy without WebSocket support sends on: the request, minus its hop-by-hop headers.
    delete headers.upgrade;
    delete headers.connection;
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      const date = o.dateOffsetMs === undefined ? {} : { date: new Date(Date.now() + o.dateOffsetMs).toUTCString() };
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...date });
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  };
  const server = http.createServer(forward);
  // Sockets of upgrade requests leave the server's books but still hold close() up, so they are tracked here.
  const tunnels = new Set<{ destroy: () => void }>();
  server.on("upgrade", (req, socket, head) => {
    tunnels.add(socket);
    if (!o.upgrades) {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as never);
      return forward(req, res);
    }
    // Upgrades pass: the request head goes on as it came, then bytes flow both ways.
    const out = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      out.write(`${lines.join("\r\n")}\r\n\r\n`);
      out.write(head);
      out.pipe(socket).pipe(out);
    });
    tunnels.add(out);
    out.on("error", () => socket.destroy());
    socket.on("error", () => out.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
