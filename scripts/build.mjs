// Bundles the agent CLI into dist/porthole.mjs for Node >= 20. Runs on `npm install` (prepare) and before tests.
import { build } from "esbuild";

await build({
  entryPoints: ["agent-cli/cli.ts"],
  outfile: "dist/porthole.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
