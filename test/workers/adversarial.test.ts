// An authenticated agent that breaks the wire contract: garbage, oversized frames, unknown
// streams. The relay answers with an error frame and a meaningful close, and keeps serving
// every other tunnel, and this one once a well-behaved agent connects again.

import { describe, expect, it } from "vitest";
import { CloseCode, FrameType, frame, HEADER_BYTES, LIMITS } from "../../worker/protocol";
import { FakeAgent, roundTrip } from "./fake-agent";
import { publicFetch, uniqueName, within } from "./helpers";

/** A raw frame built from its parts, so contract-breaking payloads can be sent. */
function rawFrame(type: number, stream: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  return frame(type, stream, typeof payload === "string" ? new TextEncoder().encode(payload) : payload);
}

const head = (o: object) => JSON.stringify({ status: 200, statusText: "", headers: [], body: false, ...o });

const GARBAGE: [string, Uint8Array | string][] = [
  ["3 bytes", new Uint8Array([1, 2, 3])],
  ["an unknown frame type (99)", rawFrame(99, 1, "{}")],
  ["a frame type only the relay sends (request-head)", rawFrame(FrameType.requestHead, 1, head({ method: "GET", path: "/" }))],
  ["a response-head with invalid JSON", rawFrame(FrameType.responseHead, 1, "{not json")],
  ["a response-head with invalid UTF-8", rawFrame(FrameType.responseHead, 1, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))],
  ["a response-head with status 99", rawFrame(FrameType.responseHead, 1, head({ status: 99 }))],
  ["a response-head whose headers are not pairs", rawFrame(FrameType.responseHead, 1, head({ headers: [["a"]] }))],
  ["a data frame on the connection stream 0", rawFrame(FrameType.data, 0, "x")],
  ["a credit frame of 3 bytes", rawFrame(FrameType.credit, 1, new Uint8Array([0, 0, 1]))],
  ["a credit frame granting 0 bytes", rawFrame(FrameType.credit, 1, new Uint8Array(4))],
  ["a ws-message frame without its flags byte", rawFrame(FrameType.wsMessage, 1)],
  ["a text message that is not the heartbeat", "hello relay"],
];

describe("garbage from an authenticated agent", () => {
  it.each(GARBAGE)("answers %s with protocol-error and close 1002, and keeps serving", async (_, message) => {
    const name = uniqueName("bad");
    const bystanderName = uniqueName("ok");
    const bystander = await FakeAgent.connect(bystanderName);
    const agent = await FakeAgent.connect(name);

    agent.sendRaw(message);
    const error = await agent.next("error");
    expect(error.code).toBe("protocol-error");
    expect(error.message).not.toBe("");
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.protocolError });

    expect(await (await roundTrip(bystander, bystanderName)).text()).toBe("pong /ping");
    const again = await FakeAgent.connect(name, { agentId: "again" });
    expect(await (await roundTrip(again, name)).text()).toBe("pong /ping");
  });
});

describe("size limits", () => {
  it(`closes 1009 on a message larger than LIMITS.maxMessageBytes (${LIMITS.maxMessageBytes})`, async () => {
    const agent = await FakeAgent.connect(uniqueName());
    agent.sendRaw(rawFrame(FrameType.data, 1, new Uint8Array(LIMITS.maxMessageBytes)));
    expect(await agent.next("error")).toMatchObject({ code: "protocol-error" });
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.tooLarge });
  });

  it("accepts a message of exactly LIMITS.maxMessageBytes as far as size goes", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    // An agent error frame padded to the limit: valid, so the relay only logs it.
    const padding = "x".repeat(LIMITS.maxMessageBytes - HEADER_BYTES - JSON.stringify({ code: "c", message: "" }).length);
    agent.sendRaw(rawFrame(FrameType.error, 0, JSON.stringify({ code: "c", message: padding })));
    expect(await (await roundTrip(agent, name)).text()).toBe("pong /ping");
    expect(agent.pending()).toEqual([]);
  });

  it(`closes 1009 on a data payload larger than LIMITS.maxChunkBytes (${LIMITS.maxChunkBytes})`, async () => {
    const agent = await FakeAgent.connect(uniqueName());
    agent.sendRaw(rawFrame(FrameType.data, 1, new Uint8Array(LIMITS.maxChunkBytes + 1)));
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.tooLarge });
  });

  it(`closes 1009 on a ws-message payload larger than LIMITS.maxChunkBytes`, async () => {
    const agent = await FakeAgent.connect(uniqueName());
    agent.sendRaw(rawFrame(FrameType.wsMessage, 1, new Uint8Array(1 + LIMITS.maxChunkBytes + 1)));
    expect(await agent.closeEvent()).toMatchObject({ code: CloseCode.tooLarge });
  });
});

describe("unknown streams", () => {
  it.each([
    ["data", (stream: number) => ({ type: "data" as const, stream, chunk: new Uint8Array([1]) })],
    [
      "response-head",
      (stream: number) => ({ type: "response-head" as const, stream, status: 200, statusText: "", headers: [], body: false }),
    ],
    ["ws-message", (stream: number) => ({ type: "ws-message" as const, stream, binary: false, fin: true, chunk: new Uint8Array([1]) })],
  ])("answers %s on an unknown stream with reset unknown-stream, and stays connected", async (_, make) => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    agent.send(make(0xdead));
    const reset = await agent.next("reset");
    expect(reset).toMatchObject({ stream: 0xdead, code: "unknown-stream" });
    expect(await (await roundTrip(agent, name)).text()).toBe("pong /ping");
  });

  it("ignores end, credit and reset for unknown streams", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    agent.send({ type: "end", stream: 41 });
    agent.send({ type: "credit", stream: 42, bytes: 1000 });
    agent.send({ type: "reset", stream: 43, code: "local-error", message: "nothing" });
    agent.send({ type: "ws-close", stream: 44, code: 1000, reason: "" });
    expect(await (await roundTrip(agent, name)).text()).toBe("pong /ping");
    expect(agent.pending()).toEqual([]);
  });

  it("resets frames for a stream that already finished", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/done");
    const { stream } = await agent.serveNext({ status: 200, body: "done" });
    expect(await (await within(res, 3_000, "the response")).text()).toBe("done");
    agent.send({ type: "data", stream, chunk: new Uint8Array([1]) });
    expect(await agent.next("reset", (f) => f.stream === stream)).toMatchObject({ code: "unknown-stream" });
  });
});
