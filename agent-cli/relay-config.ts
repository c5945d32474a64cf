// The relay's wrangler config, generated into a temporary directory from the package's wrangler.toml (which the
// build turns into dist/relay-config.json). wrangler writes its .wrangler/ work files beside the config it is
// given, so a deploy never writes into the installed package.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The fields of wrangler.toml that porthole reads or sets; the others are passed through untouched. */
export type RelayConfig = {
  name: string;
  main: string;
  vars?: Record<string, string>;
  routes?: (string | { pattern: string; zone_name: string })[];
  durable_objects?: { bindings: { name: string; class_name: string }[] };
  migrations?: { tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }[];
  [field: string]: unknown;
};

/** The package's root, found from the bundled CLI (dist/) or the sources (agent-cli/): both sit one level down. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

/** wrangler.toml as the build read it, with `main` made absolute so the config can live anywhere. */
export function baseRelayConfig(): RelayConfig {
  const root = packageRoot();
  const file = join(root, "dist", "relay-config.json");
  if (!existsSync(file)) throw new Error(`Cannot configure the relay: ${file} is missing; run "npm run build" in ${root}.`);
  const config = JSON.parse(readFileSync(file, "utf8")) as RelayConfig;
  return { ...config, main: join(root, config.main) };
}

/** A config written to its own temporary directory; `remove` deletes the directory and wrangler's work files in it. */
export type WrittenConfig = { dir: string; path: string; remove: () => void };

/**
 * Writes `config` as wrangler.json in a new temporary directory. The directory is also removed when the process
 * exits first: miniflare answers SIGINT and SIGTERM with its own process.exit, before any async cleanup can run.
 */
export function writeRelayConfig(config: RelayConfig): WrittenConfig {
  const dir = mkdtempSync(join(tmpdir(), "porthole-relay-"));
  const path = join(dir, "wrangler.json");
  const remove = () => {
    process.off("exit", remove);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", remove);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return { dir, path, remove };
}
