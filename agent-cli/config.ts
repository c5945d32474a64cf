// Where settings come from: flags, then the environment, then the project's porthole.config.json (found in the
// working directory or a parent), then the user's config file. Both files are validated whole, so a typo fails
// with the file and the field named instead of opening a tunnel without its access rule.

import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type Preset, PresetError, parsePreset } from "./presets";

/** The project file's name, looked up from the working directory to the filesystem root. */
export const PROJECT_FILE = "porthole.config.json";

/** The user's config file: $PORTHOLE_CONFIG, else $XDG_CONFIG_HOME/porthole/config.json, else ~/.config/porthole/config.json. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PORTHOLE_CONFIG || join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "porthole", "config.json");
}

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A validated config file; `tunnels` keeps the file's order. */
export type FileConfig = { relay?: string; token?: string; tunnels?: Map<string, Preset> };

/** Which file it is: the project file may not hold the token, because it is often committed. */
export type FileKind = "user" | "project";

function fail(file: string, field: string | undefined, message: string): ConfigError {
  return new ConfigError(file, field, `Config file ${file}: ${message}`);
}

/** The URL, or undefined when it does not parse (URL.parse is missing before Node 20.18). */
function parseUrl(text: string | undefined): URL | undefined {
  try {
    return text === undefined ? undefined : new URL(text);
  } catch {
    return undefined;
  }
}

/** The relay URL, checked: http or https. */
export function checkRelay(value: unknown, file: string): string {
  const url = typeof value === "string" ? parseUrl(value) : undefined;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw fail(file, "relay", `relay must be an http(s) URL such as "https://relay.example.com", got ${JSON.stringify(value)}`);
  }
  return value as string;
}

/** The token, checked: a non-empty string that fits in a header. Never quoted in the error. */
export function checkToken(value: unknown, file: string): string {
  if (typeof value !== "string" || !/^[\x21-\x7e]+$/.test(value)) {
    throw fail(
      file,
      "token",
      `token must be a non-empty string of visible ASCII characters, got ${typeof value === "string" ? "another string" : JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Validates a parsed config file. Throws ConfigError naming the file and the field. */
export function parseConfig(value: unknown, file: string, kind: FileKind): FileConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw fail(file, undefined, `expected a JSON object, got ${JSON.stringify(value)}`);
  const given = value as Record<string, unknown>;
  const known = kind === "user" ? ["relay", "token", "tunnels"] : ["relay", "tunnels"];
  for (const key of Object.keys(given)) {
    if (key === "token" && kind === "project") {
      throw fail(
        file,
        "token",
        `a project file is often committed, so it may not hold the token: put it in ~/.config/porthole/config.json or PORTHOLE_TOKEN`,
      );
    }
    if (!known.includes(key)) throw fail(file, key, `unknown field "${key}" (expected ${known.join(", ")})`);
  }
  const config: FileConfig = {};
  if (given.relay !== undefined) config.relay = checkRelay(given.relay, file);
  if (given.token !== undefined) config.token = checkToken(given.token, file);
  if (given.tunnels !== undefined) {
    const tunnels = given.tunnels;
    if (typeof tunnels !== "object" || tunnels === null || Array.isArray(tunnels)) {
      throw fail(
        file,
        "tunnels",
        `tunnels must be an object of presets such as {"web": {"target": "3000"}}, got ${JSON.stringify(tunnels)}`,
      );
    }
    config.tunnels = new Map();
    for (const [key, raw] of Object.entries(tunnels)) {
      try {
        config.tunnels.set(key, parsePreset(key, raw));
      } catch (err) {
        if (err instanceof PresetError) throw fail(file, err.field, err.message);
        throw err;
      }
    }
  }
  return config;
}

/** Reads and validates a config file; a missing file is an empty config. */
export function readConfigFile(path: string, kind: FileKind = "user"): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(path, undefined, `Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, undefined, `Cannot parse config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(value, path, kind);
}

/** The nearest porthole.config.json from `cwd` up to the filesystem root, like most tools look for theirs. */
export function findProjectFile(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, PROJECT_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Both config files, read and validated. */
export type LoadedConfig = { user: { path: string; config: FileConfig }; project?: { path: string; config: FileConfig } };

/** Where loadConfig reads from; the defaults are this process's. */
export type LoadOptions = { env?: NodeJS.ProcessEnv; cwd?: string; warn?: (line: string) => void };

const warned = new Set<string>();

/** Says once per file that a token is readable by other users, with the fix. */
function warnIfShared(path: string, config: FileConfig, warn: (line: string) => void): void {
  if (!config.token || process.platform === "win32" || warned.has(path)) return;
  if ((statSync(path).mode & 0o077) === 0) return;
  warned.add(path);
  warn(`porthole: warning: ${path} holds a token and other users can read it; run: chmod 600 ${JSON.stringify(path)}`);
}

/** Reads the user's config file and the project file. Throws ConfigError for a bad one. */
export function loadConfig(o: LoadOptions = {}): LoadedConfig {
  const env = o.env ?? process.env;
  const path = configPath(env);
  const user = { path, config: readConfigFile(path, "user") };
  warnIfShared(path, user.config, o.warn ?? ((line) => process.stderr.write(`${line}\n`)));
  const projectPath = findProjectFile(o.cwd ?? process.cwd());
  return projectPath === undefined ? { user } : { user, project: { path: projectPath, config: readConfigFile(projectPath, "project") } };
}

/** Every preset of both files, in file order; a project preset replaces the user's preset of the same name whole. */
export function presets(loaded: LoadedConfig): Map<string, Preset & { file: string }> {
  const all = new Map<string, Preset & { file: string }>();
  for (const source of [loaded.user, loaded.project]) {
    for (const [key, preset] of source?.config.tunnels ?? []) all.set(key, { ...preset, file: source!.path });
  }
  return all;
}

/** Relay URL and token from flags, then the environment, then the project file (relay only), then the user file. */
export function connection(flags: { relay?: string; token?: string }, env: NodeJS.ProcessEnv, loaded: LoadedConfig) {
  const project = loaded.project;
  const user = loaded.user;
  const explicitRelay = flags.relay ?? (env.PORTHOLE_RELAY || undefined);
  const relay = explicitRelay ?? project?.config.relay ?? user.config.relay;
  const token = flags.token ?? (env.PORTHOLE_TOKEN || undefined) ?? user.config.token;
  // A cloned repository's project file must not redirect the user's token to a relay of its choosing.
  const projectRelay = explicitRelay === undefined && project?.config.relay !== undefined;
  const userToken = flags.token === undefined && !env.PORTHOLE_TOKEN && user.config.token !== undefined;
  if (projectRelay && userToken && parseUrl(relay)?.origin !== parseUrl(user.config.relay)?.origin) {
    throw fail(
      project!.path,
      "relay",
      `relay ${relay} is not the relay the token in ${user.path} is for (${user.config.relay ?? "none named"}); ` +
        "pass --token or set PORTHOLE_TOKEN to use it",
    );
  }
  return { relay, token };
}

/** Relay URL and token, each from the first source that has it. */
export function resolveConnection(
  flags: { relay?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { relay?: string; token?: string } {
  const relay = flags.relay ?? (env.PORTHOLE_RELAY || undefined);
  const token = flags.token ?? (env.PORTHOLE_TOKEN || undefined);
  // The files are read only when something is still missing, so a broken file cannot block explicit settings.
  if (relay !== undefined && token !== undefined) return { relay, token };
  return connection(flags, env, loadConfig({ env, cwd }));
}
