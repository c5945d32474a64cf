// Types for bench/soak.mjs, so test/e2e/soak.test.ts can import the driver under `strict`.

/** What one soak run measured; `failures` is empty when every check passed. */
export type SoakResult = {
  requests: number;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  ok: { get: number; post: number; sse: number; ws: number };
  errors: Record<string, number>;
  agentExchanges: number;
  relayStreams: { http: number; websocket: number };
  agentStreams: number;
  peakStreams: { relayHttp: number; relayWebsocket: number; agent: number };
  captures: { written: number; stored: number; evicted: number };
  failures: string[];
};

/** Starts an origin, a relay and an agent, sends `requests` mixed requests through the tunnel and checks the counts. */
export function runSoak(options: {
  requests: number;
  concurrency?: number;
  name?: string;
  log?: (line: string) => void;
}): Promise<SoakResult>;
