// Public WebSockets through the relay to the local ws server: messages, subprotocols, closes.

import http, { type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type WebSocket from "ws";
import { hostUrl, loopbackLookup, once, openWebSocket, type RelayProcess, startTunnel } from "./harness";
import type { Origin } from "./origin";

const NAME = "ws-e2e";
let tunnel: Awaited<ReturnType<typeof startTunnel>>;
let relay: RelayProcess;
let origin: Origin;

beforeAll(async () => {
  tunnel = await startTunnel(NAME);
  ({ relay, origin } = tunnel);
});

afterAll(() => tunnel?.stop());

function wsUrl(path: string): string {
  return hostUrl(relay, NAME, path).replace("http:", "ws:");
}

/** Collects messages as they arrive, so none are missed between awaits. */
function inbox(ws: WebSocket) {
  const queue: { data: Buffer; isBinary: boolean }[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    queue.push({ data, isBinary });
    for (const w of waiters.splice(0)) w();
  });
  return async () => {
    while (queue.length === 0) await new Promise<void>((r) => waiters.push(r));
    return queue.shift() as { data: Buffer; isBinary: boolean };
  };
}

it("negotiates the subprotocol end to end and echoes text and binary", async () => {
  const ws = openWebSocket(wsUrl("/ws"), ["chat.v1", "chat.v2"]);
  const next = inbox(ws);
  await once(ws, "open");
  expect(ws.protocol).toBe("chat.v2");
  const hello = JSON.parse((await next()).data.toString());
  expect(hello).toMatchObject({ hello: true, protocol: "chat.v2", host: `localhost:${origin.port}` });

  ws.send("hello through the tunnel");
  const text = await next();
  expect(text.isBinary).toBe(false);
  expect(text.data.toString()).toBe("hello through the tunnel");

  const binary = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 13) % 256));
  ws.send(binary);
  const echoed = await next();
  expect(echoed.isBinary).toBe(true);
  expect(Buffer.compare(echoed.data, binary)).toBe(0);

  ws.send("");
  expect((await next()).data.length).toBe(0);
  ws.close(1000, "done");
  const [code] = (await once(ws, "close")) as [number, Buffer];
  expect(code).toBe(1000);
});

it("carries a message larger than the flow-control window whole, and refuses one over 16 MiB with 1009", async () => {
  const ws = openWebSocket(wsUrl("/ws"), ["chat.v2"]);
  const next = inbox(ws);
  await once(ws, "open");
  await next();
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  ws.send(big);
  const echoed = await next();
  expect(echoed.data.length).toBe(big.length);
  expect(echoed.data.every((b) => b === 7)).toBe(true);
  ws.send(Buffer.alloc(16 * 1024 * 1024 + 1));
  const [code] = (await once(ws, "close")) as [number, Buffer];
  expect(code).toBe(1009);
});

it("offered subprotocols the local client cannot use are dropped, not fatal", async () => {
  // A hand-made upgrade: ws itself refuses to offer a repeated or malformed subprotocol.
  const req = http.request(hostUrl(relay, NAME, "/ws"), {
    lookup: loopbackLookup as never,
    headers: {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Protocol": "chat.v2, chat.v2, bad/one",
    },
  });
  req.end();
  const [res, socket] = (await once(req, "upgrade")) as [IncomingMessage, Socket];
  expect(res.statusCode).toBe(101);
  expect(res.headers["sec-websocket-protocol"]).toBe("chat.v2");
  socket.destroy();
  const again = openWebSocket(wsUrl("/ws"), ["chat.v2"]);
  await once(again, "open");
  again.close();
});

it("propagates the local server's close code and reason to the public client", async () => {
  const ws = openWebSocket(wsUrl("/ws"), ["chat.v2"]);
  const next = inbox(ws);
  await once(ws, "open");
  await next();
  ws.send("close:4001:bye from origin");
  const [code, reason] = (await once(ws, "close")) as [number, Buffer];
  expect(code).toBe(4001);
  expect(reason.toString()).toBe("bye from origin");
});

it("propagates the public client's close code and reason to the local server", async () => {
  const ws = openWebSocket(wsUrl("/ws"), ["chat.v2"]);
  const next = inbox(ws);
  await once(ws, "open");
  await next();
  const closed = once(origin.events, "ws-closed");
  ws.close(4002, "bye from client");
  const [code, reason] = (await closed) as [number, string];
  expect(code).toBe(4002);
  expect(reason).toBe("bye from client");
});

it("a refused upgrade comes back as the local server's HTTP answer", async () => {
  const ws = openWebSocket(wsUrl("/not-a-socket"));
  const [, res] = (await once(ws, "unexpected-response")) as [unknown, IncomingMessage];
  // The ws server answers 400 for paths it does not serve; the relay passes that answer through.
  expect(res.statusCode).toBe(400);
  expect(res.headers["x-porthole-error"]).toBeUndefined();
  res.resume();
});

it("a message the text 'ping' reaches the local server rather than being answered by the relay", async () => {
  const ws = openWebSocket(wsUrl("/ws"), ["chat.v2"]);
  const next = inbox(ws);
  await once(ws, "open");
  await next();
  ws.send("ping");
  expect((await next()).data.toString()).toBe("ping");
  ws.close();
});
