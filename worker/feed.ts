// The live capture feed: hibernatable WebSockets tagged "feed", so an open inspector does not keep
// an idle tunnel awake. Each exchange pushes its summary when it starts and when it ends.

import type { CaptureSummary } from "./capture-model";

/** Attachment stored on each feed socket; a subscriber from an inspector session expires with it. */
export type FeedAttachment = { role: "feed"; tunnel: string; expiresAt?: number };

/** A feed message, as docs/captures-api.md describes it. */
export type FeedMessage = { type: "start" | "end"; capture: CaptureSummary } | { type: "clear" };

/** Accepts a feed subscriber. */
export function acceptFeed(ctx: DurableObjectState, tunnel: string, expiresAt?: number): Response {
  const pair = new WebSocketPair();
  ctx.acceptWebSocket(pair[1], ["feed"]);
  pair[1].serializeAttachment({ role: "feed", tunnel, ...(expiresAt ? { expiresAt } : {}) } satisfies FeedAttachment);
  return new Response(null, { status: 101, webSocket: pair[0] });
}

/** Sends a message to every subscriber; a subscriber that went away is skipped. */
export function broadcast(ctx: DurableObjectState, message: FeedMessage): void {
  const sockets = ctx.getWebSockets("feed");
  if (sockets.length === 0) return;
  const text = JSON.stringify(message);
  const now = Date.now();
  for (const ws of sockets) {
    try {
      const { expiresAt } = ws.deserializeAttachment() as FeedAttachment;
      if (expiresAt !== undefined && now > expiresAt) {
        ws.close(4001, "porthole: the inspector session expired");
        continue;
      }
      ws.send(text);
    } catch {
      // Closing: its close event cleans up.
    }
  }
}
