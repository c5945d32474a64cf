// Streaming without buffering, in both directions, with memory bounded by flow control.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, fetchUrl, hostUrl, type RelayProcess, startTunnel, timedChunks } from "./harness";
import { BLOCK, expectedSha256, type Origin } from "./origin";

const NAME = "stream-e2e";
const MiB = 1024 * 1024;
let tunnel: Awaited<ReturnType<typeof startTunnel>>;
let relay: RelayProcess;
let origin: Origin;
let agent: AgentProcess;

beforeAll(async () => {
  tunnel = await startTunnel(NAME);
  ({ relay, origin, agent } = tunnel);
});

afterAll(() => tunnel?.stop());

/** Peak resident memory of a process, in bytes (VmHWM). */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

describe("server-sent events", () => {
  it.each(["text/event-stream", "text/plain"])("%s events arrive one by one, as the origin writes them", async (type) => {
    // Accept-Encoding is set on purpose: a relay that compresses would hold the whole stream.
    const res = await fetchUrl(hostUrl(relay, NAME, `/stream?type=${encodeURIComponent(type)}&n=5&interval=300`), {
      headers: { "Accept-Encoding": "gzip, br" },
    });
    expect(res.status).toBe(200);
    const start = performance.now();
    const chunks = await timedChunks(res.body!);
    const text = chunks.map((c) => c.text).join("");
    const marker = type === "text/event-stream" ? "data: event" : "line";
    expect(text.split(marker).length - 1).toBe(5);
    // Five writes 300 ms apart: at least four separate arrivals, spaced well apart, the first long before the end.
    const withEvent = chunks.filter((c) => c.text.includes(marker));
    expect(withEvent.length).toBeGreaterThanOrEqual(4);
    const gaps = withEvent.slice(1).map((c, i) => c.at - (withEvent[i] as { at: number }).at);
    expect(Math.max(...gaps)).toBeGreaterThan(150);
    expect((withEvent[0] as { at: number }).at - start).toBeLessThan(800);
  });
});

describe("no total-duration timeout", () => {
  it("a stream that stays silent longer than the hibernation delay still delivers afterwards", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/stream?n=2&interval=12000"));
    const chunks = await timedChunks(res.body!);
    const events = chunks.filter((c) => c.text.includes("data: event"));
    expect(events.map((c) => c.text.trim())).toEqual(["id: 0\ndata: event 0", "id: 1\ndata: event 1"]);
    expect((events[1] as { at: number }).at - (events[0] as { at: number }).at).toBeGreaterThan(11_000);
  }, 30_000);
});

describe("large bodies", () => {
  it("a 500 MiB download arrives byte-exact while the agent's memory stays flat", async () => {
    const size = 500 * MiB;
    const before = peakRss(agent.child.pid!);
    const res = await fetchUrl(hostUrl(relay, NAME, `/bytes?n=${size}`));
    const hash = createHash("sha256");
    let length = 0;
    for await (const chunk of res.body!) {
      hash.update(chunk);
      length += chunk.byteLength;
    }
    expect(length).toBe(size);
    expect(hash.digest("hex")).toBe(expectedSha256(size));
    // Generous bound: flow control keeps the agent within a few windows, far below the body size.
    expect(peakRss(agent.child.pid!) - before).toBeLessThan(100 * MiB);
  }, 120_000);

  it("a 90 MiB upload arrives byte-exact", async () => {
    const size = 90 * MiB;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const piece = BLOCK.subarray(0, Math.min(BLOCK.length, size - sent));
        sent += piece.length;
        controller.enqueue(new Uint8Array(piece));
      },
    });
    const res = await fetchUrl(hostUrl(relay, NAME, "/upload"), { method: "POST", body, duplex: "half" });
    expect(await res.json()).toEqual({ length: size, sha256: expectedSha256(size) });
  }, 120_000);

  it("a Content-Length download keeps its length", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, `/bytes?n=${3 * MiB + 5}&length=1`));
    expect(res.headers.get("content-length")).toBe(String(3 * MiB + 5));
    expect((await res.arrayBuffer()).byteLength).toBe(3 * MiB + 5);
  });
});

describe("backpressure", () => {
  it("a client that stops reading stops the origin: the tunnel buffers a bounded amount", async () => {
    const startBytes = origin.streamed.bytes;
    const res = await fetchUrl(hostUrl(relay, NAME, `/bytes?n=${400 * MiB}`));
    const reader = res.body!.getReader();
    await reader.read();
    // Stop reading for a while: the origin may only get as far as the windows and socket buffers allow.
    await new Promise((r) => setTimeout(r, 3000));
    const buffered = origin.streamed.bytes - startBytes;
    expect(buffered).toBeLessThan(64 * MiB);
    await reader.cancel();
  });

  it("an origin that stops reading stops the client's upload", async () => {
    // Bounded, because after an abort undici may drain what is left of the body.
    let produced = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= 256 * MiB) return controller.close();
        produced += BLOCK.length;
        controller.enqueue(new Uint8Array(BLOCK));
      },
    });
    const controller = new AbortController();
    const pending = fetchUrl(hostUrl(relay, NAME, "/upload?pause=60000"), {
      method: "POST",
      body,
      duplex: "half",
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    expect(produced).toBeLessThan(64 * MiB);
    controller.abort();
    await pending;
  });
});

describe("cancellation", () => {
  it("a client abort reaches the local server, which sees its request closed", async () => {
    const closed = new Promise<string>((resolve) => origin.events.once("request-closed", resolve));
    const controller = new AbortController();
    const res = await fetchUrl(hostUrl(relay, NAME, "/stream?interval=100"), { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const abortedAt = performance.now();
    controller.abort();
    expect(await closed).toBe("/stream");
    expect(performance.now() - abortedAt).toBeLessThan(5000);
  });
});
