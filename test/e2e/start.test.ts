// `porthole start`: tunnel presets from a user config file (PORTHOLE_CONFIG) and a project file found from the
// working directory up, run as several tunnels of one real CLI process against a real relay and real origins.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, fetchUrl, hostUrl, type RelayProcess, spawnCli, startAgent, startRelay, TOKEN } from "./harness";
import { type Origin, startOrigin } from "./origin";

let relay: RelayProcess;
let origins: [Origin, Origin];
let root: string;
/** The working directory of the CLI: two levels below the project file, so it is found in a parent. */
let cwd: string;
const running: AgentProcess[] = [];

/** Writes a private JSON file and returns its path. */
function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  chmodSync(path, 0o600);
  return path;
}

/**
 * The built CLI run in `cwd` with the user config file `config`. spawnCli always starts in the repository,
 * so a preload changes directory before the CLI looks for the project file. (NODE_OPTIONS takes double quotes
 * as its own quoting, hence the single ones; a temporary directory's path holds neither.)
 */
function start(args: string[], config: string, env: NodeJS.ProcessEnv = {}): AgentProcess {
  const cli = spawnCli(["start", ...args], {
    env: { PORTHOLE_CONFIG: config, NODE_OPTIONS: `--import=data:text/javascript,process.chdir('${cwd}')`, ...env },
  });
  running.push(cli);
  return cli;
}

/** The Host the origin saw, from its /echo answer: the tunnel rewrites it to the target's, so it names the origin. */
async function echoedHost(url: string): Promise<string> {
  const res = await fetchUrl(`${url}/echo`);
  expect(res.status).toBe(200);
  const { rawHeaders } = (await res.json()) as { rawHeaders: string[] };
  return rawHeaders[rawHeaders.findIndex((h) => h.toLowerCase() === "host") + 1]!;
}

beforeAll(async () => {
  [relay, ...origins] = await Promise.all([startRelay(), startOrigin(), startOrigin()]);
  root = mkdtempSync(join(tmpdir(), "porthole-start-"));
  cwd = join(root, "project", "src", "deep");
  mkdirSync(cwd, { recursive: true });
  writeJson(join(root, "project", "porthole.config.json"), {
    tunnels: { api: { target: `127.0.0.1:${origins[1].port}`, name: "start-api" } },
  });
});

afterAll(async () => {
  await Promise.all(running.map((cli) => cli.kill()));
  await relay?.stop();
  await Promise.all((origins ?? []).map((o) => o?.close()));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("porthole start", () => {
  it("runs a user preset and a project preset from one process, each to its own origin, with --json events naming the tunnel", async () => {
    const config = writeJson(join(root, "user.json"), {
      relay: relay.url,
      token: TOKEN,
      tunnels: { web: { target: String(origins[0].port), name: "start-web" }, unused: { target: "1" } },
    });
    const cli = start(["web", "api", "--json"], config);
    const web = await cli.waitFor((e) => e.event === "ready" && e.tunnel === "web", 30_000);
    const api = await cli.waitFor((e) => e.event === "ready" && e.tunnel === "api");
    expect(web).toMatchObject({ name: "start-web", url: hostUrl(relay, "start-web").replace(/\/$/, "") });
    expect(api).toMatchObject({ name: "start-api" });
    expect(cli.events.filter((e) => e.event === "ready")).toHaveLength(2);
    expect(await echoedHost(String(web.url))).toBe(`localhost:${origins[0].port}`);
    expect(await echoedHost(String(api.pathUrl))).toBe(`127.0.0.1:${origins[1].port}`);
    const exchanges = [
      await cli.waitFor((e) => e.event === "exchange" && e.tunnel === "web"),
      await cli.waitFor((e) => e.event === "exchange" && e.tunnel === "api"),
    ];
    expect(exchanges.map((e) => [e.path, e.status])).toEqual([
      ["/echo", 200],
      ["/echo", 200],
    ]);
    await cli.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("shares one embedded local relay between all presets when none is configured, prefixing each line with the preset", async () => {
    const config = writeJson(join(root, "embedded.json"), { tunnels: { web: { target: String(origins[0].port), name: "emb-web" } } });
    const cli = start([], config);
    await expect.poll(() => cli.output.filter((l) => l.includes("public URL")).length, { timeout: 45_000 }).toBe(2);
    const url = (preset: string) =>
      new RegExp(`^\\[${preset}\\]   public URL  (\\S+)$`).exec(cli.output.find((l) => l.startsWith(`[${preset}]   public URL`))!)![1]!;
    expect(new URL(url("web")).port).toBe(new URL(url("api")).port);
    expect(cli.output.filter((l) => l.includes("embedded local relay"))).toHaveLength(2);
    expect(await echoedHost(url("web"))).toBe(`localhost:${origins[0].port}`);
    expect(await echoedHost(url("api"))).toBe(`127.0.0.1:${origins[1].port}`);
    await expect.poll(() => cli.output.some((l) => /^\[api\] \d\d:\d\d:\d\d {2}GET \/echo → 200/.test(l))).toBe(true);
    await cli.kill("SIGINT");
    await expect(fetchUrl(`${url("web")}/echo`)).rejects.toThrow();
  }, 60_000);

  it("keeps the other tunnels running when one fails, and exits 1 only when all have stopped", async () => {
    const holder = await startAgent(relay, origins[0].port, "start-taken");
    running.push(holder.agent);
    const config = writeJson(join(root, "taken.json"), {
      relay: relay.url,
      token: TOKEN,
      tunnels: {
        taken: { target: String(origins[0].port), name: "start-taken" },
        free: { target: String(origins[0].port), name: "start-free" },
      },
    });
    const cli = start(["taken", "free", "--json"], config);
    const fatal = await cli.waitFor((e) => e.event === "fatal", 30_000);
    expect(fatal).toMatchObject({ tunnel: "taken", code: "name-in-use" });
    const free = await cli.waitFor((e) => e.event === "ready" && e.tunnel === "free");
    await expect.poll(() => cli.output.join("\n")).toContain('tunnel preset "taken" stopped; 1 of 2 still running');
    expect(await echoedHost(String(free.url))).toBe(`localhost:${origins[0].port}`);
    expect(cli.child.exitCode).toBeNull();
    await cli.kill("SIGTERM");

    const alone = start(["taken"], config);
    expect(await alone.exited).toBe(1);
    expect(alone.output.join("\n")).toMatch(/name-in-use/);
  });

  it("rejects an unknown preset with exit code 2, listing the known ones", async () => {
    const config = writeJson(join(root, "names.json"), { relay: relay.url, token: TOKEN, tunnels: { web: { target: "3000" } } });
    const cli = start(["web", "nope"], config);
    expect(await cli.exited).toBe(2);
    expect(cli.output.join("\n")).toContain('Unknown tunnel preset "nope"; the presets are: web, api.');
  });

  it("rejects a tunnel's own flag with exit code 2: it belongs in the preset", async () => {
    const cli = start(["--basic-auth", "ann:pw"], join(root, "names.json"));
    expect(await cli.exited).toBe(2);
    expect(cli.output.join("\n")).toContain('--basic-auth is a tunnel\'s own option: set "basicAuth" in its preset instead.');
  });

  it("exits 1 on a bad config file with a message naming the file and the field", async () => {
    const config = writeJson(join(root, "bad.json"), {
      relay: relay.url,
      token: TOKEN,
      tunnels: { web: { target: "3000", basicAuht: ["a:b"] } },
    });
    const cli = start(["web"], config);
    expect(await cli.exited).toBe(1);
    const out = cli.output.join("\n");
    expect(out).toContain(`porthole: Config file ${config}: tunnels.web has an unknown field "basicAuht"`);
    expect(out).not.toMatch(/\n\s+at /);
  });
});
