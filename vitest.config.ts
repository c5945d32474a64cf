import { defineConfig } from "vitest/config";

// One run, three levels: pure unit tests, in-workerd Durable Object tests, and end to end
// with the real relay in workerd, the real agent process, real origins and real clients.
export default defineConfig({
  test: {
    // Relay and agent logs are noise when a test passes, and evidence when it fails.
    silent: "passed-only",
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      "./vitest.workers.config.ts",
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          pool: "forks",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          globalSetup: ["test/e2e/global-setup.ts"],
        },
      },
    ],
  },
});
