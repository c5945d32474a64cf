// HTTP exchanges through the tunnel: what the agent sees of a public request, what the public
// client sees of the agent's answer, flow control in both directions, and the relay's own errors.

import { describe, expect, it } from "vitest";
import { WIDEN } from "../../worker/flow";
import { LIMITS } from "../../worker/protocol";
import { FakeAgent } from "./fake-agent";
import { concat, failure, pattern, pause, publicFetch, uniqueName, within } from "./helpers";

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "x-hop"];

describe("an exchange", () => {
  it("carries a POST to the agent and the agent's answer back, bytes and repeated headers intact", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const upload = pattern(10_000);
    const res = publicFetch(name, "/hooks/in?x=1", {
      method: "POST",
      body: upload,
      headers: {
        "Content-Type": "application/octet-stream",
        "CF-Connecting-IP": "203.0.113.7",
        "X-Forwarded-For": "198.51.100.1",
        Connection: "keep-alive, X-Hop",
        "Keep-Alive": "timeout=5",
        TE: "trailers",
        "Transfer-Encoding": "chunked",
        "X-Hop": "dropped",
        "Proxy-Authorization": "Basic secret",
        "X-Custom-In": "kept",
      },
    });

    const head = await agent.next("request-head");
    expect(head).toMatchObject({ method: "POST", path: "/hooks/in?x=1", body: true });
    const names = head.headers.map(([k]) => k.toLowerCase());
    for (const hop of HOP_BY_HOP) expect(names, hop).not.toContain(hop);
    expect(head.headers).toContainEqual(["x-custom-in", "kept"]);
    expect(head.headers).toContainEqual(["X-Forwarded-For", "198.51.100.1, 203.0.113.7"]);
    expect(head.headers).toContainEqual(["X-Forwarded-Proto", "http"]);
    expect(head.headers).toContainEqual(["X-Forwarded-Host", `${name}.localhost`]);
    expect(await agent.body(head.stream)).toEqual(upload);

    const download = pattern(150_000).reverse();
    agent.respond(head.stream, {
      status: 201,
      headers: [
        ["Set-Cookie", "a=1; Path=/"],
        ["Set-Cookie", "b=2; Path=/; HttpOnly"],
        ["X-Custom-Out", "yes"],
      ],
      body: download,
    });
    const answer = await within(res, 3_000, "the public response");
    expect(answer.status).toBe(201);
    expect(answer.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    expect(answer.headers.get("X-Custom-Out")).toBe("yes");
    expect(new Uint8Array(await answer.arrayBuffer())).toEqual(download);
  });

  it("sends a GET without a body as request-head with body false and no data frames", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/");
    const head = await agent.next("request-head");
    expect(head.body).toBe(false);
    agent.respond(head.stream, { status: 204 });
    expect((await within(res, 3_000, "the response")).status).toBe(204);
    expect(agent.pending().filter((f) => "stream" in f && f.stream === head.stream)).toEqual([]);
  });

  it("passes a response of many windows through, granting credit as the public client reads", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/big");
    const head = await agent.next("request-head");
    const body = pattern(4 * LIMITS.initialWindow + 12_345);
    agent.send({ type: "response-head", stream: head.stream, status: 200, statusText: "", headers: [], body: true });
    const reading = within(res, 3_000, "the response").then(async (r) => new Uint8Array(await r.arrayBuffer()));
    // A well-behaved agent: never more in flight than the credit the relay granted.
    let credit: number = LIMITS.initialWindow;
    for (let at = 0; at < body.byteLength; ) {
      while (credit === 0) credit += (await agent.next("credit", (f) => f.stream === head.stream)).bytes;
      const n = Math.min(credit, LIMITS.maxChunkBytes, body.byteLength - at);
      agent.send({ type: "data", stream: head.stream, chunk: body.subarray(at, at + n) });
      at += n;
      credit -= n;
    }
    agent.send({ type: "end", stream: head.stream });
    expect(await reading).toEqual(body);
  });
});

describe("window widening", () => {
  it("widens a download whose client reads fast to WIDEN.toBytes in flight, and keeps a slow one at the initial window", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    /** Sends `bytes` under credit; returns the largest credit the agent held at once. */
    const serve = async (stream: number, bytes: number) => {
      agent.send({ type: "response-head", stream, status: 200, statusText: "", headers: [], body: true });
      let credit: number = LIMITS.initialWindow;
      let most = credit;
      for (let at = 0; at < bytes; ) {
        while (credit === 0) credit += (await agent.next("credit", (f) => f.stream === stream)).bytes;
        most = Math.max(most, credit);
        const n = Math.min(credit, LIMITS.maxChunkBytes, bytes - at);
        agent.send({ type: "data", stream, chunk: new Uint8Array(n) });
        at += n;
        credit -= n;
      }
      agent.send({ type: "end", stream });
      return most;
    };

    const fast = publicFetch(name, "/fast");
    const fastHead = await agent.next("request-head");
    const reading = within(fast, 3_000, "the fast response").then((r) => r.arrayBuffer());
    const fastMost = await serve(fastHead.stream, 2 * WIDEN.toBytes);
    expect((await reading).byteLength).toBe(2 * WIDEN.toBytes);
    expect(fastMost).toBeGreaterThan(LIMITS.initialWindow);
    expect(fastMost).toBeLessThanOrEqual(WIDEN.toBytes);

    // A client that reads 64 KiB every 60 ms hands on its first window in about 240 ms: not widened.
    const slow = publicFetch(name, "/slow");
    const slowHead = await agent.next("request-head");
    const slowReading = within(slow, 3_000, "the slow response").then(async (r) => {
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return got;
        const before = Math.floor(got / LIMITS.maxChunkBytes);
        got += value.byteLength;
        if (Math.floor(got / LIMITS.maxChunkBytes) > before) await pause(60);
      }
    });
    expect(await serve(slowHead.stream, 2 * LIMITS.initialWindow)).toBe(LIMITS.initialWindow);
    expect(await slowReading).toBe(2 * LIMITS.initialWindow);
  });
});

describe("streaming and multiplexing", () => {
  it("multiplexes concurrent requests on one agent socket, answered out of order", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const first = publicFetch(name, "/first");
    const a = await agent.next("request-head");
    const second = publicFetch(name, "/second");
    const b = await agent.next("request-head");
    expect(a.stream).not.toBe(b.stream);
    agent.respond(b.stream, { body: `answer to ${b.path}` });
    expect(await (await within(second, 3_000, "the second response")).text()).toBe("answer to /second");
    agent.respond(a.stream, { body: `answer to ${a.path}` });
    expect(await (await within(first, 3_000, "the first response")).text()).toBe("answer to /first");
  });

  it("streams an event stream: each event reaches the public client before the next is sent", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/events", { headers: { Accept: "text/event-stream" } });
    const head = await agent.next("request-head");
    agent.send({
      type: "response-head",
      stream: head.stream,
      status: 200,
      statusText: "",
      headers: [["Content-Type", "text/event-stream"]],
      body: true,
    });
    const reader = (await within(res, 3_000, "the response head")).body!.getReader();
    const utf8 = new TextEncoder();
    for (const event of ["data: one\n\n", "data: two\n\n", "data: three\n\n"]) {
      agent.send({ type: "data", stream: head.stream, chunk: utf8.encode(event) });
      const { value } = await within(reader.read(), 2_000, `the event ${JSON.stringify(event)}`);
      expect(new TextDecoder().decode(value)).toBe(event);
    }
    agent.send({ type: "end", stream: head.stream });
    expect((await within(reader.read(), 2_000, "the end of the stream")).done).toBe(true);
  });

  it("passes an encoded body through untouched, with its Content-Encoding", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/gz");
    const head = await agent.next("request-head");
    const original = "hello ".repeat(1000);
    const gzip = new Uint8Array(await new Response(new Blob([original]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    agent.respond(head.stream, {
      headers: [
        ["Content-Type", "text/plain"],
        ["Content-Encoding", "gzip"],
      ],
      body: gzip,
    });
    const answer = await within(res, 3_000, "the response");
    expect(answer.headers.get("Content-Encoding")).toBe("gzip");
    expect(await answer.text()).toBe(original); // Decoded once by the client: encoded exactly once.
  });

  it("keeps the agent's Content-Length", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/sized");
    const head = await agent.next("request-head");
    const body = pattern(70_000);
    agent.respond(head.stream, { headers: [["Content-Length", String(body.byteLength)]], body });
    const answer = await within(res, 3_000, "the response");
    expect(answer.headers.get("Content-Length")).toBe(String(body.byteLength));
    expect(new Uint8Array(await answer.arrayBuffer())).toEqual(body);
  });

  it("answers a response that arrives whole in one message with every chunk, in order", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/whole");
    const { stream } = await agent.next("request-head");
    const [a, b] = [pattern(700), pattern(300).reverse()];
    agent.sendTogether([
      { type: "response-head", stream, status: 200, statusText: "", headers: [["Content-Type", "text/plain"]], body: true },
      { type: "data", stream, chunk: a },
      { type: "data", stream, chunk: b },
      { type: "end", stream },
    ]);
    const answer = await within(res, 3_000, "the response");
    expect(answer.headers.get("Content-Type")).toBe("text/plain");
    expect(new Uint8Array(await answer.arrayBuffer())).toEqual(concat([a, b]));
  });

  it("fails a response that arrives whole but shorter than its Content-Length, as a streamed one fails", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/short");
    const { stream } = await agent.next("request-head");
    agent.sendTogether([
      { type: "response-head", stream, status: 200, statusText: "", headers: [["Content-Length", "10"]], body: true },
      { type: "data", stream, chunk: pattern(5) },
      { type: "end", stream },
    ]);
    const answer = await within(res, 3_000, "the response head");
    await failure(answer.arrayBuffer(), 3_000, "the short body to fail");
  });

  it("answers with the head and fails the body when a reset follows them in the same message", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/broken");
    const { stream } = await agent.next("request-head");
    agent.sendTogether([
      { type: "response-head", stream, status: 200, statusText: "", headers: [], body: true },
      { type: "data", stream, chunk: pattern(10) },
      { type: "reset", stream, code: "local-error", message: "the local server closed the response early" },
    ]);
    const answer = await within(res, 3_000, "the response head");
    expect(answer.status).toBe(200);
    await failure(answer.arrayBuffer(), 3_000, "the body to fail");
  });

  it("streams a response whose head and first bytes come together but whose end comes later", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/later");
    const { stream } = await agent.next("request-head");
    agent.sendTogether([
      { type: "response-head", stream, status: 200, statusText: "", headers: [], body: true },
      { type: "data", stream, chunk: pattern(10) },
    ]);
    const reader = (await within(res, 3_000, "the response head")).body!.getReader();
    const first = await within(reader.read(), 3_000, "the first bytes, before the end is sent");
    expect(first.value).toEqual(pattern(10));
    agent.send({ type: "data", stream, chunk: pattern(20) });
    agent.send({ type: "end", stream });
    const rest: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(concat(rest)).toEqual(pattern(20));
  });

  it("resets the stream with client-aborted when the public client goes away mid-response", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/long");
    const head = await agent.next("request-head");
    agent.send({ type: "response-head", stream: head.stream, status: 200, statusText: "", headers: [], body: true });
    agent.send({ type: "data", stream: head.stream, chunk: new Uint8Array([1]) });
    const reader = (await within(res, 3_000, "the response head")).body!.getReader();
    await reader.read();
    await reader.cancel();
    // The cancel travels through the runtime's pipes; the relay learns of it from a failed write.
    const isReset = () => agent.pending().some((f) => f.type === "reset" && f.stream === head.stream);
    for (let i = 0; i < 40 && !isReset(); i++) {
      agent.send({ type: "data", stream: head.stream, chunk: new Uint8Array([2]) });
      await pause(50);
    }
    expect(await agent.next("reset", (f) => f.stream === head.stream)).toMatchObject({ code: "client-aborted" });
  });
});

describe("flow control", () => {
  it("resets a stream whose agent sends beyond its credit, and fails the public body", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/flood");
    const head = await agent.next("request-head");
    agent.send({ type: "response-head", stream: head.stream, status: 200, statusText: "", headers: [], body: true });
    const answer = await within(res, 3_000, "the response head");
    // The public client reads nothing; the agent ignores credit and floods twice the window.
    const chunk = new Uint8Array(LIMITS.maxChunkBytes);
    const sent = 2 * LIMITS.initialWindow + chunk.byteLength;
    for (let n = 0; n < sent; n += chunk.byteLength) agent.send({ type: "data", stream: head.stream, chunk });
    const reset = await agent.next("reset", (f) => f.stream === head.stream);
    expect(reset.code).toBe("flow-control");
    // The relay only granted what the runtime had taken: the flood really exceeded it.
    const granted = agent
      .pending()
      .filter((f) => f.type === "credit" && f.stream === head.stream)
      .reduce((n, f) => n + (f.type === "credit" ? f.bytes : 0), 0);
    expect(LIMITS.initialWindow + granted).toBeLessThan(sent);
    await failure(answer.arrayBuffer(), 3_000, "the public body to fail");
  });

  // workerd hands a default reader a request body 4 KiB at a time: a frame (and a message) per 4 KiB ran uploads at a third of the speed.
  it("forwards an upload in data frames as large as the protocol allows, with or without a Content-Length", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    // Within the window, so the fake agent needs to grant no credit.
    const upload = pattern(LIMITS.initialWindow - 50_000);
    const inPieces = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < upload.byteLength; at += 4096) controller.enqueue(upload.slice(at, at + 4096));
          controller.close();
        },
      });
    for (const body of [upload, inPieces()]) {
      const res = publicFetch(name, "/upload", { method: "POST", body, duplex: "half" } as RequestInit);
      const head = await agent.next("request-head");
      const sizes: number[] = [];
      const parts: Uint8Array[] = [];
      for (;;) {
        const f = await agent.next(["data", "end"], (x) => x.stream === head.stream);
        if (f.type === "end") break;
        sizes.push(f.chunk.byteLength);
        parts.push(f.chunk);
      }
      expect(concat(parts)).toEqual(upload);
      expect(Math.max(...sizes)).toBe(LIMITS.maxChunkBytes);
      expect(sizes.length).toBeLessThanOrEqual(8);
      agent.respond(head.stream, { status: 200, body: "stored" });
      expect(await (await within(res, 3_000, "the response")).text()).toBe("stored");
    }
  });

  it("delivers at most the initial window of an upload until the agent grants credit", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const upload = pattern(3 * LIMITS.initialWindow);
    const res = publicFetch(name, "/upload", { method: "PUT", body: upload });
    const head = await agent.next("request-head");

    const received: Uint8Array[] = [];
    let total = 0;
    const readUpTo = async (limit: number) => {
      while (total < limit) {
        const f = await agent.next("data", (x) => x.stream === head.stream);
        expect(f.chunk.byteLength).toBeLessThanOrEqual(LIMITS.maxChunkBytes);
        received.push(f.chunk);
        total += f.chunk.byteLength;
      }
    };
    await readUpTo(LIMITS.initialWindow);
    await pause(200);
    expect(total).toBe(LIMITS.initialWindow);
    expect(agent.pending().filter((f) => f.type === "data" || f.type === "end")).toEqual([]);

    const grant = 100_000;
    agent.send({ type: "credit", stream: head.stream, bytes: grant });
    await readUpTo(LIMITS.initialWindow + grant);
    await pause(200);
    expect(total).toBe(LIMITS.initialWindow + grant);
    expect(agent.pending().filter((f) => f.type === "data")).toEqual([]);

    agent.send({ type: "credit", stream: head.stream, bytes: upload.byteLength });
    await readUpTo(upload.byteLength);
    await agent.next("end", (f) => f.stream === head.stream);
    expect(concat(received)).toEqual(upload);
    agent.respond(head.stream, { status: 200, body: "stored" });
    expect(await (await within(res, 3_000, "the response")).text()).toBe("stored");
  });
});

describe("errors the relay answers itself", () => {
  it("answers 502 local-unreachable, naming the tunnel, when the agent resets before the head", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/down");
    const head = await agent.next("request-head");
    agent.send({ type: "reset", stream: head.stream, code: "local-unreachable", message: "connect ECONNREFUSED 127.0.0.1:3000" });
    const answer = await within(res, 3_000, "the response");
    expect(answer.status).toBe(502);
    expect(answer.headers.get("X-Porthole-Error")).toBe("local-unreachable");
    const text = await answer.text();
    expect(text).toContain(`"${name}"`);
    expect(text).toContain("ECONNREFUSED");
  });

  it("answers 504 local-timeout when no response head arrives in time, and resets the stream", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const started = Date.now();
    const res = publicFetch(name, "/slow");
    const head = await agent.next("request-head");
    const answer = await within(res, 4_000, "local-timeout");
    expect(answer.status).toBe(504);
    expect(answer.headers.get("X-Porthole-Error")).toBe("local-timeout");
    expect(await answer.text()).toContain(name);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(await agent.next("reset", (f) => f.stream === head.stream)).toMatchObject({ code: "local-timeout" });
  }, 10_000);

  it("answers 503 tunnel-offline when the agent disconnects before the head", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/pending");
    await agent.next("request-head");
    agent.close(1001, "laptop lid closed");
    const answer = await within(res, 3_000, "the response");
    expect(answer.status).toBe(503);
    expect(answer.headers.get("X-Porthole-Error")).toBe("tunnel-offline");
    expect(answer.headers.get("Retry-After")).toBeTruthy();
  });

  it("fails the public body when the agent disconnects mid-stream", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/stream");
    const head = await agent.next("request-head");
    agent.send({ type: "response-head", stream: head.stream, status: 200, statusText: "", headers: [], body: true });
    agent.send({ type: "data", stream: head.stream, chunk: new TextEncoder().encode("first part") });
    const answer = await within(res, 3_000, "the response head");
    const reader = answer.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first part");
    agent.close(1001, "gone");
    await failure(reader.read(), 3_000, "the public body to fail");
  });
});

describe("an agent that breaks the exchange rules", () => {
  // Both cases leave the public request unanswered if the relay drops the exchange without
  // settling it: the head timer is cleared, so nothing ever answers.
  it("answers the public client when the agent sends data before the response head", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/early-data");
    const head = await agent.next("request-head");
    agent.send({ type: "data", stream: head.stream, chunk: new Uint8Array([1, 2, 3]) });
    expect(await agent.next("reset", (f) => f.stream === head.stream)).toMatchObject({ code: "flow-control" });
    const answer = await within(res, 4_000, "an answer to the public client");
    expect(answer.status).toBe(502);
    expect(answer.headers.get("X-Porthole-Error")).toBe("local-unreachable");
  }, 10_000);

  it("answers the public client when the agent sends end before the response head", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/early-end");
    const head = await agent.next("request-head");
    agent.send({ type: "end", stream: head.stream });
    const answer = await within(res, 4_000, "an answer to the public client");
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.headers.get("X-Porthole-Error")).toBeTruthy();
  }, 10_000);
});
