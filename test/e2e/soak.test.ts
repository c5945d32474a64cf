// The bounded soak for CI: 10,000 mixed requests through one tunnel with the driver `npm run soak` uses.
// Nothing may fail, the relay and the agent must be back to 0 open streams, and every request must
// have left exactly one capture (counted with the store's evictions, since it keeps 1000).

import { expect, it } from "vitest";
import { runSoak } from "../../bench/soak.mjs";

const REQUESTS = 10_000;

it(`carries ${REQUESTS} mixed requests without errors, leaked streams or missing captures`, { timeout: 120_000 }, async () => {
  const r = await runSoak({ requests: REQUESTS, concurrency: 32, name: "soak-ci" });
  console.log(`soak: ${REQUESTS} requests in ${r.seconds} s = ${r.requestsPerSecond} req/s; peak streams ${JSON.stringify(r.peakStreams)}`);
  expect(r.failures).toEqual([]);
  expect(r.ok).toEqual({ get: 3000, post: 3000, sse: 2000, ws: 2000 });
  expect(r.relayStreams).toEqual({ http: 0, websocket: 0 });
  expect(r.agentStreams).toBe(0);
  expect(r.agentExchanges).toBe(REQUESTS);
  expect(r.captures.written).toBe(REQUESTS);
  // The counters moved during the run, so their return to 0 is not a counter stuck at 0.
  expect(r.peakStreams.relayHttp).toBeGreaterThan(0);
  expect(r.peakStreams.agent).toBeGreaterThan(0);
});
