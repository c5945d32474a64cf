// The flags of every command and their parsers. A flag that does not parse is a UsageError:
// printed without a stack, exit code 2.

import type { parseArgs } from "node:util";
import { parseRateLimit } from "../worker/access";
import type { HostHeaderMode } from "../worker/headers";
import { type PolicyInput, parsePolicy } from "../worker/policy";
import { HEARTBEAT_MS, SSE_KEEPALIVE_MS } from "../worker/protocol";

/** Every flag of every command; each command reads the ones it takes. */
export const OPTIONS = {
  relay: { type: "string" },
  token: { type: "string" },
  name: { type: "string" },
  "host-header": { type: "string" },
  force: { type: "boolean" },
  heartbeat: { type: "string" },
  "sse-keepalive": { type: "string" },
  verify: { type: "string", multiple: true },
  "verify-mode": { type: "string" },
  "basic-auth": { type: "string", multiple: true },
  bearer: { type: "string", multiple: true },
  "allow-ip": { type: "string", multiple: true },
  "rate-limit": { type: "string" },
  "capture-bytes": { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  port: { type: "string" },
  domain: { type: "string" },
  zone: { type: "string" },
  "worker-name": { type: "string" },
  "dry-run": { type: "boolean" },
  outdir: { type: "string" },
  "rotate-token": { type: "boolean" },
  grace: { type: "string" },
  follow: { type: "boolean" },
  mcp: { type: "boolean" },
  "mcp-method": { type: "string" },
  limit: { type: "string" },
  method: { type: "string" },
  path: { type: "string" },
  header: { type: "string", multiple: true },
  "body-file": { type: "string" },
  resign: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** The parsed flags. */
export type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** A mistake in how porthole was called: printed without a stack, exit code 2. */
export class UsageError extends Error {}

export function hostHeaderMode(value: string | undefined): HostHeaderMode {
  if (value === undefined || value === "rewrite") return "rewrite";
  if (value === "preserve") return "preserve";
  return { value };
}

export function nonNegative(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} expects a non-negative number, got "${value}".`);
  return n;
}

export function heartbeatMs(value: string): number {
  const ms = Math.round(Number(value) * 1000);
  if (!Number.isFinite(ms) || ms < HEARTBEAT_MS.min || ms > HEARTBEAT_MS.max) {
    throw new UsageError(`--heartbeat expects seconds between ${HEARTBEAT_MS.min / 1000} and ${HEARTBEAT_MS.max / 1000}, got "${value}".`);
  }
  return ms;
}

export function sseKeepaliveMs(value: string): number {
  if (value === "off" || value === "0") return 0;
  const ms = Math.round(Number(value) * 1000);
  if (!Number.isFinite(ms) || ms < SSE_KEEPALIVE_MS.min || ms > SSE_KEEPALIVE_MS.max) {
    const range = `${SSE_KEEPALIVE_MS.min / 1000} and ${SSE_KEEPALIVE_MS.max / 1000}`;
    throw new UsageError(`--sse-keepalive expects seconds between ${range}, or 0 or "off", got "${value}".`);
  }
  return ms;
}

/** The policy from --verify and the access flags; undefined when none is given, which keeps the relay's. */
export function policyFlags(flags: Flags): PolicyInput | undefined {
  const mode = flags["verify-mode"];
  const given = [flags.verify, flags["basic-auth"], flags.bearer, flags["allow-ip"], flags["rate-limit"], mode];
  if (given.every((v) => v === undefined)) return undefined;
  // Checked here too, so a typo fails before connecting.
  try {
    const access = {
      ...(flags["basic-auth"] ? { basicAuth: flags["basic-auth"] } : {}),
      ...(flags.bearer ? { bearer: flags.bearer } : {}),
      ...(flags["allow-ip"] ? { allowIp: flags["allow-ip"] } : {}),
      ...(flags["rate-limit"] ? { rateLimitPerMinute: parseRateLimit(flags["rate-limit"]) } : {}),
    };
    return parsePolicy({ verify: flags.verify ?? [], verifyMode: mode ?? "enforce", access }).input;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
