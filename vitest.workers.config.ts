import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { AGENT_TOKEN: "test-token", RECONNECT_GRACE_SECONDS: "1", RESPONSE_HEAD_TIMEOUT_SECONDS: "2" } },
    }),
  ],
  test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
});
