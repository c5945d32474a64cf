// A relay on 127.0.0.1 that a test scripts message by message: it answers each hello with ready and
// then hands the connection to the test, which sends fuzzed bytes and awaits the agent's frames and close.
// Only the real relay can prove the relay's behaviour; this one exists to aim garbage at the real agent.

import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { type AgentFrame, decodeAgentMessage, encodeFrame, PROTOCOL_VERSION } from "../../worker/protocol";

/** Default wait for something the agent should do promptly. */
const WAIT_MS = 5_000;

/** Rejects after `ms`, naming what was awaited. */
function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One agent connection that has said hello and been sent ready. */
export class ScriptedConnection {
  private readonly frames: AgentFrame[] = [];
  private wake = () => {};
  /** The close the agent's socket ended with. */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(private readonly ws: WebSocket) {
    this.closed = once(ws, "close").then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return; // The heartbeat.
      this.frames.push(...decodeAgentMessage(new Uint8Array(data)));
      this.wake();
    });
  }

  /** Sends raw bytes that need not be a valid message. */
  send(message: Uint8Array): void {
    this.ws.send(message);
  }

  /** Takes the first unread agent frame that matches, waiting for it. */
  next<T extends AgentFrame>(what: string, match: (f: AgentFrame) => f is T): Promise<T> {
    const found = new Promise<T>((resolve, reject) => {
      const check = () => {
        const i = this.frames.findIndex(match);
        if (i >= 0) return resolve(this.frames.splice(i, 1)[0] as T);
        if (this.ws.readyState === this.ws.CLOSED) return reject(new Error(`the agent socket closed before ${what}`));
        this.wake = check;
      };
      void this.closed.then(check);
      check();
    });
    return within(found, what);
  }

  /** The agent's close, within a short wait. */
  closeEvent(): Promise<{ code: number; reason: string }> {
    return within(this.closed, "the agent to close its socket");
  }
}

/** The scripted relay: `url` for the agent, `connection()` for the next agent that completes hello. */
export async function startScriptedRelay(name: string) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const waiting: ScriptedConnection[] = [];
  let arrived = () => {};
  server.on("connection", (ws) => {
    ws.once("message", (data: Buffer) => {
      const [hello] = decodeAgentMessage(new Uint8Array(data));
      if (hello?.type !== "hello") return ws.close(1002, "expected hello");
      const conn = new ScriptedConnection(ws);
      ws.send(
        encodeFrame({ type: "ready", version: PROTOCOL_VERSION, name, url: `${url}/t/${name}`, pathUrl: `${url}/t/${name}`, policy: "" }),
      );
      waiting.push(conn);
      arrived();
    });
  });
  return {
    url,
    /** The next connection that completed hello, including the agent's reconnects. */
    connection(): Promise<ScriptedConnection> {
      const next = new Promise<ScriptedConnection>((resolve) => {
        const check = () => {
          const conn = waiting.shift();
          if (conn) resolve(conn);
          else arrived = check;
        };
        check();
      });
      return within(next, "the agent to connect and say hello");
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
}
