import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          AGENT_TOKEN: "test-token",
          RECONNECT_GRACE_SECONDS: "1",
          RESPONSE_HEAD_TIMEOUT_SECONDS: "2",
          MAX_REQUEST_BODY_MIB: "1",
          // workerd has no process.env: `npm run fuzz` sets these for the relay fuzz (test/workers/fuzz.test.ts).
          FUZZ_SEED: process.env.FUZZ_SEED ?? "",
          FUZZ_RELAY_MESSAGES: process.env.FUZZ_RELAY_MESSAGES ?? "",
        },
      },
    }),
  ],
  test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
});
