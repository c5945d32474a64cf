// `porthole deploy`: the relay on the user's Cloudflare account, its agent token stored as a Worker secret and in
// the user's config, then the agent command to run. --dry-run bundles the Worker and prints the plan, offline.

import { randomBytes } from "node:crypto";
import { TUNNEL_NAME } from "../worker/protocol";
import { configPath, readConfigFile } from "./config";
import { writeUserConfig } from "./config-write";
import { type DeployTarget, deploy, dryRun } from "./deploy";
import { type Flags, UsageError } from "./flags";
import { type Printer, size } from "./output";
import type { RelayConfig } from "./relay-config";

/** The Worker's name when --worker-name is not given; the README's self-hosting section uses it too. */
const DEFAULT_WORKER = "porthole-relay";

/** A hostname of at least two labels, such as t.example.com. */
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A token agents present: long enough not to be guessed, and visible ASCII so it fits in a header. */
const TOKEN = /^[\x21-\x7e]{16,}$/;

function hostFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const host = value.toLowerCase().replace(/\.$/, "");
  if (!HOSTNAME.test(host)) throw new UsageError(`${flag} expects a domain such as t.example.com, got "${value}".`);
  return host;
}

/** The Worker, domain and zone from the flags. */
function deployTarget(flags: Flags): DeployTarget {
  const workerName = flags["worker-name"] ?? DEFAULT_WORKER;
  if (!TUNNEL_NAME.test(workerName)) {
    throw new UsageError(`--worker-name "${workerName}" is not a Worker name: use a-z, 0-9 and "-", 1 to 63 characters.`);
  }
  const domain = hostFlag(flags.domain, "--domain");
  const zone = hostFlag(flags.zone, "--zone");
  if (zone && !domain) throw new UsageError("--zone goes with --domain: it names the zone the tunnels' domain is in.");
  if (zone && domain !== zone && !domain?.endsWith(`.${zone}`)) throw new UsageError(`--domain ${domain} is not in --zone ${zone}.`);
  if (flags.outdir !== undefined && !flags["dry-run"]) throw new UsageError("--outdir goes with --dry-run: it keeps the bundle there.");
  return { workerName, domain, zone };
}

/** Where the agent token comes from: --token, the config of an earlier deploy of this Worker, or a new one. */
type Token = { value: string; source: "flag" | "config" | "new" };

/**
 * A deployed secret cannot be read back, so an earlier deploy's token is known only from the user's config.
 * It is kept when that config's relay is this Worker, so running agents keep working; --rotate-token replaces it.
 */
function agentToken(flags: Flags, workerName: string): Token {
  if (flags.token !== undefined) {
    if (flags["rotate-token"]) throw new UsageError("--token and --rotate-token contradict each other: pass one.");
    if (!TOKEN.test(flags.token)) throw new UsageError("--token must be at least 16 visible ASCII characters (no spaces).");
    return { value: flags.token, source: "flag" };
  }
  if (!flags["rotate-token"]) {
    const saved = readConfigFile(configPath(), "user");
    if (saved.token && saved.relay && new URL(saved.relay).hostname.startsWith(`${workerName}.`))
      return { value: saved.token, source: "config" };
  }
  return { value: randomBytes(32).toString("base64url"), source: "new" };
}

const TOKEN_PLAN: Record<Token["source"], string> = {
  flag: "the --token given, stored with wrangler secret put AGENT_TOKEN",
  config: "kept from the config (an earlier deploy of this Worker); --rotate-token replaces it",
  new: "a new random token (256 bits), stored with wrangler secret put AGENT_TOKEN",
};

/** The plan, as --json prints it. */
function plan(t: DeployTarget, config: RelayConfig, token: Token, bundle: { path?: string; bytes: number }) {
  return {
    event: "deploy-plan",
    worker: t.workerName,
    bundle,
    durableObjects: (config.durable_objects?.bindings ?? []).map((b) => ({ binding: b.name, className: b.class_name })),
    migrations: (config.migrations ?? []).map((m) => ({ tag: m.tag, newSqliteClasses: m.new_sqlite_classes ?? [] })),
    vars: config.vars ?? {},
    routes: config.routes ?? [],
    relay: `https://${t.workerName}.<your-subdomain>.workers.dev`,
    token: token.source,
    config: configPath(),
  };
}

function printPlan(p: Printer, t: DeployTarget, planned: ReturnType<typeof plan>): void {
  p.info(`porthole  deploy plan for Worker "${t.workerName}" (dry run: nothing was sent to Cloudflare)`);
  p.info(
    `  bundle      ${size(planned.bundle.bytes)}, ${planned.bundle.path ? `kept as ${planned.bundle.path}` : "not kept (--outdir DIR keeps it)"}`,
  );
  p.info(`  objects     ${planned.durableObjects.map((d) => `${d.binding} → class ${d.className}`).join(", ")}`);
  p.info(`  migrations  ${planned.migrations.map((m) => `${m.tag} new SQLite class ${m.newSqliteClasses.join(", ")}`).join("; ")}`);
  const vars = Object.entries(planned.vars).map(([key, value]) => `${key}=${value}`);
  p.info(`  vars        ${vars.join(" ")}`);
  for (const route of planned.routes) {
    const shown =
      typeof route === "string" ? `${route} (wrangler finds its zone on the account)` : `${route.pattern} in zone ${route.zone_name}`;
    p.info(`  route       ${shown}`);
  }
  p.info(`  relay       ${planned.relay}`);
  p.info(`  token       ${TOKEN_PLAN[planned.token]}`);
  p.info(`  config      ${planned.config} gets the relay URL and the token`);
}

function printDeployed(p: Printer, t: DeployTarget, relay: string, token: Token, saved: string): void {
  const elsewhere = `porthole http 3000 --relay ${relay} --token ${token.value}`;
  if (p.json) {
    p.event({ event: "deployed", worker: t.workerName, relay, token: token.value, tokenSource: token.source, config: saved });
    return;
  }
  p.info(`porthole  relay deployed: ${relay}`);
  p.info(`  tunnels     ${t.domain ? `https://<name>.${t.domain}  or  ` : ""}${relay}/t/<name>`);
  p.info(`  token       ${token.source === "config" ? "unchanged" : "set"}; relay and token saved in ${saved}`);
  p.info(`  run         porthole http 3000`);
  p.info(`  elsewhere   ${elsewhere}`);
  if (t.domain) p.info(`  host mode   needs a proxied wildcard DNS record for *.${t.domain} (README, "Self-hosting")`);
}

/** `porthole deploy`: deploys the relay with wrangler, or with --dry-run prints what a deploy would upload. */
export async function runDeploy(args: string[], flags: Flags, p: Printer): Promise<void> {
  if (args.length > 0) throw new UsageError(`"porthole deploy" takes no arguments, got "${args.join(" ")}"; see "porthole deploy --help".`);
  const t = deployTarget(flags);
  const token = agentToken(flags, t.workerName);
  if (flags["dry-run"]) {
    const { config, bundle } = await dryRun(t, flags.outdir);
    const planned = plan(t, config, token, flags.outdir === undefined ? { bytes: bundle.bytes } : bundle);
    if (p.json) p.event(planned);
    else printPlan(p, t, planned);
    return;
  }
  const relay = await deploy(t, token.value, (line) => p.info(line));
  // Written only after the secret is stored, so the config never names a token the relay does not have.
  const saved = writeUserConfig({ relay, token: token.value });
  printDeployed(p, t, relay, token, saved);
}
