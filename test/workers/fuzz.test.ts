// Seeded fuzz against the real relay: agents that completed hello send random and mutated messages.
// Whatever the pure decoder rejects must end the agent socket with an error frame and the documented
// close (1002 or 1009); whatever it accepts must leave the agent serving; and a tunnel next door must
// not notice. The seed and case index are in every failure message (see test/fuzz/generate.ts).

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fuzzCase, fuzzCases, fuzzSeed } from "../fuzz/generate";
import { outcome } from "../fuzz/oracle";
import { FakeAgent, roundTrip } from "./fake-agent";
import { uniqueName } from "./helpers";

// workerd has no process.env: FUZZ_SEED and FUZZ_RELAY_MESSAGES arrive as bindings when the workers config passes them.
const ENV = env as unknown as Record<string, string | undefined>;
const SEED = fuzzSeed(ENV);
const MESSAGES = fuzzCases({ FUZZ_CASES: ENV.FUZZ_RELAY_MESSAGES }, 200);
/** Valid messages sent before the agent must prove it still serves with a public round trip. */
const CHECK_EVERY = 8;

describe(`the relay under ${MESSAGES} fuzzed agent messages (seed ${SEED})`, () => {
  it("closes with the documented code on invalid input, serves on valid input, and spares other tunnels", {
    timeout: Math.max(60_000, MESSAGES * 100),
  }, async () => {
    const bystanderName = uniqueName("bystander");
    const bystander = await FakeAgent.connect(bystanderName);
    const name = uniqueName("fuzz");
    let agents = 1;
    let agent = await FakeAgent.connect(name, { agentId: `fuzz-${agents}` });
    let unchecked = 0;
    const counts = { valid: 0, closed: 0, skipped: 0 };

    for (let i = 0; i < MESSAGES; i++) {
      const c = fuzzCase(SEED, i, "agent", 0.5);
      const expected = outcome(c, "agent");
      const replay = `seed ${SEED} case ${i} (${c.recipe})`;
      if ("frames" in expected) {
        // A well-formed hello mid-session is a handshake, not fuzz: it may rightly end the session (4002).
        if (expected.frames.some((f) => f.type === "hello")) {
          counts.skipped += 1;
          continue;
        }
        agent.sendRaw(c.message);
        counts.valid += 1;
        if (++unchecked === CHECK_EVERY) {
          expect(await (await roundTrip(agent, name, `/after-${i}`)).text(), replay).toBe(`pong /after-${i}`);
          unchecked = 0;
        }
        continue;
      }
      agent.sendRaw(c.message);
      const error = await agent.next("error", (f) => f.code === "protocol-error");
      expect(error.message, replay).not.toBe("");
      expect(await agent.closeEvent(), replay).toMatchObject({ code: expected.closeCode });
      counts.closed += 1;
      agents += 1;
      agent = await FakeAgent.connect(name, { agentId: `fuzz-${agents}` });
      unchecked = 0;
    }

    expect(await (await roundTrip(agent, name, "/last")).text()).toBe("pong /last");
    expect(await (await roundTrip(bystander, bystanderName)).text()).toBe("pong /ping");
    expect(counts.valid).toBeGreaterThan(MESSAGES / 4);
    expect(counts.closed).toBeGreaterThan(MESSAGES / 4);
  });
});
