// Runs the relay Worker locally in workerd (through wrangler), for `porthole relay` and the embedded default.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type LocalRelayOptions = {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  token: string;
  domain?: string;
  graceSeconds?: number;
  headTimeoutSeconds?: number;
};

/** A relay running in this process. */
export type LocalRelay = { url: string; stop: () => Promise<void> };

/** wrangler.toml beside the package root, found from the bundled CLI (dist/) or the sources (agent-cli/). */
function wranglerConfig(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const config = join(here, "..", "wrangler.toml");
  if (!existsSync(config)) throw new Error(`Cannot start a local relay: ${config} is missing.`);
  return config;
}

/** Starts the relay in workerd on 127.0.0.1. wrangler needs Node ≥ 22.12; the agent alone runs on Node 20. */
export async function startLocalRelay(o: LocalRelayOptions): Promise<LocalRelay> {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(
      `Cannot start a local relay on Node ${process.versions.node}: wrangler needs Node >= 22.12. ` +
        "Run through npx/npm (which use the project's Node 22), or pass --relay to use a deployed relay.",
    );
  }
  process.env.WRANGLER_SEND_METRICS ??= "false";
  process.env.WRANGLER_SEND_ERROR_REPORTS ??= "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  process.env.WRANGLER_HIDE_BANNER ??= "true";
  // wrangler's local trace collector writes every event to SQLite and halves the relay's throughput.
  process.env.X_LOCAL_OBSERVABILITY ??= "false";
  const { unstable_startWorker } = await import("wrangler");
  const plain = (value: string) => ({ type: "plain_text" as const, value });
  const bindings: Record<string, unknown> = { AGENT_TOKEN: { type: "secret_text", value: o.token } };
  if (o.domain) bindings.PUBLIC_DOMAIN = plain(o.domain);
  if (o.graceSeconds !== undefined) bindings.RECONNECT_GRACE_SECONDS = plain(String(o.graceSeconds));
  if (o.headTimeoutSeconds !== undefined) bindings.RESPONSE_HEAD_TIMEOUT_SECONDS = plain(String(o.headTimeoutSeconds));
  const worker = await unstable_startWorker({
    config: wranglerConfig(),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: o.port },
      inspector: false,
      persist: false,
      watch: false,
      logLevel: process.env.PORTHOLE_RELAY_LOG ?? "error",
    },
    // biome-ignore lint/suspicious/noExplicitAny: wrangler ships this input type unresolved.
  } as any);
  const url = (await worker.url).origin;
  let stopped: Promise<void> | undefined;
  return { url, stop: () => (stopped ??= worker.dispose()) };
}
