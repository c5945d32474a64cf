// The relay's bindings and tunables, read once from wrangler vars and secrets.

/** Bindings declared in wrangler.toml, plus the AGENT_TOKEN secret. */
export type Env = {
  TUNNEL: DurableObjectNamespace;
  INDEX: DurableObjectNamespace<import("./registry").TunnelIndex>;
  AGENT_TOKEN?: string;
  PUBLIC_DOMAIN?: string;
  RECONNECT_GRACE_SECONDS?: string;
  RESPONSE_HEAD_TIMEOUT_SECONDS?: string;
};

/** Defaults for every relay tunable; wrangler vars override them. */
export const DEFAULTS = {
  publicDomain: "localhost",
  /** How long new public requests wait for a reconnecting agent before tunnel-offline. */
  reconnectGraceMs: 10_000,
  /** How long the relay waits for the local response head before local-timeout. */
  responseHeadTimeoutMs: 100_000,
} as const;

/** Resolved relay settings. */
export type Settings = { publicDomain: string; reconnectGraceMs: number; responseHeadTimeoutMs: number };

/** Reads the settings from the environment, falling back to DEFAULTS. */
export function settings(env: Env): Settings {
  return {
    publicDomain: (env.PUBLIC_DOMAIN || DEFAULTS.publicDomain).toLowerCase(),
    reconnectGraceMs: seconds(env.RECONNECT_GRACE_SECONDS) ?? DEFAULTS.reconnectGraceMs,
    responseHeadTimeoutMs: seconds(env.RESPONSE_HEAD_TIMEOUT_SECONDS) ?? DEFAULTS.responseHeadTimeoutMs,
  };
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}
