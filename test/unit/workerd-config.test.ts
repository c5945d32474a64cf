// The local relay's workerd config, generated from wrangler.toml: escaping, bindings and Durable Object classes.

import { describe, expect, it } from "vitest";
import { capnpString, workerdConfig } from "../../agent-cli/workerd-config";

const wrangler = {
  name: "porthole-relay",
  main: "worker/index.ts",
  compatibility_date: "2026-11-01",
  vars: { PUBLIC_DOMAIN: "localhost", RECONNECT_GRACE_SECONDS: "10" },
  durable_objects: {
    bindings: [
      { name: "TUNNEL", class_name: "Tunnel" },
      { name: "INDEX", class_name: "TunnelIndex" },
    ],
  },
  migrations: [
    { tag: "v1", new_sqlite_classes: ["Tunnel"] },
    { tag: "v2", new_classes: ["TunnelIndex"] },
  ],
};

describe("capnpString", () => {
  it("escapes quotes and backslashes, and writes every byte outside printable ASCII as \\xNN", () => {
    expect(capnpString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(capnpString("line\nbreak")).toBe('"line\\x0abreak"');
    expect(capnpString("é")).toBe('"\\xc3\\xa9"');
    expect(capnpString('"; sockets = [')).toBe('"\\"; sockets = ["');
  });
});

describe("workerdConfig", () => {
  const config = workerdConfig(wrangler, {
    module: "relay-worker.mjs",
    storageDir: "/tmp/x y",
    vars: { RECONNECT_GRACE_SECONDS: "3", RESPONSE_HEAD_TIMEOUT_SECONDS: "5" },
    fromEnvironment: { AGENT_TOKEN: "PORTHOLE_AGENT_TOKEN" },
  });

  it("binds the token from the environment, never as text, and lets options override wrangler's vars", () => {
    expect(config).toContain('(name = "AGENT_TOKEN", fromEnvironment = "PORTHOLE_AGENT_TOKEN")');
    expect(config).not.toMatch(/AGENT_TOKEN", text/);
    expect(config).toContain('(name = "RECONNECT_GRACE_SECONDS", text = "3")');
    expect(config).not.toContain('(name = "RECONNECT_GRACE_SECONDS", text = "10")');
    expect(config).toContain('(name = "RESPONSE_HEAD_TIMEOUT_SECONDS", text = "5")');
    expect(config).toContain('(name = "PUBLIC_DOMAIN", text = "localhost")');
  });

  it("declares each Durable Object class once, with SQLite only where a migration asked for it", () => {
    expect(config).toContain('(name = "TUNNEL", durableObjectNamespace = "Tunnel")');
    expect(config).toContain('(className = "Tunnel", uniqueKey = "porthole-relay-Tunnel", enableSql = true)');
    expect(config).toContain('(className = "TunnelIndex", uniqueKey = "porthole-relay-TunnelIndex", enableSql = false)');
    expect(config).toContain('disk = (path = "/tmp/x y", writable = true)');
    expect(config).toContain('compatibilityDate = "2026-11-01"');
  });

  it("refuses a wrangler.toml without a compatibility date", () => {
    expect(() =>
      workerdConfig({ ...wrangler, compatibility_date: undefined }, { module: "m", storageDir: "/s", vars: {}, fromEnvironment: {} }),
    ).toThrow(/no compatibility_date/);
  });
});
