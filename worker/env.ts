// The relay's bindings and tunables, read once from wrangler vars and secrets.

/** Bindings declared in wrangler.toml, plus the AGENT_TOKEN secret. */
export type Env = {
  TUNNEL: DurableObjectNamespace;
  INDEX: DurableObjectNamespace<import("./registry").TunnelIndex>;
  AGENT_TOKEN?: string;
  PUBLIC_DOMAIN?: string;
  RECONNECT_GRACE_SECONDS?: string;
  RESPONSE_HEAD_TIMEOUT_SECONDS?: string;
  MAX_REQUEST_BODY_MIB?: string;
};

/** Defaults for every relay tunable; wrangler vars override them. */
export const DEFAULTS = {
  publicDomain: "localhost",
  /** How long new public requests wait for a reconnecting agent before tunnel-offline. */
  reconnectGraceMs: 10_000,
  /** How long the relay waits for the local response head before local-timeout. */
  responseHeadTimeoutMs: 100_000,
  /**
   * The largest public request body the relay forwards. Just below Cloudflare's own limit (100 MB on the free
   * plan), so the relay, not the platform, answers first: with a 413 that names the limit, and a capture.
   */
  maxRequestBodyBytes: 95 * 1024 * 1024,
} as const;

/** Resolved relay settings. */
export type Settings = { publicDomain: string; reconnectGraceMs: number; responseHeadTimeoutMs: number; maxRequestBodyBytes: number };

/** Reads the settings from the environment, falling back to DEFAULTS. */
export function settings(env: Env): Settings {
  return {
    publicDomain: (env.PUBLIC_DOMAIN || DEFAULTS.publicDomain).toLowerCase(),
    reconnectGraceMs: seconds(env.RECONNECT_GRACE_SECONDS) ?? DEFAULTS.reconnectGraceMs,
    responseHeadTimeoutMs: seconds(env.RESPONSE_HEAD_TIMEOUT_SECONDS) ?? DEFAULTS.responseHeadTimeoutMs,
    maxRequestBodyBytes: mebibytes(env.MAX_REQUEST_BODY_MIB) ?? DEFAULTS.maxRequestBodyBytes,
  };
}

function seconds(value: string | undefined): number | undefined {
  const n = nonNegative(value);
  return n === undefined ? undefined : n * 1000;
}

function mebibytes(value: string | undefined): number | undefined {
  const n = nonNegative(value);
  // A limit of 0 would refuse every body: read it as unset rather than as a relay that accepts no uploads.
  return n === undefined || n === 0 ? undefined : Math.floor(n * 1024 * 1024);
}

function nonNegative(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
