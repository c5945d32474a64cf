// The local relay's workerd configuration (Cap'n Proto text), generated from the package's wrangler.toml so the
// local relay and a deployed one run the same Worker with the same bindings. The Worker gets the public socket
// directly: no dev proxy in front, so it sees the client's own Host and its address (request.cf.clientIp).

import type { RelayConfig } from "./relay-config";

/** What one local relay needs beyond wrangler.toml. */
export type WorkerdRelayOptions = {
  /** The bundled Worker's file name, in the same directory as the config. */
  module: string;
  /** Directory for the Durable Objects' SQLite files. */
  storageDir: string;
  /** Plain-text bindings that override or add to wrangler.toml's vars. */
  vars: Record<string, string>;
  /** Bindings read from workerd's environment, so secrets never touch the disk: binding name -> variable name. */
  fromEnvironment: Record<string, string>;
};

/** The name of the socket the relay listens on; `--socket-addr` and the control fd's listen event use it. */
export const RELAY_SOCKET = "http";

/** A Cap'n Proto text literal: printable ASCII, quotes and backslashes escaped, everything else as \xNN bytes. */
export function capnpString(value: string): string {
  let out = '"';
  for (const byte of new TextEncoder().encode(value)) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

/** The relay's Durable Object classes, and which of them use SQLite, from wrangler.toml's migrations. */
function durableObjectClasses(config: RelayConfig): { className: string; sql: boolean }[] {
  const sqlite = new Set(config.migrations?.flatMap((m) => m.new_sqlite_classes ?? []) ?? []);
  const classes = new Set((config.durable_objects?.bindings ?? []).map((b) => b.class_name));
  return [...classes].map((className) => ({ className, sql: sqlite.has(className) }));
}

/** The workerd config for `config` (wrangler.toml as JSON), listening where `--socket-addr` says. */
export function workerdConfig(config: RelayConfig, o: WorkerdRelayOptions): string {
  const date = config.compatibility_date;
  if (typeof date !== "string") throw new Error("Cannot configure the local relay: wrangler.toml has no compatibility_date.");
  const flags = Array.isArray(config.compatibility_flags) ? (config.compatibility_flags as string[]) : [];
  const vars = { ...(config.vars ?? {}), ...o.vars };
  const bindings = [
    ...Object.entries(o.fromEnvironment).map(
      ([name, variable]) => `(name = ${capnpString(name)}, fromEnvironment = ${capnpString(variable)})`,
    ),
    ...Object.entries(vars)
      .filter(([name]) => !(name in o.fromEnvironment))
      .map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`),
    ...(config.durable_objects?.bindings ?? []).map(
      (b) => `(name = ${capnpString(b.name)}, durableObjectNamespace = ${capnpString(b.class_name)})`,
    ),
  ];
  const namespaces = durableObjectClasses(config).map(
    (c) => `(className = ${capnpString(c.className)}, uniqueKey = ${capnpString(`${config.name}-${c.className}`)}, enableSql = ${c.sql})`,
  );
  const list = (items: string[]) => `[\n    ${items.join(",\n    ")},\n  ]`;
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = .relay),
    (name = "storage", disk = (path = ${capnpString(o.storageDir)}, writable = true)),
  ],
  sockets = [(name = ${capnpString(RELAY_SOCKET)}, address = "127.0.0.1:0", http = (), service = "relay")],
);

const relay :Workerd.Worker = (
  modules = [(name = ${capnpString(o.module)}, esModule = embed ${capnpString(o.module)})],
  compatibilityDate = ${capnpString(date)},
  compatibilityFlags = [${flags.map(capnpString).join(", ")}],
  bindings = ${list(bindings)},
  durableObjectNamespaces = ${list(namespaces)},
  durableObjectStorage = (localDisk = "storage"),
);
`;
}
