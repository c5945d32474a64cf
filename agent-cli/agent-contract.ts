// What the agent promises its users: the options it takes, the events it reports and the error it stops
// with. The connection itself is agent.ts.

import type { HostHeaderMode } from "../worker/headers";
import type { PolicyInput } from "../worker/policy";
import type { Target } from "./target";

/** Agent tunables. */
export const AGENT_DEFAULTS = {
  /** Heartbeat period, announced in hello; a relay (or agent) silent for three periods is dead. */
  heartbeatMs: 15_000,
  /** How long close() waits for the relay's close frame before dropping the socket. */
  closeTimeoutMs: 2_000,
  backoffInitialMs: 250,
  backoffMaxMs: 30_000,
} as const;

export type AgentOptions = {
  /** Relay base URL, http(s)://host[:port]. */
  relay: string;
  token: string;
  name: string;
  target: Target;
  hostHeader?: HostHeaderMode;
  /** Take the name over from an agent that holds it. */
  force?: boolean;
  /** Heartbeat period (AGENT_DEFAULTS.heartbeatMs); shorter notices a dead connection sooner. */
  heartbeatMs?: number;
  /** Bytes of each body the relay keeps in a capture (the relay's default, 1 MiB, when absent). */
  captureBytes?: number;
  /** Idle time before the relay writes a keepalive comment into an event stream; 0 for none (the relay's default when absent). */
  sseKeepaliveMs?: number;
  /**
   * Signature checks and access rules, sent until the relay has accepted them once: a reconnect must not
   * undo a change made through the API since. Absent keeps the policy the tunnel has on the relay.
   */
  policy?: PolicyInput;
  onEvent?: (event: AgentEvent) => void;
};

/** What the agent reports, one event at a time; `--json` prints them as they come. */
export type AgentEvent =
  | { event: "ready"; name: string; url: string; pathUrl: string; policy: string }
  | { event: "disconnected"; code: number; reason: string }
  | { event: "reconnecting"; attempt: number; delayMs: number; cause: string }
  | {
      event: "exchange";
      stream: number;
      method: string;
      path: string;
      status: number;
      durationMs: number;
      bytesIn: number;
      bytesOut: number;
      error?: string;
      /** What the relay checked, such as the signature verdict. */
      note?: string;
    }
  /** A request the relay answered itself: an access rule or a failed signature. */
  | { event: "refused"; method: string; path: string; status: number; reason: string }
  | { event: "fatal"; code: string; message: string }
  /** Streams open right now, printed on SIGUSR2 so a soak can check none leaked. */
  | { event: "stats"; name: string; streams: number; http: number; websocket: number };

/** The signal that makes every running agent report a "stats" event. */
export const STATS_SIGNAL = "SIGUSR2";

/** The agent stopped for good; the message was already reported as a "fatal" event. */
export class AgentFatalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AgentFatalError";
  }
}
