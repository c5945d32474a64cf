// Hostile public input against the real relay (workerd), a real agent and a real local server: raw
// requests that fetch would normalise. Every case checks what the client gets, that nothing reaches a
// server other than the agent's target, and that the relay goes on serving.

import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HEADER_LIMITS } from "../../worker/headers";
import { fetchUrl, hostUrl, type RelayProcess, startAgent, startRelay, TOKEN } from "./harness";
import { type RecordingOrigin, startRecordingOrigin } from "./recording-origin";

const NAME = "hostile";

/** A response as read off the socket: the status, lower-cased headers and the rest as text. */
type RawResponse = { status: number; headers: Record<string, string>; body: string };

let relay: RelayProcess;
let port: number;
let origin: RecordingOrigin;
/** A second local server the agent does not expose: nothing may ever reach it. */
let elsewhere: RecordingOrigin;
let stopAgent: () => Promise<void>;

beforeAll(async () => {
  [relay, origin, elsewhere] = await Promise.all([startRelay(), startRecordingOrigin(), startRecordingOrigin()]);
  port = Number(new URL(relay.url).port);
  const { agent } = await startAgent(relay, origin.port, NAME);
  stopAgent = () => agent.kill();
}, 60_000);

afterAll(async () => {
  await stopAgent?.();
  await relay?.stop();
  await Promise.all([origin?.close(), elsewhere?.close()]);
});

afterEach(async () => {
  expect(elsewhere.seen).toEqual([]);
  const res = await fetchUrl(hostUrl(relay, NAME, "/still-serving"));
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("ok");
});

/** Opens a socket to the relay; `write` sends raw bytes, `response` resolves when the relay closes it. */
function connect(): { socket: net.Socket; response: Promise<RawResponse> } {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  const response = new Promise<RawResponse>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("close", () => resolve(parse(Buffer.concat(chunks).toString("latin1"))));
  });
  return { socket, response };
}

function parse(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: text.slice(split + 4) };
}

/** The tunnel's captures, through the API. */
async function capturesOfTunnel(): Promise<{ path: string; status: number; outcome: string }[]> {
  const list = await fetchUrl(`${relay.url}/_porthole/api/tunnels/${NAME}/captures`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return ((await list.json()) as { captures: { path: string; status: number; outcome: string }[] }).captures;
}

/** Sends one whole request on its own connection (Connection: close) and reads the answer. */
function send(request: string): Promise<RawResponse> {
  const { socket, response } = connect();
  socket.write(request);
  return response;
}

/** A request line and headers for the tunnel host (or `host`), closing the connection after the answer. */
function request(line: string, headers: string[] = [], host = `${NAME}.localhost:${port}`): string {
  return `${line}\r\nHost: ${host}\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
}

describe("oversized headers: refused at the relay's entry, as Cloudflare's edge would", () => {
  /** The relay's own refusal: 431 with its code and the limit in the sentence, not the local server's. */
  function expectRefused(res: RawResponse, limit: RegExp): void {
    expect(res.status).toBe(431);
    expect(res.headers["x-porthole-error"]).toBe("headers-too-large");
    expect(res.body).toMatch(limit);
  }

  it("forwards a 15 KiB header to the local server intact", async () => {
    const value = "c".repeat(15 * 1024);
    const res = await send(request("GET /large-header HTTP/1.1", [`X-Large: ${value}`]));
    expect(res.status).toBe(200);
    expect(origin.at("/large-header").map((s) => s.headers["x-large"])).toEqual([value]);
  });

  it("forwards a request just under the header-line limit", async () => {
    const lines = Array.from({ length: HEADER_LIMITS.count - 10 }, (_, i) => `X-H${i}: v`);
    const res = await send(request("GET /under-limit HTTP/1.1", lines));
    expect(res.status).toBe(200);
    expect(Object.keys(origin.at("/under-limit")[0]?.headers ?? {}).filter((k) => k.startsWith("x-h"))).toHaveLength(lines.length);
    expect((await capturesOfTunnel()).find((c) => c.path === "/under-limit")).toMatchObject({ status: 200 });
  });

  it(`answers a header block over ${HEADER_LIMITS.bytes / 1024} KiB with 431, naming the limit`, async () => {
    const res = await send(request("GET /big-header HTTP/1.1", [`X-Big: ${"a".repeat(HEADER_LIMITS.bytes + 1024)}`]));
    expectRefused(res, new RegExp(`${HEADER_LIMITS.bytes / 1024} KiB`));
    expect(origin.at("/big-header")).toEqual([]);
  });

  it("answers 10,000 headers with 431, naming the limit", async () => {
    const res = await send(
      request(
        "GET /many-headers HTTP/1.1",
        Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v`),
      ),
    );
    expectRefused(res, new RegExp(`limit of ${HEADER_LIMITS.count}\\b`));
    expect(origin.at("/many-headers")).toEqual([]);
    // Refused at the entry, as the edge would: the tunnel never sees it, so there is no capture.
    expect((await capturesOfTunnel()).map((c) => c.path)).not.toContain("/many-headers");
  });
});

describe("methods", () => {
  it("answers a method that is not an HTTP token with 400", async () => {
    const res = await send(request("GE(T /bad-method HTTP/1.1"));
    expect(res.status).toBe(400);
    expect(origin.at("/bad-method")).toEqual([]);
  });

  it("answers an unknown method with 501", async () => {
    const res = await send(request("BREW /coffee HTTP/1.1"));
    expect(res.status).toBe(501);
    expect(origin.at("/coffee")).toEqual([]);
  });

  it.each(["OPTIONS * HTTP/1.1", "CONNECT 127.0.0.1:1 HTTP/1.1"])("refuses %s without reaching the agent", async (line) => {
    // workerd answers these itself (500, no X-Porthole-Error): they have no URL a Worker could be given.
    const res = await send(request(line));
    expect(res.status).toBe(500);
    expect(res.headers["x-porthole-error"]).toBeUndefined();
    expect(origin.seen.filter((s) => s.method === "CONNECT" || s.url === "*")).toEqual([]);
  });
});

describe("request targets never make the agent leave its target", () => {
  it("forwards an absolute-form target naming another server as a path on the target", async () => {
    const res = await send(request(`GET http://127.0.0.1:${elsewhere.port}/absolute-form?x=1 HTTP/1.1`));
    expect(res.status).toBe(200);
    expect(origin.at("/absolute-form").map((s) => s.url)).toEqual(["/absolute-form?x=1"]);
  });

  it("forwards a //host target as a path on the target", async () => {
    const res = await send(request(`GET //127.0.0.1:${elsewhere.port}/scheme-relative HTTP/1.1`));
    expect(res.status).toBe(200);
    expect(origin.at(`//127.0.0.1:${elsewhere.port}/scheme-relative`)).toHaveLength(1);
  });

  it("resolves .. (and %2e%2e) inside the target's own paths", async () => {
    const res = await send(request("GET /a/../../%2e%2e/dot-dot HTTP/1.1"));
    expect(res.status).toBe(200);
    expect(origin.at("/dot-dot")).toHaveLength(1);
  });

  it("resolves .. out of a path-mode tunnel onto the relay, where the control plane still wants the token", async () => {
    const res = await send(request(`GET /t/${NAME}/../../_porthole/api/tunnels HTTP/1.1`, [], `localhost:${port}`));
    expect(res.status).toBe(401);
    expect(res.headers["x-porthole-error"]).toBe("unauthorized");
    expect(res.body).toMatch(/^Cannot list tunnels: /);
  });
});

describe("names and control-plane paths", () => {
  it.each([
    ["an invalid host label", "GET / HTTP/1.1", "Bad_Name.localhost"],
    ["a 64-character host label", "GET / HTTP/1.1", `${"x".repeat(64)}.localhost`],
    ["an invalid path-mode name", "GET /t/Bad_Name/ HTTP/1.1", "localhost"],
    ["a path-mode name that never connected", "GET /t/nobody-here/ HTTP/1.1", "localhost"],
  ])("answers %s with 404 tunnel-not-found", async (_, line, host) => {
    const res = await send(request(line, [], `${host}:${port}`));
    expect(res.status).toBe(404);
    expect(res.headers["x-porthole-error"]).toBe("tunnel-not-found");
    expect(res.body).toMatch(/tunnel/i);
  });

  it("forwards /_porthole/api/tunnels on a tunnel host to the local server, token and all, never to the relay's API", async () => {
    const res = await send(request("GET /_porthole/api/tunnels HTTP/1.1", [`Authorization: Bearer ${TOKEN}`]));
    expect(res.status).toBe(200);
    expect(res.body).not.toContain(NAME);
    expect(origin.at("/_porthole/api/tunnels")).toHaveLength(1);
  });
});

describe("bodies", () => {
  it("refuses a body declared over the relay's 95 MiB limit with 413, before it is sent, and captures the refusal", async () => {
    const size = 100 * 1024 * 1024;
    const res = await send(request("POST /too-big HTTP/1.1", [`Content-Length: ${size}`]));
    expect(res.status).toBe(413);
    expect(res.headers["x-porthole-error"]).toBe("body-too-large");
    expect(res.body).toBe(
      `Tunnel "${NAME}" refused "POST /too-big": the request body (${size} bytes) exceeds the 95 MiB limit of this relay.\n`,
    );
    expect(origin.at("/too-big")).toEqual([]);
    expect((await capturesOfTunnel()).find((c) => c.path === "/too-big")).toMatchObject({ status: 413, outcome: "denied" });
  });
});

describe("slow clients", () => {
  it("keeps serving others while 20 clients trickle their headers, and answers them once they finish", async () => {
    const slow = Array.from({ length: 20 }, () => connect());
    for (const { socket } of slow) socket.write(`GET /slow-head HTTP/1.1\r\nHost: ${NAME}.localhost:${port}\r\n`);
    const res = await fetchUrl(hostUrl(relay, NAME, "/meanwhile"));
    expect(await res.text()).toBe("ok");
    for (const { socket } of slow) socket.write("Connection: close\r\n\r\n");
    const answers = await Promise.all(slow.map((s) => s.response));
    expect(answers.map((a) => a.status)).toEqual(slow.map(() => 200));
    expect(origin.at("/slow-head")).toHaveLength(20);
  });

  it("keeps serving others while a client trickles its body, and forwards the whole body once it is in", async () => {
    const { socket, response } = connect();
    socket.write(`${request("POST /slow-body HTTP/1.1", ["Content-Length: 10"])}hello`);
    const res = await fetchUrl(hostUrl(relay, NAME, "/meanwhile"));
    expect(await res.text()).toBe("ok");
    expect(origin.at("/slow-body")).toEqual([]);
    socket.write("world");
    expect((await response).status).toBe(200);
    expect(origin.at("/slow-body").map((s) => s.body.toString())).toEqual(["helloworld"]);
  });
});
