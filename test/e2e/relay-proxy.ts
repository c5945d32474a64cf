// A reverse proxy in front of the relay, as a company proxy or CDN would be: it can drop WebSocket
// upgrades (forwarding them as plain requests, as a proxy without upgrade support does) and can stamp
// a Date header from a skewed clock. Between an agent and the relay it is also the test's hand on the
// link: it can cut the open WebSocket connections, stall them (bytes stop, sockets stay open, as on a
// dead Wi-Fi or a sleeping laptop) and resume them.

import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { connect } from "node:net";
import type { Duplex } from "node:stream";

/** One upgraded connection: the side that dialled the proxy and the proxy's own socket to the relay. */
type Link = { near: Duplex; far: Socket };

export type RelayProxy = {
  url: string;
  /** Upgraded connections open now (an agent's link to the relay, once it is connected). */
  links: () => number;
  /** Destroys every open upgraded connection at once, as a dropped network does; new ones still pass. */
  cut: () => void;
  /** Stops moving bytes on every open upgraded connection and keeps both sockets open; new ones still pass. */
  stall: () => void;
  /** Moves bytes again on the stalled connections that are still open, including what queued up meanwhile. */
  resume: () => void;
  close: () => Promise<void>;
};

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
  const links = new Set<Link>();
  const stalled = new Set<Link>();
  const plain = new Set<Duplex>();
  const flow = (link: Link) => link.far.pipe(link.near).pipe(link.far);
  server.on("upgrade", (req, socket, head) => {
    if (!o.upgrades) {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as never);
      plain.add(socket);
      socket.once("close", () => plain.delete(socket));
      return forward(req, res);
    }
    // Upgrades pass: the request head goes on as it came, then bytes flow both ways.
    const out = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      out.write(`${lines.join("\r\n")}\r\n\r\n`);
      out.write(head);
      flow(link);
    });
    const link: Link = { near: socket, far: out };
    links.add(link);
    const drop = () => {
      links.delete(link);
      stalled.delete(link);
      socket.destroy();
      out.destroy();
    };
    // Either side going away takes the other with it, as a TCP proxy does.
    for (const s of [socket, out]) {
      s.on("error", drop);
      s.on("close", drop);
    }
  });
  const cut = () => {
    for (const link of links) {
      link.near.destroy();
      link.far.destroy();
    }
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    links: () => links.size,
    cut,
    stall: () => {
      for (const link of links) {
        // Unpiped and paused, a socket reads nothing more: the peer's bytes wait in kernel buffers.
        link.far.unpipe(link.near);
        link.near.unpipe(link.far);
        link.far.pause();
        link.near.pause();
        stalled.add(link);
      }
    },
    resume: () => {
      for (const link of stalled) flow(link);
      stalled.clear();
    },
    close: () =>
      new Promise((resolve) => {
        cut();
        for (const socket of plain) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
