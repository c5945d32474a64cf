// Validating a tunnel's policy: the cap on `verify` entries (the rest is covered by test/workers/policy.test.ts).

import { describe, expect, it } from "vitest";
import { MAX_VERIFY, PolicyError, parsePolicy } from "../../worker/policy";

/** `count` distinct GitHub specs, each with its own secret. */
const specs = (count: number) => Array.from({ length: count }, (_, i) => `github:secret-${i}`);

describe("parsePolicy: verify entries", () => {
  it(`accepts up to MAX_VERIFY (${MAX_VERIFY}) entries`, () => {
    const policy = parsePolicy({ verify: specs(MAX_VERIFY), verifyMode: "log" });
    expect(policy.specs).toHaveLength(MAX_VERIFY);
    expect(policy.specs.at(-1)).toEqual({ provider: "github", secret: `secret-${MAX_VERIFY - 1}` });
  });

  it("refuses one more, naming the count and the limit and quoting no secret", () => {
    let caught: unknown;
    try {
      parsePolicy({ verify: specs(MAX_VERIFY + 1) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    const message = (caught as Error).message;
    expect(message).toBe(
      `"verify" has ${MAX_VERIFY + 1} entries; a tunnel verifies at most ${MAX_VERIFY} (each request is checked against every one)`,
    );
    expect(message).not.toContain("secret-");
  });
});
