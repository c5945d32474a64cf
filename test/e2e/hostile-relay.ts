// A relay that speaks the real wire protocol but sends hostile text: terminal escapes in paths, notes,
// reasons and the policy line. The real relay normalises paths, so only a relay of its own can prove
// that the agent's console escapes whatever reaches it.

import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { decodeAgentMessage, encodeFrame, PROTOCOL_VERSION, type RelayFrame } from "../../worker/protocol";

export type HostileRelay = { url: string; close: () => Promise<void> };

/** Answers the agent's hello with `frames` (after a ready of its own) and ignores everything else. */
export async function startHostileRelay(name: string, frames: RelayFrame[], policy: string): Promise<HostileRelay> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  server.on("connection", (ws) => {
    ws.once("message", (data) => {
      const [hello] = decodeAgentMessage(new Uint8Array(data as Buffer));
      if (hello?.type !== "hello") return ws.close(1002, "expected hello");
      const ready: RelayFrame = {
        type: "ready",
        version: PROTOCOL_VERSION,
        name,
        url: `${url}/t/${name}`,
        pathUrl: `${url}/t/${name}`,
        policy,
      };
      for (const f of [ready, ...frames]) ws.send(encodeFrame(f));
    });
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
}
