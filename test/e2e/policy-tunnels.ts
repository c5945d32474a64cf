// The fixture the policy tests share: one relay, one recording local server, and one agent per
// scenario started with that scenario's policy flags, all torn down together.

import { type AgentProcess, fetchUrl, type RelayProcess, spawnCli, startAgent, startRelay, TOKEN } from "./harness";
import { type Judge, type RecordingOrigin, startRecordingOrigin } from "./recording-origin";

/** A started agent and what its ready event said. */
type Started = { agent: AgentProcess; policy: string; pathUrl: string };

/** The relay, the local server and the agents of one test file. */
export type PolicyTunnels = {
  relay: RelayProcess;
  origin: RecordingOrigin;
  /** The agent process of a tunnel. */
  agent: (name: string) => AgentProcess;
  /** The ready event's policy summary for a tunnel. */
  policy: (name: string) => string;
  /** The tunnel's path-mode URL, `<relay>/t/<name>`. */
  pathUrl: (name: string) => string;
  /** The agent's JSON event for a forwarded (`exchange`) or refused request to `path` (path and query). */
  event: (name: string, kind: "exchange" | "refused", path: string) => Promise<Record<string, unknown>>;
  /** Runs `porthole http` for `name` with `flags` on this relay and waits for it to exit (for flags it must refuse). */
  refusedStart: (name: string, flags: string[]) => Promise<{ code: number | null; output: string }>;
  stop: () => Promise<void>;
};

/** Starts the relay and the local server, then an agent per entry of `tunnels` (name → extra CLI flags), in parallel. */
export async function startPolicyTunnels(tunnels: Record<string, string[]>, judge?: Judge): Promise<PolicyTunnels> {
  const [relay, origin] = await Promise.all([startRelay(), startRecordingOrigin(judge)]);
  const agents = new Map<string, Started>();
  await Promise.all(
    Object.entries(tunnels).map(async ([name, flags]) => {
      const { agent, ready } = await startAgent(relay, origin.port, name, flags);
      agents.set(name, { agent, policy: String((ready as { policy?: unknown }).policy), pathUrl: ready.pathUrl });
    }),
  );
  const started = (name: string): Started => {
    const found = agents.get(name);
    if (!found) throw new Error(`No agent for tunnel "${name}": the test file did not start one.`);
    return found;
  };
  return {
    relay,
    origin,
    agent: (name) => started(name).agent,
    policy: (name) => started(name).policy,
    pathUrl: (name) => started(name).pathUrl,
    event: (name, kind, path) => started(name).agent.waitFor((e) => e.event === kind && e.path === path, 5000),
    refusedStart: async (name, flags) => {
      const cli = spawnCli(["http", String(origin.port), "--relay", relay.url, "--token", TOKEN, "--name", name, ...flags]);
      const code = await cli.exited;
      return { code, output: cli.output.join("\n") };
    },
    stop: async () => {
      await Promise.all([...agents.values()].map(({ agent }) => agent.kill()));
      await relay.stop();
      await origin.close();
    },
  };
}

/** Sends a request to a tunnel URL and reads the whole answer, with the relay's error code if it answered itself. */
export async function call(url: string, init: Parameters<typeof fetchUrl>[1] = {}) {
  const res = await fetchUrl(url, init);
  return { status: res.status, headers: res.headers, error: res.headers.get("X-Porthole-Error"), text: await res.text() };
}
