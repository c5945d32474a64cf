// Captures at the edge, through the API: contents to the byte, truncation, retention, replay,
// reconnects, relay-answered errors, SSE and WebSocket timelines, HAR, the live feed, auth.

import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAgent as startAgentInProcess } from "../../agent-cli/agent";
import { parseTarget } from "../../agent-cli/target";
import { type AgentProcess, fetchUrl, hostUrl, once, openWebSocket, type RelayProcess, startAgent, startRelay, TOKEN } from "./harness";
import { type Origin, startOrigin } from "./origin";

let relay: RelayProcess;
let origin: Origin;
const spawned: AgentProcess[] = [];
const auth = { Authorization: `Bearer ${TOKEN}` };

type Body = { size: number; truncated: boolean; base64: string; text?: string };
type Capture = {
  id: string;
  replayOf: string | null;
  method: string;
  url: string;
  path: string;
  status: number;
  outcome: string;
  error: string | null;
  kind: string;
  requestSize: number;
  responseSize: number;
  clientIp: string;
  request: { headers: [string, string][]; body: Body };
  response: { headers: [string, string][]; body: Body } | null;
  events: { t: number; type: string; direction: string; text?: string; base64?: string; size: number }[];
};

function api(path: string, init: RequestInit = {}) {
  return fetchUrl(`${relay.url}/_porthole/api${path}`, { ...init, headers: { ...auth, ...(init.headers as object) } } as never);
}

async function list(name: string): Promise<{ captures: Capture[]; total: number; evicted: number }> {
  const res = await api(`/tunnels/${name}/captures?limit=1000`);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

async function latest(name: string, match: (c: Capture) => boolean = () => true): Promise<Capture> {
  let found: Capture | undefined;
  await expect
    .poll(
      async () => {
        found = (await list(name)).captures.find(match);
        return found !== undefined;
      },
      { timeout: 5000 },
    )
    .toBe(true);
  const res = await api(`/tunnels/${name}/captures/${found!.id}`);
  return (await res.json()) as Capture;
}

async function tunnel(name: string, extra: string[] = []) {
  const started = await startAgent(relay, origin.port, name, extra);
  spawned.push(started.agent);
  return started.agent;
}

const bytesOf = (b: Body) => Buffer.from(b.base64, "base64");

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay({ graceSeconds: 1 }), startOrigin()]);
});

afterEach(async () => {
  await Promise.all(spawned.splice(0).map((a) => a.kill("SIGKILL")));
});

afterAll(async () => {
  await relay?.stop();
  await origin?.close();
});

describe("capture contents", () => {
  it("records method, URL, client IP, headers in order and both bodies exactly, byte for byte", async () => {
    await tunnel("cap-exact");
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256));
    const res = await fetchUrl(hostUrl(relay, "cap-exact", "/echo?q=1"), {
      method: "POST",
      body,
      headers: [
        ["X-One", "1"],
        ["X-Two", "2"],
      ],
    });
    const echoed = Buffer.from(await res.arrayBuffer());
    const c = await latest("cap-exact");
    expect(c).toMatchObject({ method: "POST", path: "/echo?q=1", status: 200, outcome: "ok", kind: "http", replayOf: null });
    expect(c.url).toBe(hostUrl(relay, "cap-exact", "/echo?q=1"));
    expect(c.clientIp).toMatch(/\S/);
    expect(c.request.headers.filter(([k]) => k.startsWith("x-"))).toEqual([
      ["x-one", "1"],
      ["x-two", "2"],
    ]);
    expect(bytesOf(c.request.body).equals(body)).toBe(true);
    expect(c.request.body).toMatchObject({ size: body.length, truncated: false });
    expect(bytesOf(c.response!.body).equals(echoed)).toBe(true);
    expect(c.response!.body.text).toBe(echoed.toString());
    expect(c.requestSize).toBe(body.length);
  });

  it("keeps only the capture cap of a large body and flags it truncated, without touching what is forwarded", async () => {
    const agent = startAgentInProcess({
      relay: relay.url,
      token: TOKEN,
      name: "cap-trunc",
      target: parseTarget(String(origin.port)),
      captureBytes: 1000,
    });
    await agent.ready;
    try {
      const body = Buffer.alloc(5000, 65);
      const res = await fetchUrl(hostUrl(relay, "cap-trunc", "/upload"), { method: "POST", body });
      expect(await res.json()).toEqual({ length: 5000, sha256: createHash("sha256").update(body).digest("hex") });
      const c = await latest("cap-trunc");
      expect(c.request.body).toMatchObject({ size: 5000, truncated: true });
      expect(bytesOf(c.request.body).equals(body.subarray(0, 1000))).toBe(true);
    } finally {
      await agent.close();
    }
  });

  it("flags a request body cut short when the local server answered before reading it all", async () => {
    await tunnel("cap-early");
    const res = await fetchUrl(hostUrl(relay, "cap-early", "/status/413"), { method: "POST", body: Buffer.alloc(4 * 1024 * 1024, 66) });
    expect(res.status).toBe(413);
    await res.arrayBuffer();
    const c = await latest("cap-early");
    expect(c.request.body.truncated).toBe(true);
    const replay = await api(`/tunnels/cap-early/captures/${c.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(409);
    expect(replay.headers.get("x-porthole-error")).toBe("capture-truncated");
  });

  it("records SSE events one by one with their times", async () => {
    await tunnel("cap-sse");
    const res = await fetchUrl(hostUrl(relay, "cap-sse", "/stream?n=3&interval=200"));
    await res.text();
    const c = await latest("cap-sse");
    expect(c.events.map((e) => [e.type, e.text])).toEqual([
      ["sse", "id: 0\ndata: event 0"],
      ["sse", "id: 1\ndata: event 1"],
      ["sse", "id: 2\ndata: event 2"],
    ]);
    const times = c.events.map((e) => e.t);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(300);
  });

  it("records WebSocket messages both ways, and the socket's close", async () => {
    await tunnel("cap-ws");
    const ws = openWebSocket(hostUrl(relay, "cap-ws", "/ws").replace("http:", "ws:"), ["chat.v2"]);
    await once(ws, "message");
    ws.send("to the origin");
    await once(ws, "message");
    ws.close(1000);
    await once(ws, "close");
    const c = await latest("cap-ws", (x) => x.kind === "websocket" && x.outcome === "ok" && x.status === 101);
    expect(c.kind).toBe("websocket");
    const texts = c.events.map((e) => `${e.direction}:${e.text ?? ""}`);
    expect(texts).toContain("in:to the origin");
    expect(texts).toContain("out:to the origin");
    expect(texts[0]).toMatch(/^out:\{"hello":true/);
  });
});

describe("retention", () => {
  it("keeps at least the last 1000 exchanges, evicting in batches of 50, and reports how many it evicted", async () => {
    await tunnel("cap-retain");
    const url = hostUrl(relay, "cap-retain", "/status/204");
    const send = async (from: number, to: number) => {
      for (let batch = from; batch < to; batch += 15) {
        await Promise.all(Array.from({ length: Math.min(15, to - batch) }, () => fetchUrl(url).then((r) => r.arrayBuffer())));
      }
    };
    // 1049 stay: eviction waits for a batch of 50 over the bound.
    await send(0, 1049);
    await expect.poll(async () => (await list("cap-retain")).total, { timeout: 10_000 }).toBe(1049);
    expect((await list("cap-retain")).evicted).toBe(0);
    // The 1050th drops the oldest 50 at once.
    await send(1049, 1050);
    await expect.poll(async () => (await list("cap-retain")).evicted, { timeout: 10_000 }).toBe(50);
    const after = await list("cap-retain");
    expect(after.total).toBe(1000);
    expect(after.captures).toHaveLength(1000);
  }, 120_000);
});

describe("replay", () => {
  it("replays as is, reaching the local server again, captured with replayOf", async () => {
    await tunnel("cap-replay");
    await fetchUrl(hostUrl(relay, "cap-replay", "/echo?first"), { method: "POST", body: "original body" });
    const original = await latest("cap-replay");
    const res = await api(`/tunnels/cap-replay/captures/${original.id}/replay`, { method: "POST" });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: string; status: number };
    expect(answer.status).toBe(200);
    const replay = await latest("cap-replay", (c) => c.id === answer.id);
    expect(replay.replayOf).toBe(original.id);
    const echo = JSON.parse(replay.response!.body.text!) as { method: string; url: string; length: number };
    expect(echo).toMatchObject({ method: "POST", url: "/echo?first", length: "original body".length });
  });

  it("replays a path-mode capture through path mode, prefix and all", async () => {
    await tunnel("cap-path");
    await fetchUrl(`${relay.url}/t/cap-path/echo?via=path`);
    const original = await latest("cap-path");
    const answer = (await (await api(`/tunnels/cap-path/captures/${original.id}/replay`, { method: "POST" })).json()) as { id: string };
    const replay = await latest("cap-path", (c) => c.id === answer.id);
    expect(replay.url).toBe(`${relay.url}/t/cap-path/echo?via=path`);
    const echo = JSON.parse(replay.response!.body.text!) as { url: string; rawHeaders: string[] };
    expect(echo.url).toBe("/echo?via=path");
    expect(echo.rawHeaders).toContain("/t/cap-path");
  });

  it("replays with edits to method, path, headers and body", async () => {
    await tunnel("cap-edit");
    await fetchUrl(hostUrl(relay, "cap-edit", "/echo"), { method: "POST", body: "before" });
    const original = await latest("cap-edit");
    const edits = { method: "PUT", path: "/echo?edited=1", headers: [["X-Edited", "yes"]], body: "after edit" };
    const res = await api(`/tunnels/cap-edit/captures/${original.id}/replay`, {
      method: "POST",
      body: JSON.stringify(edits),
      headers: { "Content-Type": "application/json" },
    });
    const answer = (await res.json()) as { id: string };
    const replay = await latest("cap-edit", (c) => c.id === answer.id);
    const echo = JSON.parse(replay.response!.body.text!) as { method: string; url: string; rawHeaders: string[]; length: number };
    expect(echo).toMatchObject({ method: "PUT", url: "/echo?edited=1", length: "after edit".length });
    expect(echo.rawHeaders).toContain("yes");
    expect(replay.replayOf).toBe(original.id);
  });
});

describe("errors and reconnects", () => {
  it("captures survive an agent reconnect", async () => {
    const first = await tunnel("cap-survive");
    await fetchUrl(hostUrl(relay, "cap-survive", "/echo?before-restart"));
    await latest("cap-survive");
    await first.kill("SIGTERM");
    await tunnel("cap-survive");
    const paths = (await list("cap-survive")).captures.map((c) => c.path);
    expect(paths).toContain("/echo?before-restart");
  });

  it("captures the relay's own answers: local-unreachable and tunnel-offline", async () => {
    const agent = await startAgent(relay, 1, "cap-errors");
    spawned.push(agent.agent);
    const res = await fetchUrl(hostUrl(relay, "cap-errors", "/down"));
    expect(res.status).toBe(502);
    const down = await latest("cap-errors", (c) => c.path === "/down");
    expect(down).toMatchObject({ status: 502, outcome: "local-unreachable" });
    expect(down.response!.headers).toContainEqual(["x-porthole-error", "local-unreachable"]);
    expect(down.error).toMatch(/unreachable/);

    await agent.agent.kill("SIGKILL");
    const offline = await fetchUrl(hostUrl(relay, "cap-errors", "/away"));
    expect(offline.status).toBe(503);
    const away = await latest("cap-errors", (c) => c.path === "/away");
    expect(away).toMatchObject({ status: 503, outcome: "tunnel-offline" });
    expect(away.response!.body.text).toMatch(/is offline/);
  });
});

describe("API", () => {
  it("lists tunnels, exports HAR, clears, and streams a live feed of starts and ends", async () => {
    await tunnel("cap-api");
    await fetchUrl(hostUrl(relay, "cap-api", "/echo?har"));
    const c = await latest("cap-api");

    const tunnels = (await (await api("/tunnels")).json()) as { name: string; online: boolean; captures: number }[];
    expect(tunnels.find((t) => t.name === "cap-api")).toMatchObject({ online: true, captures: 1 });

    const har = (await (await api(`/tunnels/cap-api/captures/${c.id}/har`)).json()) as { log: { version: string; entries: unknown[] } };
    expect(har.log.version).toBe("1.2");
    expect(har.log.entries).toHaveLength(1);
    expect(har.log.entries[0]).toMatchObject({ request: { method: "GET", url: c.url }, response: { status: 200 } });
    const all = (await (await api("/tunnels/cap-api/har")).json()) as { log: { entries: unknown[] } };
    expect(all.log.entries).toHaveLength(1);

    const feed = openWebSocket(`${relay.url.replace("http:", "ws:")}/_porthole/api/tunnels/cap-api/feed`, [], { headers: auth });
    const messages: { type: string; capture?: { path: string; state: string } }[] = [];
    feed.on("message", (data) => messages.push(JSON.parse(data.toString())));
    await once(feed, "open");
    await fetchUrl(hostUrl(relay, "cap-api", "/echo?live"));
    await expect
      .poll(() => messages.filter((m) => m.capture?.path === "/echo?live").map((m) => `${m.type}:${m.capture?.state}`), { timeout: 5000 })
      .toEqual(["start:open", "end:done"]);

    const cleared = await api("/tunnels/cap-api/captures", { method: "DELETE" });
    expect(await cleared.json()).toEqual({ deleted: 2 });
    await expect.poll(() => messages.some((m) => m.type === "clear"), { timeout: 5000 }).toBe(true);
    expect((await list("cap-api")).total).toBe(0);
    feed.close();
  });

  it("rejects requests without the token, or with a wrong one", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }]) {
      const res = await fetchUrl(`${relay.url}/_porthole/api/tunnels`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("x-porthole-error")).toBe("unauthorized");
      const one = await fetchUrl(`${relay.url}/_porthole/api/tunnels/cap-api/captures`, { method: "DELETE", headers });
      expect(one.status).toBe(401);
    }
  });

  it("a missing capture is 404 capture-not-found", async () => {
    await tunnel("cap-missing");
    const res = await api("/tunnels/cap-missing/captures/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("x-porthole-error")).toBe("capture-not-found");
  });
});
