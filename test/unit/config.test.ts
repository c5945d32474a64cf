// The config files: schema validation with the file and field named, precedence across flags, environment,
// project file and user file, the project file's discovery, and the private, merging write.

import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  connection,
  findProjectFile,
  type LoadedConfig,
  loadConfig,
  PROJECT_FILE,
  presets,
  readConfigFile,
  resolveConnection,
} from "../../agent-cli/config";
import { writeUserConfig } from "../../agent-cli/config-write";
import { tunnelOptions } from "../../agent-cli/presets";

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "porthole-config-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `value` as JSON to a fresh file (mode 0600 unless given) and returns its path. */
function file(value: unknown, name = `config-${++n}.json`, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  chmodSync(path, mode);
  return path;
}

/** The ConfigError reading `value` as a user (or project) file throws. */
function errorOf(value: unknown, kind: "user" | "project" = "user"): ConfigError {
  const path = file(value);
  try {
    readConfigFile(path, kind);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(path);
    expect((err as Error).message.startsWith(`Config file ${path}: `)).toBe(true);
    return err as ConfigError;
  }
  throw new Error(`reading ${JSON.stringify(value)} did not throw`);
}

const web = (preset: Record<string, unknown>) => ({ tunnels: { web: { target: "3000", ...preset } } });

describe("schema: every bad field is an error naming the file and the field", () => {
  it.each([
    [{ relya: "https://x.example" }, "relya", /unknown field "relya" \(expected relay, token, tunnels\)/],
    [{ relay: 42 }, "relay", /relay must be an http\(s\) URL .*, got 42/],
    [{ relay: "ftp://x.example" }, "relay", /relay must be an http\(s\) URL/],
    [{ token: "" }, "token", /token must be a non-empty string/],
    [{ token: ["x"] }, "token", /token must be/],
    [{ tunnels: [] }, "tunnels", /tunnels must be an object of presets/],
    [{ tunnels: { web: "3000" } }, "tunnels.web", /tunnels\.web must be an object, got "3000"/],
    [web({ basicAuht: ["a:b"] }), "tunnels.web.basicAuht", /tunnels\.web has an unknown field "basicAuht"/],
    [{ tunnels: { web: { name: "web" } } }, "tunnels.web.target", /tunnels\.web\.target is missing/],
    [web({ target: true }), "tunnels.web.target", /: tunnels\.web\.target must be a port, host:port or URL, got true$/],
    [web({ target: "3000/x" }), "tunnels.web.target", /tunnels\.web\.target: Cannot use "3000\/x" as a target/],
    [web({ target: 70000 }), "tunnels.web.target", /port 70000 is out of range/],
    [web({ name: "Bad_Name" }), "tunnels.web.name", /tunnels\.web\.name "Bad_Name" is not a DNS label/],
    [
      { tunnels: { My_App: { target: 3000 } } },
      "tunnels.My_App.name",
      /defaults to the key "My_App", which is not a DNS label.*give the preset a "name"/,
    ],
    [web({ hostHeader: 5 }), "tunnels.web.hostHeader", /tunnels\.web\.hostHeader must be "rewrite", "preserve" or a Host value, got 5/],
    [
      web({ verify: "stripe:whsec_x" }),
      "tunnels.web.verify",
      /tunnels\.web\.verify must be a list of "PROVIDER:SECRET" strings, got a string/,
    ],
    [web({ verify: ["nosuch:secret"] }), "tunnels.web.verify", /tunnels\.web\.verify: Invalid --verify "nosuch": unknown provider/],
    [web({ verifyMode: "strict" }), "tunnels.web.verifyMode", /tunnels\.web\.verifyMode: .*"enforce" or "log"/],
    [web({ basicAuth: ["nocolon"] }), "tunnels.web.basicAuth", /tunnels\.web\.basicAuth \(entry 1\)/],
    [web({ bearer: [7] }), "tunnels.web.bearer", /tunnels\.web\.bearer must be a list of token strings, got a list/],
    [web({ allowIp: ["10.0.0.0/33"] }), "tunnels.web.allowIp", /tunnels\.web\.allowIp "10\.0\.0\.0\/33"/],
    [web({ rateLimit: "fast" }), "tunnels.web.rateLimit", /tunnels\.web\.rateLimit "fast": expected requests per minute/],
    [web({ rateLimit: 0 }), "tunnels.web.rateLimit", /tunnels\.web\.rateLimit "0": expected a whole number/],
    [web({ sseKeepalive: "abc" }), "tunnels.web.sseKeepalive", /tunnels\.web\.sseKeepalive expects seconds/],
    [web({ captureBytes: "1MB" }), "tunnels.web.captureBytes", /tunnels\.web\.captureBytes must be a number of bytes, got "1MB"/],
    [web({ captureBytes: -1 }), "tunnels.web.captureBytes", /tunnels\.web\.captureBytes expects a non-negative number/],
  ])("%j → %s", (value, field, message) => {
    const err = errorOf(value);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it("never quotes a secret that has the wrong shape", () => {
    const err = errorOf(web({ bearer: "s3cret-bearer-token" }));
    expect(err.field).toBe("tunnels.web.bearer");
    expect(err.message).not.toContain("s3cret");
    expect(errorOf({ token: "has space" }).message).not.toContain("has space");
  });

  it("refuses a token in the project file, which is often committed", () => {
    const err = errorOf({ token: "t", tunnels: {} }, "project");
    expect(err.field).toBe("token");
    expect(err.message).toMatch(/project file is often committed, so it may not hold the token/);
  });

  it("names the file when it is not JSON, not an object, or not a file", () => {
    const broken = file('{"relay": "https://x.example",');
    expect(() => readConfigFile(broken)).toThrow(`Cannot parse config file ${broken}`);
    expect(errorOf(null).message).toMatch(/expected a JSON object, got null/);
    const sub = join(dir, "a-directory");
    mkdirSync(sub);
    expect(() => readConfigFile(sub)).toThrow(`Cannot read config file ${sub}`);
    expect(readConfigFile(join(dir, "missing.json"))).toEqual({});
  });
});

describe("schema: a valid preset", () => {
  it("becomes the options of `porthole http`, the name defaulting to the key", () => {
    const path = file({
      tunnels: {
        web: { target: 3000 },
        api: {
          target: "https://127.0.0.1:8443",
          name: "my-api",
          hostHeader: "preserve",
          verify: ["github:s3cret"],
          verifyMode: "log",
          basicAuth: ["ann:pw"],
          bearer: ["tok"],
          allowIp: ["10.0.0.0/8"],
          rateLimit: 60,
          sseKeepalive: "off",
          captureBytes: 1024,
        },
      },
    });
    const tunnels = readConfigFile(path).tunnels!;
    expect([...tunnels.keys()]).toEqual(["web", "api"]);
    expect(tunnels.get("web")).toMatchObject({ preset: "web", name: "web", target: { origin: "http://localhost:3000" } });
    const api = tunnels.get("api")!;
    expect(api).toMatchObject({ name: "my-api", target: { origin: "https://127.0.0.1:8443" } });
    expect(tunnelOptions(api.flags)).toEqual({
      hostHeader: "preserve",
      force: undefined,
      heartbeatMs: undefined,
      captureBytes: 1024,
      sseKeepaliveMs: 0,
      policy: {
        verify: ["github:s3cret"],
        verifyMode: "log",
        access: { basicAuth: ["ann:pw"], bearer: ["tok"], allowIp: ["10.0.0.0/8"], rateLimitPerMinute: 60 },
      },
    });
    // A preset without rules keeps the tunnel's policy on the relay, as `porthole http` without flags does.
    expect(tunnelOptions(tunnels.get("web")!.flags).policy).toBeUndefined();
  });
});

/** A loaded config from literal files. */
function loaded(user: unknown, project?: unknown): LoadedConfig {
  const userPath = file(user);
  const projectPath = project === undefined ? undefined : file(project);
  return {
    user: { path: userPath, config: readConfigFile(userPath) },
    project: projectPath === undefined ? undefined : { path: projectPath, config: readConfigFile(projectPath, "project") },
  };
}

describe("precedence: flags > environment > project file > user file", () => {
  const user = {
    relay: "https://user.example",
    token: "user-token",
    tunnels: { web: { target: "3000", basicAuth: ["a:b"] }, db: { target: 5432 } },
  };

  it("takes each of relay and token from its first source", () => {
    const project = loaded(user, { relay: "https://project.example", tunnels: {} });
    const env = { PORTHOLE_RELAY: "https://env.example", PORTHOLE_TOKEN: "env-token" };
    expect(connection({}, {}, loaded(user))).toEqual({ relay: "https://user.example", token: "user-token" });
    expect(connection({}, { PORTHOLE_TOKEN: "env-token" }, project)).toEqual({ relay: "https://project.example", token: "env-token" });
    expect(connection({}, env, project)).toEqual({ relay: "https://env.example", token: "env-token" });
    expect(connection({ relay: "https://flag.example", token: "flag-token" }, env, project)).toEqual({
      relay: "https://flag.example",
      token: "flag-token",
    });
    expect(connection({ token: "flag-token" }, { PORTHOLE_RELAY: "" }, project)).toEqual({
      relay: "https://project.example",
      token: "flag-token",
    });
    // The user's token goes to the project's relay when the user file names the same relay.
    const same = loaded(user, { relay: "https://user.example/" });
    expect(connection({}, {}, same)).toEqual({ relay: "https://user.example/", token: "user-token" });
  });

  it("never sends the user's token to a relay only the project file names", () => {
    const other = loaded(user, { relay: "https://elsewhere.example" });
    expect(() => connection({}, {}, other)).toThrow(ConfigError);
    expect(() => connection({}, {}, other)).toThrow(
      /config-\d+\.json: relay https:\/\/elsewhere\.example is not the relay the token in .* is for \(https:\/\/user\.example\)/,
    );
    expect(connection({}, { PORTHOLE_TOKEN: "env-token" }, other)).toEqual({ relay: "https://elsewhere.example", token: "env-token" });
    expect(connection({ relay: "https://chosen.example" }, {}, other)).toEqual({ relay: "https://chosen.example", token: "user-token" });
  });

  it("lets a project preset replace the user's preset of the same name whole", () => {
    const all = presets(loaded(user, { tunnels: { web: { target: "8080" }, api: { target: 4000 } } }));
    expect([...all.keys()]).toEqual(["web", "db", "api"]);
    expect(all.get("web")!.target.port).toBe(8080);
    expect(all.get("web")!.flags).toEqual({});
    expect(all.get("web")!.file).toMatch(/config-\d+\.json$/);
    expect(all.get("db")!.target.port).toBe(5432);
  });
});

describe("project file discovery", () => {
  it("finds the nearest porthole.config.json from the working directory up", () => {
    const root = mkdtempSync(join(dir, "tree-"));
    const deep = join(root, "a", "b", "c");
    mkdirSync(deep, { recursive: true });
    expect(findProjectFile(deep)).toBeUndefined();
    writeFileSync(join(root, PROJECT_FILE), JSON.stringify({ relay: "https://root.example" }));
    expect(findProjectFile(deep)).toBe(join(root, PROJECT_FILE));
    writeFileSync(join(root, "a", PROJECT_FILE), JSON.stringify({ relay: "https://a.example" }));
    expect(findProjectFile(deep)).toBe(join(root, "a", PROJECT_FILE));
    const env = { PORTHOLE_CONFIG: join(dir, "none.json") };
    expect(loadConfig({ env, cwd: deep }).project?.config.relay).toBe("https://a.example");
    expect(resolveConnection({}, env, deep)).toEqual({ relay: "https://a.example", token: undefined });
    expect(resolveConnection({}, env, join(root, "..")).relay).toBeUndefined();
  });
});

describe("a token readable by others", () => {
  it("is warned about once, with the chmod command", () => {
    const shared = file({ token: "t" }, "shared.json", 0o644);
    const lines: string[] = [];
    const warn = (line: string) => lines.push(line);
    loadConfig({ env: { PORTHOLE_CONFIG: shared }, cwd: dir, warn });
    loadConfig({ env: { PORTHOLE_CONFIG: shared }, cwd: dir, warn });
    expect(lines).toEqual([`porthole: warning: ${shared} holds a token and other users can read it; run: chmod 600 "${shared}"`]);
  });

  it("is not warned about when the file is private or holds no token", () => {
    const lines: string[] = [];
    loadConfig({ env: { PORTHOLE_CONFIG: file({ token: "t" }, "private.json", 0o600) }, cwd: dir, warn: (l) => lines.push(l) });
    loadConfig({
      env: { PORTHOLE_CONFIG: file({ relay: "https://x.example" }, "open.json", 0o644) },
      cwd: dir,
      warn: (l) => lines.push(l),
    });
    expect(lines).toEqual([]);
  });
});

describe("writeUserConfig", () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  it("creates the directory and a file of mode 0600", () => {
    const xdg = join(dir, "xdg");
    const path = writeUserConfig({ relay: "https://relay.example", token: "t0ken" }, { XDG_CONFIG_HOME: xdg });
    expect(path).toBe(join(xdg, "porthole", "config.json"));
    expect(mode(path)).toBe(0o600);
    expect(statSync(join(xdg, "porthole")).mode & 0o077).toBe(0);
    expect(readConfigFile(path)).toEqual({ relay: "https://relay.example", token: "t0ken" });
  });

  it("merges into the file, keeping its other fields, and makes an open file private", () => {
    const path = file({ relay: "https://old.example", tunnels: { web: { target: 3000 } } }, "merge.json", 0o644);
    writeUserConfig({ token: "new-token" }, { PORTHOLE_CONFIG: path });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      relay: "https://old.example",
      token: "new-token",
      tunnels: { web: { target: 3000 } },
    });
    expect(mode(path)).toBe(0o600);
    writeUserConfig({ relay: "https://new.example" }, { PORTHOLE_CONFIG: path });
    expect(readConfigFile(path)).toMatchObject({ relay: "https://new.example", token: "new-token" });
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("writes through a symlink to the file it points at", () => {
    const real = file({ relay: "https://old.example" }, "real.json", 0o600);
    const link = join(dir, "link.json");
    symlinkSync(real, link);
    writeUserConfig({ token: "t" }, { PORTHOLE_CONFIG: link });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readConfigFile(real)).toEqual({ relay: "https://old.example", token: "t" });
  });

  it("leaves a file it cannot parse alone, and refuses a bad relay", () => {
    const broken = file("{ not json", "broken-write.json", 0o644);
    expect(() => writeUserConfig({ token: "t" }, { PORTHOLE_CONFIG: broken })).toThrow(`Cannot update config file ${broken}`);
    expect(readFileSync(broken, "utf8")).toBe("{ not json");
    const fresh = join(dir, "never", "config.json");
    expect(() => writeUserConfig({ relay: "not a url" }, { PORTHOLE_CONFIG: fresh })).toThrow(/relay must be an http\(s\) URL/);
    expect(existsSync(fresh)).toBe(false);
  });
});
