// A real browser through host mode: EventSource events arrive one by one, and a WebSocket
// negotiates its subprotocol and echoes, exactly as a frontend on *.localhost would see it.

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AgentProcess, hostUrl, launchChromium, type RelayProcess, startAgent, startRelay } from "./harness";
import { type Origin, startOrigin } from "./origin";

let relay: RelayProcess;
let origin: Origin;
let agent: AgentProcess;
let browser: Browser;
let page: Page;
const NAME = "browser-e2e";

beforeAll(async () => {
  [relay, origin, browser] = await Promise.all([startRelay(), startOrigin(), launchChromium()]);
  agent = (await startAgent(relay, origin.port, NAME)).agent;
  page = await browser.newPage();
  // Chromium resolves *.localhost to loopback itself: this is the real host-mode URL.
  await page.goto(hostUrl(relay, NAME, "/echo"));
});

afterAll(async () => {
  await browser?.close();
  await agent?.kill();
  await relay?.stop();
  await origin?.close();
});

it("EventSource receives each event when the origin sends it", async () => {
  const arrivals = await page.evaluate(
    () =>
      new Promise<{ at: number; data: string; id: string }[]>((resolve, reject) => {
        const seen: { at: number; data: string; id: string }[] = [];
        const source = new EventSource("/stream?n=5&interval=300");
        source.onmessage = (e) => {
          seen.push({ at: performance.now(), data: e.data, id: e.lastEventId });
          if (seen.length === 5) {
            source.close();
            resolve(seen);
          }
        };
        setTimeout(() => reject(new Error(`only ${seen.length} events in 10 s`)), 10_000);
      }),
  );
  expect(arrivals.map((a) => a.data)).toEqual(["event 0", "event 1", "event 2", "event 3", "event 4"]);
  expect(arrivals.map((a) => a.id)).toEqual(["0", "1", "2", "3", "4"]);
  const gaps = arrivals.slice(1).map((a, i) => a.at - (arrivals[i] as { at: number }).at);
  // Sent 300 ms apart; a buffering tunnel would deliver them together at the end.
  expect(Math.min(...gaps)).toBeGreaterThan(100);
});

it("a browser WebSocket negotiates the subprotocol and echoes text and binary", async () => {
  const url = hostUrl(relay, NAME, "/ws").replace("http:", "ws:");
  const result = await page.evaluate(
    (wsUrl) =>
      new Promise<{ protocol: string; text: string; bytes: number[]; code: number }>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, ["chat.v1", "chat.v2"]);
        ws.binaryType = "arraybuffer";
        const got: (string | ArrayBuffer)[] = [];
        ws.onopen = () => {
          ws.send("from the browser");
          ws.send(new Uint8Array([0, 1, 254, 255]));
        };
        ws.onmessage = (e) => {
          got.push(e.data);
          if (got.length === 3) ws.send("close:4003:browser done");
        };
        ws.onclose = (e) =>
          resolve({ protocol: ws.protocol, text: String(got[1]), bytes: [...new Uint8Array(got[2] as ArrayBuffer)], code: e.code });
        setTimeout(() => reject(new Error("WebSocket did not finish in 10 s")), 10_000);
      }),
    url,
  );
  expect(result).toEqual({ protocol: "chat.v2", text: "from the browser", bytes: [0, 1, 254, 255], code: 4003 });
});
