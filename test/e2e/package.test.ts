// The published package as a user gets it: `npm pack`, installed into a clean project with the system's Node
// (20 here) and npm, with no dev toolchain on PATH. The embedded relay must start from the installed package and
// carry a request; `porthole deploy --dry-run` must bundle from it; `npx ./porthole-<version>.tgz <port>` must work.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fetchUrl } from "./harness";
import { type Origin, startOrigin } from "./origin";

const ROOT = new URL("../..", import.meta.url).pathname;
const SYSTEM_NODE = "/usr/bin/node";
const run = promisify(execFile);

/** A user's shell: the system's node and npm, none of the repo's tools or npm script variables. */
const USER_ENV: NodeJS.ProcessEnv = {
  HOME: homedir(),
  PATH: "/usr/bin:/bin",
  TMPDIR: tmpdir(),
  PORTHOLE_CONFIG: "/nonexistent/porthole.json",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

let work: string;
let tarball: string;
let packed: string[];
let installedCli: string;
let origin: Origin;
/** npx installs a tarball under the npm cache's _npx/; the entries the npx test adds are removed afterwards. */
const npxDir = join(homedir(), ".npm", "_npx");
const npxBefore = new Set(existsSync(npxDir) ? readdirSync(npxDir) : []);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "porthole-package-"));
  // npm resolves `npx ./file.tgz` against the nearest folder with a package.json or node_modules: make it this one,
  // whatever the machine has further up.
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "user-workdir", private: true }));
  origin = await startOrigin();
  // dist/ is already built by the e2e setup; rebuilding here (prepare) would race with the other test files.
  const pack = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: ROOT, env: USER_ENV });
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = info!.filename;
  packed = info!.files.map((f) => f.path);
  const project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true }));
  // The npm cache is warm on this machine; --prefer-offline keeps npm from revalidating every package.
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball)], { cwd: project, env: USER_ENV });
  installedCli = join(project, "node_modules", "porthole", "bin", "porthole.mjs");
}, 90_000);

afterAll(async () => {
  await origin?.close();
  rmSync(work, { recursive: true, force: true });
  for (const entry of existsSync(npxDir) ? readdirSync(npxDir) : []) {
    if (!npxBefore.has(entry)) rmSync(join(npxDir, entry), { recursive: true, force: true });
  }
});

/** Starts a CLI process in its own process group and resolves with its first `ready` event. */
async function startTunnel(command: string, args: string[], cwd: string) {
  const child = spawn(command, args, { cwd, env: USER_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  let ready: { url: string; pathUrl: string } | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = (line.startsWith("{") ? JSON.parse(line) : {}) as { event?: string; url: string; pathUrl: string };
    if (event.event === "ready") {
      ready = event;
      break;
    }
  }
  if (!ready) throw new Error(`${command} ${args.join(" ")} exited before it was ready:\n${stderr.join("\n")}`);
  return { child, ready };
}

/** The processes running the installed package's workerd: the local relay (read from /proc). */
function relayProcesses(): string[] {
  const binary = join(work, "project", "node_modules", "@cloudflare");
  return readdirSync("/proc").filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return /^\d+$/.test(pid) && cmdline.includes(binary) && cmdline.includes("workerd");
    } catch {
      return false;
    }
  });
}

/** Whether any process of the group is still running. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the CLI's process group (npx and the CLI under it) with SIGTERM and waits until all of it is gone. */
async function stop(child: ChildProcess): Promise<void> {
  process.kill(-child.pid!, "SIGTERM");
  await expect.poll(() => groupAlive(child.pid!), { timeout: 20_000 }).toBe(false);
}

it("packs the built CLI, the relay's sources and config, and no tests or dev sources", () => {
  expect(packed).toEqual(
    expect.arrayContaining([
      "bin/porthole.mjs",
      "dist/porthole.mjs",
      "dist/relay-worker.mjs",
      "dist/relay-config.json",
      "worker/index.ts",
      "wrangler.toml",
    ]),
  );
  expect(packed.filter((path) => /^(test|agent-cli|bench|scripts|\.ci)\//.test(path))).toEqual([]);
  const installed = readdirSync(join(work, "project", "node_modules"));
  expect(installed).toContain("wrangler");
  expect(installed.filter((name) => ["vitest", "typescript", "@biomejs", "playwright-core"].includes(name))).toEqual([]);
});

it("runs `porthole <port>` from the installed package on the system Node: the embedded relay starts and carries a request", async () => {
  const { stdout: version } = await run(SYSTEM_NODE, ["--version"]);
  const { child, ready } = await startTunnel(SYSTEM_NODE, [installedCli, String(origin.port), "--json", "--name", "pkg-node"], work);
  try {
    // The relay is the package's own workerd binary, whatever the Node: one process, gone once the CLI stops.
    expect(relayProcesses()).toHaveLength(1);
    const res = await fetchUrl(`${ready.pathUrl}/echo?from=${version.trim()}`, { method: "POST", body: "installed" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "POST", url: `/echo?from=${version.trim()}`, length: 9 });
  } finally {
    await stop(child);
  }
  await expect(fetchUrl(`${ready.pathUrl}/echo`)).rejects.toThrow();
  expect(relayProcesses()).toEqual([]);
}, 60_000);

it("runs `porthole deploy --dry-run` from the installed package on the system Node, offline", async () => {
  const outdir = join(work, "bundle");
  const { stdout } = await run(SYSTEM_NODE, [installedCli, "deploy", "--dry-run", "--json", "--outdir", outdir], {
    cwd: work,
    env: USER_ENV,
  });
  expect(JSON.parse(stdout)).toMatchObject({
    event: "deploy-plan",
    durableObjects: [{ className: "Tunnel" }, { className: "TunnelIndex" }],
    migrations: [{ tag: "v1" }, { tag: "v2" }],
  });
  expect(existsSync(join(outdir, "index.js"))).toBe(true);
}, 60_000);

it("runs `npx ./porthole-<version>.tgz <port>` with the system's npx", async () => {
  const { child, ready } = await startTunnel("npx", ["--yes", `./${tarball}`, String(origin.port), "--json", "--name", "pkg-npx"], work);
  try {
    const res = await fetchUrl(`${ready.url}/echo`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "GET", url: "/echo" });
  } finally {
    await stop(child);
  }
}, 90_000);
