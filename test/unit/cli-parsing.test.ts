import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configPath, readConfigFile, resolveConnection } from "../../agent-cli/config";
import { randomName } from "../../agent-cli/names";
import { parseTarget } from "../../agent-cli/target";
import { TUNNEL_NAME } from "../../worker/protocol";

describe("parseTarget", () => {
  const local3000 = { protocol: "http:", hostname: "localhost", port: 3000, host: "localhost:3000", origin: "http://localhost:3000" };

  it("takes a bare port as localhost over http", () => {
    expect(parseTarget("3000")).toEqual(local3000);
    expect(parseTarget("  3000 ")).toEqual(local3000);
    expect(parseTarget("65535")).toMatchObject({ port: 65535, host: "localhost:65535" });
    expect(parseTarget("1")).toMatchObject({ port: 1 });
  });

  it("takes host:port", () => {
    expect(parseTarget("localhost:3000")).toEqual(local3000);
    expect(parseTarget("127.0.0.1:8080")).toEqual({
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8080,
      host: "127.0.0.1:8080",
      origin: "http://127.0.0.1:8080",
    });
    expect(parseTarget("my-box.lan:5173")).toMatchObject({ hostname: "my-box.lan", port: 5173 });
  });

  it("takes an http URL", () => {
    expect(parseTarget("http://localhost:3000")).toEqual(local3000);
    expect(parseTarget("http://localhost:3000/")).toEqual(local3000);
    expect(parseTarget("HTTP://LocalHost:3000")).toEqual(local3000);
  });

  it("takes an https URL", () => {
    expect(parseTarget("https://localhost:8443")).toEqual({
      protocol: "https:",
      hostname: "localhost",
      port: 8443,
      host: "localhost:8443",
      origin: "https://localhost:8443",
    });
  });

  it("fills in the scheme's default port", () => {
    expect(parseTarget("https://localhost")).toMatchObject({ protocol: "https:", port: 443, host: "localhost" });
    expect(parseTarget("http://localhost")).toMatchObject({ protocol: "http:", port: 80, host: "localhost" });
  });

  it("takes a bracketed IPv6 address, unbracketing only the hostname", () => {
    const v6 = { protocol: "http:", hostname: "::1", port: 3000, host: "[::1]:3000", origin: "http://[::1]:3000" };
    expect(parseTarget("[::1]:3000")).toEqual(v6);
    expect(parseTarget("http://[::1]:3000")).toEqual(v6);
  });

  for (const garbage of [
    "",
    "   ",
    "abc",
    "localhost",
    ":3000",
    "3000abc",
    "-1",
    "3.5",
    "ftp://localhost:21",
    "localhost:",
    "http//x:1",
    "a b:1",
    "::1:3000",
    "ws://localhost:3000",
  ]) {
    it(`rejects ${JSON.stringify(garbage)} with a message that names the input`, () => {
      expect(() => parseTarget(garbage)).toThrow(`Cannot use "${garbage}" as a target`);
    });
  }

  for (const input of ["0", "localhost:0", "http://localhost:0"]) {
    it(`rejects port 0 in ${JSON.stringify(input)} as out of range`, () => {
      expect(() => parseTarget(input)).toThrow(/Cannot use ".*" as a target: port 0 is out of range/);
    });
  }

  // The documented contract is "Throws with a clear message otherwise"; these currently leak the URL
  // constructor's bare TypeError "Invalid URL", because `new URL` runs before the range check.
  it("rejects a port above 65535 with the clear out-of-range message", () => {
    for (const input of ["65536", "70000", "localhost:99999", "127.0.0.1:65536", "http://localhost:70000", "[::1]:70000"]) {
      expect(() => parseTarget(input), input).toThrow(
        new RegExp(`^Cannot use "${input.replace(/[[\]]/g, "\\$&")}" as a target: port \\d+ is out of range`),
      );
    }
  });

  it("rejects a malformed URL with the clear message naming the input", () => {
    for (const input of ["http://", "https://:3000", "http://a b:1", "http://[zz]:1"]) {
      expect(() => parseTarget(input), input).toThrow(`Cannot use "${input}" as a target`);
    }
  });

  for (const input of [
    "http://localhost:3000/api",
    "https://localhost:8443/a/b",
    "http://localhost:3000?x=1",
    "http://localhost:3000/?x=1",
  ]) {
    it(`rejects the URL with a path or query ${JSON.stringify(input)}`, () => {
      expect(() => parseTarget(input)).toThrow(`Cannot use "${input}" as a target: give an origin without a path.`);
    });
  }

  it("rejects host:port with a path", () => {
    expect(() => parseTarget("localhost:3000/api")).toThrow('Cannot use "localhost:3000/api" as a target');
  });
});

describe("randomName", () => {
  it("is a valid tunnel name shaped adjective-noun-suffix", () => {
    for (let i = 0; i < 500; i++) {
      const name = randomName();
      expect(TUNNEL_NAME.test(name), name).toBe(true);
      // The suffix alphabet leaves out look-alikes: no l, o, 0 or 1.
      expect(name, name).toMatch(/^[a-z]+-[a-z]+-[a-km-np-z2-9]{4}$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  it("gives 1000 (nearly) all distinct names", () => {
    const names = new Set(Array.from({ length: 1000 }, () => randomName()));
    expect(names.size).toBeGreaterThanOrEqual(995);
  });

  it("varies every part", () => {
    const parts = Array.from({ length: 1000 }, () => randomName().split("-"));
    expect(new Set(parts.map((p) => p[0])).size).toBeGreaterThan(20);
    expect(new Set(parts.map((p) => p[1])).size).toBeGreaterThan(20);
    expect(new Set(parts.flatMap((p) => [...(p[2] ?? "")])).size).toBeGreaterThan(25);
  });
});

describe("config precedence: flags > env > file", () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "porthole-config-"));
    file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ relay: "https://file.example", token: "file-token" }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("uses the file when nothing else is set", () => {
    expect(resolveConnection({}, { PORTHOLE_CONFIG: file })).toEqual({ relay: "https://file.example", token: "file-token" });
  });

  it("lets the environment beat the file", () => {
    expect(resolveConnection({}, { PORTHOLE_CONFIG: file, PORTHOLE_RELAY: "https://env.example", PORTHOLE_TOKEN: "env-token" })).toEqual({
      relay: "https://env.example",
      token: "env-token",
    });
  });

  it("lets flags beat the environment and the file", () => {
    expect(
      resolveConnection(
        { relay: "https://flag.example", token: "flag-token" },
        { PORTHOLE_CONFIG: file, PORTHOLE_RELAY: "https://env.example", PORTHOLE_TOKEN: "env-token" },
      ),
    ).toEqual({ relay: "https://flag.example", token: "flag-token" });
  });

  it("resolves each field from its own first source", () => {
    expect(resolveConnection({ token: "flag-token" }, { PORTHOLE_CONFIG: file, PORTHOLE_RELAY: "https://env.example" })).toEqual({
      relay: "https://env.example",
      token: "flag-token",
    });
    expect(resolveConnection({ relay: "https://flag.example" }, { PORTHOLE_CONFIG: file })).toEqual({
      relay: "https://flag.example",
      token: "file-token",
    });
    expect(resolveConnection({}, { PORTHOLE_CONFIG: file, PORTHOLE_TOKEN: "env-token" })).toEqual({
      relay: "https://file.example",
      token: "env-token",
    });
  });

  it("treats an empty environment variable as unset", () => {
    expect(resolveConnection({}, { PORTHOLE_CONFIG: file, PORTHOLE_RELAY: "", PORTHOLE_TOKEN: "" })).toEqual({
      relay: "https://file.example",
      token: "file-token",
    });
  });

  it("reads only the env object it is given, not process.env", () => {
    const saved = process.env.PORTHOLE_RELAY;
    process.env.PORTHOLE_RELAY = "https://process.example";
    try {
      expect(resolveConnection({}, { PORTHOLE_CONFIG: file }).relay).toBe("https://file.example");
    } finally {
      if (saved === undefined) delete process.env.PORTHOLE_RELAY;
      else process.env.PORTHOLE_RELAY = saved;
    }
  });

  it("treats a missing file as an empty config", () => {
    const missing = join(dir, "nope", "config.json");
    expect(readConfigFile(missing)).toEqual({});
    expect(resolveConnection({}, { PORTHOLE_CONFIG: missing })).toEqual({ relay: undefined, token: undefined });
    expect(resolveConnection({}, { PORTHOLE_CONFIG: missing, PORTHOLE_TOKEN: "t" })).toEqual({ relay: undefined, token: "t" });
  });

  it("throws on a broken JSON file, naming the path", () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{"relay": "https://x.example",');
    expect(() => readConfigFile(broken)).toThrow(broken);
    expect(() => resolveConnection({}, { PORTHOLE_CONFIG: broken })).toThrow(`Cannot parse config file ${broken}`);
  });

  it("throws naming the path for JSON null", () => {
    const nul = join(dir, "null.json");
    writeFileSync(nul, "null");
    expect(() => readConfigFile(nul)).toThrow(nul);
  });

  it("throws naming the path when the path cannot be read as a file", () => {
    const sub = join(dir, "a-directory");
    mkdirSync(sub);
    expect(() => readConfigFile(sub)).toThrow(`Cannot read config file ${sub}`);
  });
});

describe("configPath", () => {
  it("prefers PORTHOLE_CONFIG", () => {
    expect(configPath({ PORTHOLE_CONFIG: "/x/y.json", XDG_CONFIG_HOME: "/xdg" })).toBe("/x/y.json");
  });

  it("falls back to $XDG_CONFIG_HOME/porthole/config.json", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/xdg" })).toBe(join("/xdg", "porthole", "config.json"));
  });

  it("falls back to ~/.config/porthole/config.json", () => {
    expect(configPath({})).toBe(join(homedir(), ".config", "porthole", "config.json"));
    expect(configPath({ PORTHOLE_CONFIG: "", XDG_CONFIG_HOME: "" })).toBe(join(homedir(), ".config", "porthole", "config.json"));
  });
});
