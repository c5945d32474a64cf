// Oversized public bodies inside workerd: the relay's own limit (MAX_REQUEST_BODY_MIB, 1 MiB in this suite)
// answers 413 naming the limit before a byte reaches the agent, records the refusal, and keeps serving.

import { describe, expect, it } from "vitest";
import type { CaptureSummary } from "../../worker/capture-model";
import { FakeAgent, roundTrip } from "./fake-agent";
import { api, publicFetch, uniqueName, within } from "./helpers";

const LIMIT = 1024 * 1024;

/** The tunnel's captures, newest first, once the newest has finished. */
async function finishedCaptures(name: string): Promise<CaptureSummary[]> {
  await expect
    .poll(async () => (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures[0]?.state, { timeout: 3000 })
    .toBe("done");
  return (await api<{ captures: CaptureSummary[] }>(name, "/captures")).captures;
}

/** A body of `size` bytes streamed in 64 KiB chunks with no Content-Length. */
function undeclared(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(64 * 1024, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
}

describe("the relay's request body limit", () => {
  it("refuses a body declared over the limit with 413 naming the limit, captured, and never forwarded", async () => {
    const name = uniqueName("big");
    const agent = await FakeAgent.connect(name);
    const res = await within(
      publicFetch(name, "/upload", {
        method: "POST",
        body: undeclared(LIMIT + 1),
        headers: { "Content-Length": String(LIMIT + 1) },
        duplex: "half",
      } as RequestInit),
      3_000,
      "the 413",
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("X-Porthole-Error")).toBe("body-too-large");
    expect(await res.text()).toBe(
      `Tunnel "${name}" refused "POST /upload": the request body (${LIMIT + 1} bytes) exceeds the 1 MiB limit of this relay.\n`,
    );
    const [capture] = await finishedCaptures(name);
    expect(capture).toMatchObject({ method: "POST", path: "/upload", status: 413, outcome: "denied" });
    expect(agent.pending().filter((f) => f.type === "request-head")).toEqual([]);
    expect(await (await roundTrip(agent, name)).text()).toBe("pong /ping");
  });

  it("forwards a body of exactly the limit", async () => {
    const name = uniqueName("edge");
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/upload", { method: "POST", body: new Uint8Array(LIMIT) });
    const head = await agent.next("request-head");
    agent.send({ type: "credit", stream: head.stream, bytes: LIMIT });
    expect((await agent.body(head.stream)).byteLength).toBe(LIMIT);
    agent.respond(head.stream, { body: "stored" });
    expect(await (await within(res, 3_000, "the answer")).text()).toBe("stored");
  });

  it("cuts off an undeclared (chunked) body at the limit: nothing past it is forwarded, and the capture says why", async () => {
    const name = uniqueName("chunked");
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/stream", { method: "POST", body: undeclared(LIMIT + 256 * 1024), duplex: "half" } as RequestInit);
    const head = await agent.next("request-head");
    expect(head.body).toBe(true);
    agent.send({ type: "credit", stream: head.stream, bytes: 2 * LIMIT });
    const reset = await agent.next("reset", (f) => f.stream === head.stream);
    expect(reset.code).toBe("client-aborted");
    const answer = await within(res, 3_000, "the answer to the cut-off upload");
    expect(answer.status).toBe(413);
    expect(answer.headers.get("X-Porthole-Error")).toBe("body-too-large");
    expect(await answer.text()).toMatch(/exceeds the 1 MiB limit of this relay/);
    const [capture] = await finishedCaptures(name);
    expect(capture).toMatchObject({ path: "/stream", status: 413, requestSize: LIMIT });
    expect(capture?.error).toContain("exceeds the 1 MiB limit of this relay");
    expect(await (await roundTrip(agent, name)).text()).toBe("pong /ping");
  });
});
