// Bundles the agent CLI into dist/ for Node >= 20 (porthole.mjs), and the relay Worker for the local relay's workerd
// (relay-worker.mjs, bundled the way wrangler bundles it for a deploy). Runs on `npm install` (prepare), `npm pack`
// and before tests. It also turns wrangler.toml into dist/relay-config.json, read with wrangler's own parser, so the
// installed CLI can generate configs for the local relay and `porthole deploy` without a TOML parser.
import { mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { experimental_readRawConfig } from "wrangler";

await build({
  entryPoints: { porthole: "agent-cli/cli.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});

await build({
  entryPoints: { "relay-worker": "worker/index.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "neutral",
  format: "esm",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  external: ["cloudflare:*", "node:*"],
  logLevel: "warning",
});

const { rawConfig } = experimental_readRawConfig({ config: "wrangler.toml" });
mkdirSync("dist", { recursive: true });
writeFileSync("dist/relay-config.json", `${JSON.stringify(rawConfig, null, 2)}\n`);
