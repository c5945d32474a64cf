// The live capture feed inside the tunnel: summaries on start and end, and a subscriber from an
// inspector session is dropped once that session has expired.

import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { ROUTE_HEADER } from "../../worker/routing";
import { FakeAgent, roundTrip } from "./fake-agent";
import { uniqueName, within } from "./helpers";

/** Opens the feed straight on the tunnel object, as the worker does after checking the caller. */
async function openFeed(name: string, expiresAt?: number) {
  const stub = env.TUNNEL.get(env.TUNNEL.idFromName(name));
  const res = await stub.fetch("http://tunnel/feed", {
    headers: { Upgrade: "websocket", [ROUTE_HEADER]: JSON.stringify({ kind: "control", name, path: "/feed", expiresAt }) },
  });
  const ws = res.webSocket!;
  ws.accept();
  const messages: { type: string; capture?: { path: string } }[] = [];
  ws.addEventListener("message", (e) => messages.push(JSON.parse(e.data as string)));
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  return { ws, messages, closed };
}

it("pushes a summary when an exchange starts and when it ends", async () => {
  const name = uniqueName();
  const agent = await FakeAgent.connect(name);
  const feed = await openFeed(name);
  await (await roundTrip(agent, name, "/watched")).text();
  await expect.poll(() => feed.messages.filter((m) => m.capture?.path === "/watched").map((m) => m.type)).toEqual(["start", "end"]);
  feed.ws.close();
});

it("closes a subscriber whose inspector session has expired instead of sending to it", async () => {
  const name = uniqueName();
  const agent = await FakeAgent.connect(name);
  const feed = await openFeed(name, Date.now() + 200);
  await new Promise((r) => setTimeout(r, 400));
  await (await roundTrip(agent, name, "/after-expiry")).text();
  expect(await within(feed.closed, 3000, "the feed to close")).toBe(4001);
  expect(feed.messages).toEqual([]);
});
