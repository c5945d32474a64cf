// Tunnel presets: the "tunnels" of a config file, each the options of one `porthole http`. Every field is
// checked by the same parser as its flag, and an unknown field is an error: a typo such as "basicAuht" must not
// open a tunnel without its access rule.

import { TUNNEL_NAME } from "../worker/protocol";
import type { AgentOptions } from "./agent";
import { type Flags, heartbeatMs, hostHeaderMode, nonNegative, policyFlags, sseKeepaliveMs } from "./flags";
import { parseTarget, type Target } from "./target";

/** One preset, validated: where it forwards, its tunnel name and its options as the flags of `porthole http`. */
export type Preset = { preset: string; name: string; target: Target; flags: Flags };

/** The agent options a tunnel's flags give, beyond relay, token, name and target. */
export type TunnelOptions = Pick<AgentOptions, "hostHeader" | "force" | "heartbeatMs" | "captureBytes" | "sseKeepaliveMs" | "policy">;

/** The agent options from a tunnel's flags; throws the flag's own error (UsageError) when one does not parse. */
export function tunnelOptions(flags: Flags): TunnelOptions {
  return {
    hostHeader: hostHeaderMode(flags["host-header"]),
    force: flags.force,
    heartbeatMs: flags.heartbeat === undefined ? undefined : heartbeatMs(flags.heartbeat),
    captureBytes: flags["capture-bytes"] === undefined ? undefined : nonNegative(flags["capture-bytes"], "--capture-bytes", 0),
    sseKeepaliveMs: flags["sse-keepalive"] === undefined ? undefined : sseKeepaliveMs(flags["sse-keepalive"]),
    policy: policyFlags(flags),
  };
}

type Kind = "string" | "text" | "list" | "number";

/** The JSON type each kind accepts; "text" is a string or a number, as `"60/min"` or `60`. */
const ACCEPTS: Record<Kind, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string" && v !== "",
  text: (v) => (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v)),
  list: (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
  number: (v) => typeof v === "number" && Number.isFinite(v),
};

/** A field's JSON type and, for an option, the flag it stands for (its parser's messages name that flag). */
type Field = { flag?: keyof Flags; kind: Kind; expects: string; secret?: boolean };

/** The preset fields besides target and name: the flag each stands for, and what it takes. */
export const PRESET_FIELDS = {
  hostHeader: { flag: "host-header", kind: "string", expects: '"rewrite", "preserve" or a Host value' },
  verify: { flag: "verify", kind: "list", expects: 'a list of "PROVIDER:SECRET" strings', secret: true },
  verifyMode: { flag: "verify-mode", kind: "string", expects: '"enforce" or "log"' },
  basicAuth: { flag: "basic-auth", kind: "list", expects: 'a list of "user:password" strings', secret: true },
  bearer: { flag: "bearer", kind: "list", expects: "a list of token strings", secret: true },
  allowIp: { flag: "allow-ip", kind: "list", expects: "a list of IP addresses or CIDR ranges" },
  rateLimit: { flag: "rate-limit", kind: "text", expects: 'requests per minute, such as "60/min"' },
  sseKeepalive: { flag: "sse-keepalive", kind: "text", expects: 'seconds, or "off"' },
  captureBytes: { flag: "capture-bytes", kind: "number", expects: "a number of bytes" },
} satisfies Record<string, Field & { flag: keyof Flags }>;

const TARGET: Field = { kind: "text", expects: "a port, host:port or URL" };
const NAME: Field = { kind: "string", expects: "a DNS label (a-z, 0-9 and -, 1 to 63 characters)" };

/** A field of a preset that cannot be used; `field` is its path, such as tunnels.web.target. */
export class PresetError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "PresetError";
  }
}

/** The value as shown in an error: quoted when short, only its type when it may be a secret. */
function shown(value: unknown, secret?: boolean): string {
  if (secret) return Array.isArray(value) ? "a list" : value === null ? "null" : `a ${typeof value}`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Checks the JSON type, then runs the flag's parser; its message is reworded to name the field instead of the flag. */
function check<T>(path: string, value: unknown, field: Field, parse: (v: string & string[]) => T): T {
  if (!ACCEPTS[field.kind](value)) throw new PresetError(path, `${path} must be ${field.expects}, got ${shown(value, field.secret)}`);
  try {
    return parse((field.kind === "list" ? value : String(value)) as string & string[]);
  } catch (err) {
    const message = (err as Error).message.replace(/\.$/, "");
    const flag = field.flag && `--${field.flag}`;
    throw new PresetError(path, flag && message.startsWith(flag) ? `${path}${message.slice(flag.length)}` : `${path}: ${message}`);
  }
}

/** Validates the preset `key` of a config file's "tunnels". Throws PresetError naming the field. */
export function parsePreset(key: string, raw: unknown): Preset {
  const at = `tunnels.${key}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new PresetError(at, `${at} must be an object, got ${shown(raw)}`);
  const given = raw as Record<string, unknown>;
  const known = ["target", "name", ...Object.keys(PRESET_FIELDS)];
  const unknown = Object.keys(given).find((k) => !known.includes(k));
  if (unknown !== undefined)
    throw new PresetError(`${at}.${unknown}`, `${at} has an unknown field "${unknown}" (expected ${known.join(", ")})`);
  if (given.target === undefined) throw new PresetError(`${at}.target`, `${at}.target is missing: give ${TARGET.expects}`);
  const target = check(`${at}.target`, given.target, TARGET, parseTarget);
  // The name defaults to the preset's key, so a preset keeps its URL from one run to the next.
  const name = check(`${at}.name`, given.name ?? key, NAME, (v) => v);
  if (!TUNNEL_NAME.test(name)) {
    const cause = given.name === undefined ? `${at}: the tunnel name defaults to the key "${key}", which` : `${at}.name "${name}"`;
    throw new PresetError(`${at}.name`, `${cause} is not ${NAME.expects}${given.name === undefined ? ': give the preset a "name"' : ""}`);
  }
  const flags: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(PRESET_FIELDS) as [string, Field & { flag: keyof Flags }][]) {
    if (given[field] === undefined) continue;
    const value = check(`${at}.${field}`, given[field], spec, (v) => {
      tunnelOptions({ [spec.flag]: v });
      return v;
    });
    flags[spec.flag] = value;
  }
  return { preset: key, name, target, flags: flags as Flags };
}
