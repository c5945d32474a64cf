// The live capture feed: hibernatable WebSockets tagged "feed", so an open inspector does not keep
// an idle tunnel awake. Each exchange pushes its summary when it starts and when it ends.

import type { CaptureSummary } from "./recorder";

/** Attachment stored on each feed socket. */
export type FeedAttachment = { role: "feed"; tunnel: string };

/** A feed message, as docs/captures-api.md describes it. */
export type FeedMessage = { type: "start" | "end"; capture: CaptureSummary } | { type: "clear" };

/** Accepts a feed subscriber. */
export function acceptFeed(ctx: DurableObjectState, tunnel: string): Response {
  const pair = new WebSocketPair();
  ctx.acceptWebSocket(pair[1], ["feed"]);
  pair[1].serializeAttachment({ role: "feed", tunnel } satisfies FeedAttachment);
  return new Response(null, { status: 101, webSocket: pair[0] });
}

/** Sends a message to every subscriber; a subscriber that went away is skipped. */
export function broadcast(ctx: DurableObjectState, message: FeedMessage): void {
  const sockets = ctx.getWebSockets("feed");
  if (sockets.length === 0) return;
  const text = JSON.stringify(message);
  for (const ws of sockets) {
    try {
      ws.send(text);
    } catch {
      // Closing: its close event cleans up.
    }
  }
}
