// Writing the user's config file (for `porthole deploy`): merged into what is there, private (0600) and atomic,
// so a crash mid-write never leaves a half-written file and the token is never readable by other users.

import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, checkRelay, checkToken, configPath } from "./config";

/** The file's JSON object as it stands (empty when missing); other fields are kept exactly. */
function currentObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(path, undefined, `Cannot update config file ${path}: ${(err as Error).message}`);
  }
  // A file that does not parse is left alone: overwriting it would lose what the user wrote.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      path,
      undefined,
      `Cannot update config file ${path}: it is not JSON (${(err as Error).message}); fix or remove it`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(path, undefined, `Cannot update config file ${path}: it holds ${JSON.stringify(value)}, not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Where to write: through a symlink (a dotfiles manager's, say) to the file it points at, so the link survives. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Merges relay and token into the user's config file and returns its path. Creates the directory (0700),
 * writes a temporary file (0600) beside it and renames it over the old one, which also takes away any
 * group or other access the old file had.
 */
export function writeUserConfig(update: { relay?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const path = realPath(configPath(env));
  const next = currentObject(path);
  if (update.relay !== undefined) next.relay = checkRelay(update.relay, path);
  if (update.token !== undefined) next.token = checkToken(update.token, path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(next, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The umask may have taken bits away, never added them; set the mode exactly anyway.
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new ConfigError(path, undefined, `Cannot write config file ${path}: ${(err as Error).message}`);
  }
  return path;
}
