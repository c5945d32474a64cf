// SSE keepalive: a quiet event stream gets ": keepalive" comments from the relay, only between
// events, so intermediaries do not cut it and no event is ever corrupted.

import { describe, expect, it } from "vitest";
import type { HeaderList } from "../../worker/protocol";
import { FakeAgent } from "./fake-agent";
import { api, pause, publicFetch, uniqueName, within } from "./helpers";

const SSE: HeaderList = [["Content-Type", "text/event-stream"]];
const KEEPALIVE = ": keepalive\n\n";
const IDLE_MS = 200;

/** Opens a streaming response from an agent that asked for `sseKeepaliveMs`; returns the stream id and a reader. */
async function openStream(sseKeepaliveMs: number, headers: HeaderList = SSE) {
  const name = uniqueName();
  const agent = await FakeAgent.connect(name, { sseKeepaliveMs });
  const res = publicFetch(name, "/events");
  const head = await agent.next("request-head");
  agent.send({ type: "response-head", stream: head.stream, status: 200, statusText: "", headers, body: true });
  const response = await within(res, 3_000, "the response head");
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  // One read at a time: a read that outlived a deadline is picked up by the next wait.
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  const read = () => {
    pending ??= reader.read();
    return pending;
  };
  const took = (chunk: ReadableStreamReadResult<Uint8Array>) => {
    pending = undefined;
    if (!chunk.done) text += decoder.decode(chunk.value, { stream: true });
    return !chunk.done;
  };
  /** Reads until the text so far satisfies `done`. */
  const readUntil = async (done: (text: string) => boolean, what: string) => {
    while (!done(text) && took(await within(read(), 3_000, what)));
    return text;
  };
  /** Everything that arrives within `ms`. */
  const readFor = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return text;
      const chunk = await Promise.race([read(), pause(left).then(() => null)]);
      if (!chunk || !took(chunk)) return text;
    }
  };
  const data = (s: string) => agent.send({ type: "data", stream: head.stream, chunk: new TextEncoder().encode(s) });
  return { agent, stream: head.stream, data, readUntil, readFor, reader };
}

describe("SSE keepalive", () => {
  it("writes a comment into an idle event stream, after the last event and again while it stays idle", async () => {
    const s = await openStream(IDLE_MS);
    s.data("data: one\n\n");
    const text = await s.readUntil((t) => t.split(KEEPALIVE).length >= 3, "two keepalives");
    expect(text.startsWith("data: one\n\n: keepalive\n\n: keepalive\n\n")).toBe(true);
  });

  it("never splits an event that arrives in pieces with pauses longer than the idle time", async () => {
    const s = await openStream(IDLE_MS);
    s.data("event: message\ndata: hel");
    await pause(IDLE_MS * 3);
    s.data("lo\r\n");
    await pause(IDLE_MS * 2);
    s.data("data: world\n\n");
    const text = await s.readUntil((t) => t.includes(KEEPALIVE), "a keepalive after the event");
    expect(text).toBe(`event: message\ndata: hello\r\ndata: world\n\n${KEEPALIVE}`);
  });

  it("treats CRLF and CR blank lines as event boundaries", async () => {
    for (const ending of ["\r\n\r\n", "\r\r"]) {
      const s = await openStream(IDLE_MS);
      s.data(`data: x${ending}`);
      expect(await s.readUntil((t) => t.includes(KEEPALIVE), `a keepalive after ${JSON.stringify(ending)}`)).toBe(
        `data: x${ending}${KEEPALIVE}`,
      );
    }
  });

  it("holds the comment while a comment line of the server's own is unfinished", async () => {
    const s = await openStream(IDLE_MS);
    s.data(": the server's own comm");
    expect(await s.readFor(IDLE_MS * 3)).toBe(": the server's own comm");
    s.data("ent\n\n");
    expect(await s.readUntil((t) => t.includes(KEEPALIVE), "a keepalive")).toBe(`: the server's own comment\n\n${KEEPALIVE}`);
  });

  it("writes nothing when the agent turned keepalives off, nor into other content types or fixed-length bodies", async () => {
    const off = await openStream(0);
    off.data("data: one\n\n");
    expect(await off.readFor(IDLE_MS * 4)).toBe("data: one\n\n");

    const plain = await openStream(IDLE_MS, [["Content-Type", "text/plain"]]);
    plain.data("line\n\n");
    expect(await plain.readFor(IDLE_MS * 4)).toBe("line\n\n");

    const fixed = await openStream(IDLE_MS, [...SSE, ["Content-Length", "11"]]);
    fixed.data("data: one\n\n");
    expect(await fixed.readFor(IDLE_MS * 4)).toBe("data: one\n\n");

    const encoded = await openStream(IDLE_MS, [...SSE, ["Content-Encoding", "x-opaque"]]);
    encoded.data("opaque");
    expect(await encoded.readFor(IDLE_MS * 4)).toBe("opaque");
  });

  it("drops a byte order mark that would land behind a keepalive written before the server's first byte", async () => {
    const s = await openStream(IDLE_MS);
    expect(await s.readUntil((t) => t.includes(KEEPALIVE), "a keepalive before any event")).toBe(KEEPALIVE);
    s.data("\uFEFFdata: first\n\n");
    expect(await s.readUntil((t) => t.includes("first"), "the first event")).toBe(`${KEEPALIVE}data: first\n\n`);
  });

  it("is not stored in the capture: the capture holds what the local server sent", async () => {
    const s = await openStream(IDLE_MS);
    s.data("data: one\n\n");
    await s.readUntil((t) => t.includes(KEEPALIVE), "a keepalive");
    s.agent.send({ type: "end", stream: s.stream });
    await s.readUntil(() => false, "the end");
    const name = s.agent.ready!.name;
    type List = { captures: { id: string; state: string }[] };
    await expect.poll(async () => (await api<List>(name, "/captures")).captures[0]?.state).toBe("done");
    const [first] = (await api<List>(name, "/captures")).captures;
    const capture = await api<{ response: { body: { text: string } } }>(name, `/captures/${first!.id}`);
    expect(capture.response.body.text).toBe("data: one\n\n");
  });
});
