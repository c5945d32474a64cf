// The workers project for `npm run fuzz`: the same relay bindings as CI, plus the fuzz settings,
// which workerd can only receive as bindings (it has no process.env). Mirrors vitest.workers.config.ts
// until that file passes FUZZ_SEED and FUZZ_RELAY_MESSAGES itself; then this file can go.

import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          AGENT_TOKEN: "test-token",
          RECONNECT_GRACE_SECONDS: "1",
          RESPONSE_HEAD_TIMEOUT_SECONDS: "2",
          MAX_REQUEST_BODY_MIB: "1",
          FUZZ_SEED: process.env.FUZZ_SEED ?? "",
          FUZZ_RELAY_MESSAGES: process.env.FUZZ_RELAY_MESSAGES ?? "",
        },
      },
    }),
  ],
  test: { name: "workers-fuzz", include: ["test/workers/fuzz.test.ts"], silent: "passed-only" },
});
