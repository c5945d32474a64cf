// Seeded fuzz against the real agent: a scripted relay sends random and mutated messages after ready.
// Whatever the pure decoder rejects must make the agent send an error frame and close with the
// documented code (1002, or 1009 when oversized), then reconnect; whatever it accepts must leave the
// agent answering; and nothing may throw out of the agent. FUZZ_SEED and FUZZ_AGENT_MESSAGES replay or
// lengthen the run.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Agent, startAgent } from "../../agent-cli/agent";
import { parseTarget } from "../../agent-cli/target";
import { type AgentFrame, FrameType, frame, LIMITS, type Reset } from "../../worker/protocol";
import { fuzzCase, fuzzCases, fuzzSeed } from "../fuzz/generate";
import { outcome } from "../fuzz/oracle";
import { startScriptedRelay } from "../fuzz/scripted-relay";
import { type Origin, startOrigin } from "./origin";

const SEED = fuzzSeed(process.env);
const MESSAGES = fuzzCases({ FUZZ_CASES: process.env.FUZZ_AGENT_MESSAGES }, 80);
/** Valid messages sent before the agent must prove it still answers. */
const CHECK_EVERY = 6;
/** Stream ids for liveness probes, far above the ones the generator favours. */
const PROBE_STREAM = 0xfff00000;

const isProtocolError = (f: AgentFrame): f is Extract<AgentFrame, { type: "error" }> => f.type === "error" && f.code === "protocol-error";

describe(`the agent under ${MESSAGES} fuzzed relay messages (seed ${SEED})`, () => {
  const name = "fuzz-agent";
  const escaped: unknown[] = [];
  const collect = (err: unknown) => escaped.push(err);
  let origin: Origin;
  let relay: Awaited<ReturnType<typeof startScriptedRelay>>;
  let agent: Agent;

  beforeAll(async () => {
    process.on("uncaughtException", collect);
    process.on("unhandledRejection", collect);
    [origin, relay] = await Promise.all([startOrigin(), startScriptedRelay(name)]);
    agent = startAgent({ relay: relay.url, token: "fuzz", name, target: parseTarget(`127.0.0.1:${origin.port}`) });
  });

  afterAll(async () => {
    await agent?.close();
    await relay?.close();
    await origin?.close();
    process.off("uncaughtException", collect);
    process.off("unhandledRejection", collect);
  });

  // Each invalid message costs a reconnect (about 0.2 s of backoff), so the budget grows with the count.
  it("closes with the documented code on invalid input, keeps answering on valid input, and reconnects", {
    timeout: Math.max(60_000, MESSAGES * 500),
  }, async () => {
    let conn = await relay.connection();
    let unchecked = 0;
    let probes = 0;
    const counts = { valid: 0, closed: 0 };
    for (let i = 0; i < MESSAGES; i++) {
      const c = fuzzCase(SEED, i, "relay", 0.5);
      const expected = outcome(c, "relay");
      const replay = `seed ${SEED} case ${i} (${c.recipe})`;
      conn.send(c.message);
      if ("frames" in expected) {
        counts.valid += 1;
        if (++unchecked < CHECK_EVERY) continue;
        // Data on a stream the agent never opened is answered with a reset: proof the agent still reads.
        const stream = PROBE_STREAM + probes++;
        conn.send(frame(FrameType.data, stream, new Uint8Array([1])));
        const reset = await conn.next(
          `${replay}: a reset for probe stream ${stream}`,
          (f): f is Reset => f.type === "reset" && f.stream === stream,
        );
        expect(reset.code, replay).toBe("unknown-stream");
        unchecked = 0;
        continue;
      }
      // A message over the limit is refused by the WebSocket library itself, before the agent could answer.
      if (c.message.byteLength <= LIMITS.maxMessageBytes)
        expect((await conn.next(`${replay}: an error frame`, isProtocolError)).message).not.toBe("");
      expect(await conn.closeEvent(), replay).toMatchObject({ code: expected.closeCode });
      counts.closed += 1;
      conn = await relay.connection();
      unchecked = 0;
    }
    expect(escaped).toEqual([]);
    expect(counts.valid).toBeGreaterThan(MESSAGES / 4);
    expect(counts.closed).toBeGreaterThan(MESSAGES / 4);
  });
});
