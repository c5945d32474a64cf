// `npm run fuzz`: the CI fuzz tests, longer and with a fresh seed unless FUZZ_SEED is given.
// Each stage prints the seed; rerun with FUZZ_SEED=<seed> to replay a failure exactly.
//   FUZZ_CASES           decoder cases per side (default 1,000,000; CI runs 20,000)
//   FUZZ_RELAY_MESSAGES  messages fuzzed agents send to the relay in workerd (default 5,000; CI 200)
//   FUZZ_AGENT_MESSAGES  messages a scripted relay sends to the real agent (default 1,000; CI 80)

import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";

const env = {
  ...process.env,
  FUZZ_SEED: process.env.FUZZ_SEED || String(randomInt(2 ** 32)),
  FUZZ_CASES: process.env.FUZZ_CASES || "1000000",
  FUZZ_RELAY_MESSAGES: process.env.FUZZ_RELAY_MESSAGES || "5000",
  FUZZ_AGENT_MESSAGES: process.env.FUZZ_AGENT_MESSAGES || "1000",
};

const stages = [
  ["decoders", ["run", "--project", "unit", "test/unit/fuzz-protocol.test.ts"]],
  ["relay in workerd", ["run", "--project", "workers", "test/workers/fuzz.test.ts"]],
  ["agent", ["run", "--project", "e2e", "test/e2e/fuzz-agent.test.ts"]],
];

for (const [what, args] of stages) {
  console.log(`fuzz: ${what} with FUZZ_SEED=${env.FUZZ_SEED}`);
  const { status, error } = spawnSync("vitest", args, { stdio: "inherit", env });
  if (status !== 0) {
    console.error(`fuzz: the ${what} stage failed (${error?.message ?? `exit ${status}`}); replay with FUZZ_SEED=${env.FUZZ_SEED}`);
    process.exit(1);
  }
}
console.log(`fuzz: every stage passed with FUZZ_SEED=${env.FUZZ_SEED}`);
