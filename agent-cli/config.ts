// Resolves relay and token: flags win over the environment, the environment over the config file.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The config file: $PORTHOLE_CONFIG, else ~/.config/porthole/config.json. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PORTHOLE_CONFIG || join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "porthole", "config.json");
}

export type FileConfig = { relay?: string; token?: string };

/** Reads the config file; a missing file is an empty config, a broken one is an error naming the file. */
export function readConfigFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new Error(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as FileConfig;
    return {
      relay: typeof value.relay === "string" ? value.relay : undefined,
      token: typeof value.token === "string" ? value.token : undefined,
    };
  } catch (err) {
    throw new Error(`Cannot parse config file ${path}: ${(err as Error).message}`);
  }
}

/** Relay URL and token, each from the first source that has it. */
export function resolveConnection(
  flags: { relay?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): { relay?: string; token?: string } {
  const relay = flags.relay ?? (env.PORTHOLE_RELAY || undefined);
  const token = flags.token ?? (env.PORTHOLE_TOKEN || undefined);
  // The file is read only when something is still missing, so a broken file cannot block explicit settings.
  if (relay !== undefined && token !== undefined) return { relay, token };
  const file = readConfigFile(configPath(env));
  return { relay: relay ?? file.relay, token: token ?? file.token };
}
