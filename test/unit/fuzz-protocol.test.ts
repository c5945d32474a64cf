// Both decoders over seeded random and mutated messages: each input decodes to frames that survive
// re-encoding, or fails with a ProtocolError closing 1002 or 1009. FUZZ_SEED and FUZZ_CASES replay or
// lengthen the run (`npm run fuzz`); the seed is in every failure message.

import { describe, expect, it } from "vitest";
import { CloseCode, decodeAgentMessage, decodeRelayMessage, ProtocolError } from "../../worker/protocol";
import { fuzzCase, fuzzCases, fuzzSeed, MUTATION_NAMES, type Side } from "../fuzz/generate";
import { outcome } from "../fuzz/oracle";

const SEED = fuzzSeed(process.env);
const CASES = fuzzCases(process.env, 20_000);
/** Decoding is linear in the input; a case this slow means a hang in the making. */
const SLOW_CASE_MS = 250;

describe.each<Side>(["agent", "relay"])(`the %s-frame decoder over ${CASES} fuzz cases (seed ${SEED})`, (side) => {
  it("decodes or fails with a documented close code, promptly, for every case", { timeout: Math.max(30_000, CASES) }, () => {
    const seen = new Map<string | number, number>([
      ["valid", 0],
      [CloseCode.protocolError, 0],
      [CloseCode.tooLarge, 0],
    ]);
    const recipes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const c = fuzzCase(SEED, i, side);
      const started = performance.now();
      const result = outcome(c, side);
      const ms = performance.now() - started;
      if (ms > SLOW_CASE_MS) throw new Error(`${side} fuzz seed ${SEED} case ${i} took ${Math.round(ms)} ms to decode`);
      const kind = "frames" in result ? "valid" : result.closeCode;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      recipes.add(c.recipe);
    }
    // A generator that stopped producing some kind of input would make this test pass vacuously.
    expect(recipes).toEqual(new Set(["valid", ...MUTATION_NAMES]));
    // Every outcome occurs, and no close code outside the documented ones.
    expect([...seen.keys()]).toEqual(["valid", CloseCode.protocolError, CloseCode.tooLarge]);
    for (const [kind, count] of seen) expect(count, String(kind)).toBeGreaterThan(0);
  });

  it("replays a case exactly from its seed and index", () => {
    expect(fuzzCase(SEED, 1234, side)).toEqual(fuzzCase(SEED, 1234, side));
    expect(fuzzCase(SEED, 1234, side).message).not.toEqual(fuzzCase(SEED + 1, 1234, side).message);
  });
});

describe("inputs the generator cannot produce", () => {
  it.each([
    ["a text message", "porthole:ping"],
    ["an empty message", new Uint8Array(0)],
    ["an empty ArrayBuffer", new ArrayBuffer(0)],
  ])("rejects %s with 1002 on both sides", (_, message) => {
    for (const decode of [decodeAgentMessage, decodeRelayMessage]) {
      expect(() => decode(message)).toThrow(ProtocolError);
      try {
        decode(message);
      } catch (err) {
        expect((err as ProtocolError).closeCode).toBe(CloseCode.protocolError);
      }
    }
  });
});
