// What `porthole deploy` does with wrangler: builds the relay's config from the package's wrangler.toml, runs
// `wrangler deploy` under the user's own wrangler login, and stores the agent token with `wrangler secret put`.
// wrangler reports through its output file (WRANGLER_OUTPUT_FILE_PATH, one JSON object per line), so the relay
// URL and any failure come from its structured report, not from scraping its terminal output.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { baseRelayConfig, type RelayConfig, writeRelayConfig } from "./relay-config";
import { wranglerCli, wranglerNode } from "./wrangler-node";

/** What to deploy: the Worker's name, and for host mode the tunnels' domain and, optionally, its zone. */
export type DeployTarget = { workerName: string; domain?: string; zone?: string };

/** The route that sends every tunnel host to the relay; wrangler finds the zone on the account unless given. */
function tunnelRoute(t: DeployTarget): RelayConfig["routes"] {
  if (!t.domain) return undefined;
  const pattern = `*.${t.domain}/*`;
  return [t.zone ? { pattern, zone_name: t.zone } : pattern];
}

/** The deploy's wrangler config: wrangler.toml's bindings and migrations, with the name, domain and route set. */
export function deployConfig(t: DeployTarget): RelayConfig {
  const base = baseRelayConfig();
  const config: RelayConfig = { ...base, name: t.workerName, workers_dev: true };
  if (t.domain) {
    config.vars = { ...base.vars, PUBLIC_DOMAIN: t.domain };
    config.routes = tunnelRoute(t);
  }
  return config;
}

/** A failed step of a deploy; the message names the step, the Worker and wrangler's reason. */
export class DeployError extends Error {}

/** One line of wrangler's output file. */
type WranglerReport = { type: string; message?: string; targets?: string[] };

let runs = 0;

/** Runs wrangler in `dir` (beside the generated config) and returns its exit code and structured report. */
async function wrangler(dir: string, args: string[], stdin?: string): Promise<{ code: number; reports: WranglerReport[] }> {
  const output = join(dir, `wrangler-output-${++runs}.jsonl`);
  const env = {
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...process.env,
    WRANGLER_OUTPUT_FILE_PATH: output,
  };
  // wrangler's own lines go to stderr, so porthole's stdout stays its own (--json). stdin stays the terminal, so
  // wrangler can ask its questions (a first login, say), except when it must read a secret from it.
  const child = spawn(wranglerNode(`run wrangler ${args[0]}`), [wranglerCli(), ...args], {
    cwd: dir,
    env,
    stdio: [stdin === undefined ? "inherit" : "pipe", 2, "inherit"],
  });
  child.stdin?.end(stdin);
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  const text = existsSync(output) ? readFileSync(output, "utf8") : "";
  const reports = text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as WranglerReport);
  return { code, reports };
}

/** The error for a failed wrangler step, with wrangler's reason and what to do about it. */
function failure(step: string, workerName: string, code: number, reports: WranglerReport[]): DeployError {
  const reason = reports.findLast((r) => r.type === "command-failed")?.message?.split("\n")[0] ?? `wrangler exited with code ${code}`;
  const hint = /CLOUDFLARE_API_TOKEN|logged in|login|authenticat|auth token/i.test(reason)
    ? 'Log in with "npx wrangler login" (or set CLOUDFLARE_API_TOKEN), then run "porthole deploy" again.'
    : /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(reason)
      ? 'Check this machine\'s connection to Cloudflare, then run "porthole deploy" again.'
      : 'wrangler\'s log (path above) has the details; run "porthole deploy" again once it is fixed.';
  return new DeployError(`Cannot ${step} for relay "${workerName}": ${reason}\n${hint}`);
}

/** The relay's own URL among wrangler's deploy targets: the workers.dev one, where the control plane lives. */
function relayUrl(targets: string[]): string | undefined {
  const urls = targets.filter((t) => /^https:\/\/[^\s/]+\/?$/.test(t)).map((t) => t.replace(/\/$/, ""));
  return urls.find((u) => u.endsWith(".workers.dev")) ?? urls[0];
}

/** The bundle a dry run wrote: wrangler names the main module after the entry point. */
export type Bundle = { path: string; bytes: number };

/** Bundles the relay exactly as a deploy would upload it, into `outdir` (a temporary one if not given). Offline. */
export async function dryRun(t: DeployTarget, outdir?: string): Promise<{ config: RelayConfig; bundle: Bundle }> {
  const config = deployConfig(t);
  const written = writeRelayConfig(config);
  try {
    const out = outdir ?? join(written.dir, "bundle");
    const { code, reports } = await wrangler(written.dir, ["deploy", "--dry-run", "--outdir", out, "--config", written.path]);
    if (code !== 0) throw failure("bundle the Worker", t.workerName, code, reports);
    const path = join(out, "index.js");
    return { config, bundle: { path, bytes: statSync(path).size } };
  } finally {
    written.remove();
  }
}

/** Deploys the relay and stores `token` as its AGENT_TOKEN; returns the relay's URL. Needs wrangler's login. */
export async function deploy(t: DeployTarget, token: string, progress: (line: string) => void): Promise<string> {
  const written = writeRelayConfig(deployConfig(t));
  try {
    progress(`porthole  deploying the relay as Worker "${t.workerName}" with wrangler`);
    const deployed = await wrangler(written.dir, ["deploy", "--config", written.path]);
    if (deployed.code !== 0) throw failure("deploy the Worker", t.workerName, deployed.code, deployed.reports);
    const targets = deployed.reports.findLast((r) => r.type === "deploy")?.targets ?? [];
    const url = relayUrl(targets);
    if (!url) {
      throw new DeployError(
        `Deployed relay "${t.workerName}", but wrangler reported no workers.dev URL for it (targets: ${targets.join(", ") || "none"}). ` +
          'Register a workers.dev subdomain for the account (wrangler offers to on a terminal), then run "porthole deploy" again.',
      );
    }
    progress("porthole  storing the agent token with wrangler secret put AGENT_TOKEN");
    // Stored even when the token is kept: the same value again changes nothing, and it repairs a deleted secret.
    // On stdin, never in argv: other users can read a process's arguments.
    const stored = await wrangler(written.dir, ["secret", "put", "AGENT_TOKEN", "--config", written.path], token);
    if (stored.code !== 0) throw failure("store the agent token (the Worker is deployed)", t.workerName, stored.code, stored.reports);
    return url;
  } finally {
    written.remove();
  }
}
