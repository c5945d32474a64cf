// `porthole deploy` offline: the dry run bundles the relay with the real wrangler and prints the plan; a real
// deploy without a login or a network fails clearly and writes no config. wrangler runs with an empty home and
// the Cloudflare API pointed at a closed loopback port, so nothing can reach an account even on a logged-in machine.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "./harness";

let home: string;
let closedApi: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "porthole-deploy-"));
  // A port that was just free and is closed again: connecting to it is refused at once.
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  closedApi = `http://127.0.0.1:${port}/client/v4`;
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs `porthole deploy` with wrangler's home and porthole's config inside this test's directory. */
async function deploy(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = spawnCli(["deploy", ...args], {
    env: {
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      PORTHOLE_CONFIG: join(home, "porthole.json"),
      CLOUDFLARE_API_BASE_URL: closedApi,
      CLOUDFLARE_API_TOKEN: "",
      CLOUDFLARE_ACCOUNT_ID: "",
      CLOUDFLARE_API_KEY: "",
      CLOUDFLARE_EMAIL: "",
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      ...env,
    },
  });
  const code = await cli.exited;
  return { code, events: cli.events, text: cli.output.join("\n") };
}

/** The names a bundle exports, from the ES module's final `export { … }` statement. */
function exportedNames(bundle: string): string[] {
  const list = /export\s*\{([^}]*)\};?\s*(?:\/\/# sourceMappingURL=\S+\s*)?$/.exec(bundle)?.[1] ?? "";
  return list
    .split(",")
    .map(
      (entry) =>
        entry
          .trim()
          .split(/\s+as\s+/)
          .pop() ?? "",
    )
    .filter(Boolean);
}

describe("porthole deploy --dry-run", () => {
  it("bundles the relay with both Durable Object classes and plans the bindings, migrations, domain and route", async () => {
    const outdir = join(home, "bundle");
    const { code, events, text } = await deploy(["--dry-run", "--json", "--domain", "T.Example.com", "--outdir", outdir]);
    expect(code, text).toBe(0);
    expect(exportedNames(readFileSync(join(outdir, "index.js"), "utf8"))).toEqual(
      expect.arrayContaining(["Tunnel", "TunnelIndex", "default"]),
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: "deploy-plan",
      worker: "porthole-relay",
      bundle: { path: join(outdir, "index.js"), bytes: expect.any(Number) },
      durableObjects: [
        { binding: "TUNNEL", className: "Tunnel" },
        { binding: "INDEX", className: "TunnelIndex" },
      ],
      migrations: [
        { tag: "v1", newSqliteClasses: ["Tunnel"] },
        { tag: "v2", newSqliteClasses: ["TunnelIndex"] },
      ],
      vars: { PUBLIC_DOMAIN: "t.example.com" },
      routes: ["*.t.example.com/*"],
      token: "new",
    });
    // wrangler's own report agrees: it bundled with the Durable Objects and the domain bound.
    expect(text).toMatch(/env\.TUNNEL \(Tunnel\)\s+Durable Object/);
    expect(text).toMatch(/env\.PUBLIC_DOMAIN \("t\.example\.com"\)/);
    expect(existsSync(join(home, "porthole.json"))).toBe(false);
  }, 60_000);

  it("prints the plan for people, with the zone when --zone names it", async () => {
    const { code, events, text } = await deploy([
      "--dry-run",
      "--domain",
      "t.example.com",
      "--zone",
      "example.com",
      "--worker-name",
      "my-relay",
    ]);
    expect(code, text).toBe(0);
    expect(events).toEqual([]);
    expect(text).toContain('deploy plan for Worker "my-relay"');
    expect(text).toContain("TUNNEL → class Tunnel, INDEX → class TunnelIndex");
    expect(text).toContain("v1 new SQLite class Tunnel; v2 new SQLite class TunnelIndex");
    expect(text).toContain("PUBLIC_DOMAIN=t.example.com");
    expect(text).toContain("*.t.example.com/* in zone example.com");
    expect(text).toContain("https://my-relay.<your-subdomain>.workers.dev");
  }, 60_000);

  it("keeps the token an earlier deploy of this Worker saved, unless --rotate-token", async () => {
    writeFileSync(join(home, "porthole.json"), JSON.stringify({ relay: "https://porthole-relay.acme.workers.dev", token: "t".repeat(32) }));
    try {
      expect((await deploy(["--dry-run", "--json"])).events[0]).toMatchObject({
        token: "config",
        vars: { PUBLIC_DOMAIN: "localhost" },
        routes: [],
      });
      expect((await deploy(["--dry-run", "--json", "--rotate-token"])).events[0]).toMatchObject({ token: "new" });
      expect((await deploy(["--dry-run", "--json", "--worker-name", "other-relay"])).events[0]).toMatchObject({ token: "new" });
    } finally {
      rmSync(join(home, "porthole.json"));
    }
  }, 60_000);
});

describe("porthole deploy", () => {
  it("without a wrangler login, fails with wrangler's reason and how to log in, and writes no config", async () => {
    const { code, text } = await deploy([]);
    expect(code, text).toBe(1);
    expect(text).toContain('Cannot deploy the Worker for relay "porthole-relay": In a non-interactive environment');
    expect(text).toContain('Log in with "npx wrangler login"');
    expect(text).not.toMatch(/\n\s+at /);
    expect(existsSync(join(home, "porthole.json"))).toBe(false);
  }, 60_000);

  it("without a network (the API refuses connections), fails naming the cause and writes no config", async () => {
    const { code, text } = await deploy([], { CLOUDFLARE_API_TOKEN: "not-a-real-token", CLOUDFLARE_ACCOUNT_ID: "0".repeat(32) });
    expect(code, text).toBe(1);
    expect(text).toContain('Cannot deploy the Worker for relay "porthole-relay": fetch failed');
    expect(text).toContain("Check this machine's connection to Cloudflare");
    expect(existsSync(join(home, "porthole.json"))).toBe(false);
  }, 60_000);

  it.each([
    [["--zone", "example.com"], /--zone goes with --domain/],
    [["--domain", "t.example.com", "--zone", "other.com"], /--domain t\.example\.com is not in --zone other\.com/],
    [["--domain", "not a domain"], /--domain expects a domain such as t\.example\.com/],
    [["--worker-name", "Bad_Name"], /--worker-name "Bad_Name" is not a Worker name/],
    [["--outdir", "x"], /--outdir goes with --dry-run/],
    [["--token", "short"], /--token must be at least 16 visible ASCII characters/],
    [["--token", "a".repeat(20), "--rotate-token"], /--token and --rotate-token contradict each other/],
    [["now"], /"porthole deploy" takes no arguments/],
  ])("rejects %j before running wrangler, with exit code 2", async (args, message) => {
    const { code, text } = await deploy(args);
    expect(code).toBe(2);
    expect(text).toMatch(message);
    expect(text).not.toContain("wrangler 4.");
  });
});
