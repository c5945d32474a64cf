// The smallest EventStore that lets a v1 Streamable HTTP server resume a stream after Last-Event-ID.
// The SDK's example store orders events by a timestamp string; a sequence keeps replay order exact.

import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

type Stored = { id: string; streamId: string; message: JSONRPCMessage };

/** Keeps every SSE event in memory with ids "<stream>/<sequence>", so any stream can be replayed. */
export class MemoryEventStore implements EventStore {
  readonly #events: Stored[] = [];

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}/${this.#events.length}`;
    this.#events.push({ id, streamId, message });
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const at = this.#events.findIndex((e) => e.id === lastEventId);
    const last = this.#events[at];
    if (!last) throw new Error(`Cannot replay events after "${lastEventId}": the store never issued that id`);
    for (const event of this.#events.slice(at + 1)) if (event.streamId === last.streamId) await send(event.id, event.message);
    return last.streamId;
  }
}
