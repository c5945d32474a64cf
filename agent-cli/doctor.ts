// `porthole doctor [target]`: checks, in order, what a tunnel needs, and says how to fix what fails:
// the relay answers, it accepts the token, the clocks agree, the local port is open, Node is recent
// enough, and WebSocket upgrades get through to the relay.

import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import WebSocket from "ws";
import { CloseCode } from "../worker/protocol";
import { type Flags, UsageError } from "./flags";
import type { Printer } from "./output";
import { type Answer, checkProtocol, get, type Health, health, networkCause, ProbeError } from "./probe";
import { connectionOf } from "./status";
import { parseTarget, type Target } from "./target";

/** Doctor tunables. */
export const DOCTOR_DEFAULTS = {
  /** Clock skew above this is a warning: webhook handlers compare signed timestamps with the local clock. */
  skewWarnMs: 30_000,
  /** Above this, most webhook SDKs (Stripe, Slack, Standard Webhooks: 5 minutes) reject every delivery. */
  skewFailMs: 300_000,
  localTimeoutMs: 3_000,
  upgradeTimeoutMs: 10_000,
} as const;

/** One check's outcome; `fix` says what to do when it did not pass. */
export type CheckResult = { check: string; status: "pass" | "warn" | "fail" | "skip"; message: string; fix?: string };

type Context = { relay?: string; token?: string; target?: Target; health?: Health; tokenOk?: boolean };

const pass = (check: string, message: string): CheckResult => ({ check, status: "pass", message });
const skip = (check: string, message: string): CheckResult => ({ check, status: "skip", message });
const failed = (check: string, err: ProbeError, status: "fail" | "warn" = "fail"): CheckResult => ({
  check,
  status,
  message: err.message,
  fix: err.fix,
});

async function relayReachable(ctx: Context): Promise<CheckResult> {
  const check = "relay-reachable";
  if (!ctx.relay) return skip(check, "no relay configured: porthole http starts an embedded local relay (pass --relay to check yours)");
  try {
    ctx.health = await health(ctx.relay);
    checkProtocol(ctx.health);
    return pass(check, `${ctx.relay} answered in ${ctx.health.ms} ms (protocol ${ctx.health.protocol})`);
  } catch (err) {
    ctx.health = undefined;
    if (err instanceof ProbeError) return failed(check, err);
    throw err;
  }
}

async function tokenAccepted(ctx: Context): Promise<CheckResult> {
  const check = "token-accepted";
  if (!ctx.relay || !ctx.health) return skip(check, "needs a reachable relay");
  const where = "pass the relay's AGENT_TOKEN with --token, PORTHOLE_TOKEN or the config file";
  if (!ctx.token) return failed(check, new ProbeError("no token is configured for this relay", `${where}.`));
  let res: Answer;
  try {
    res = await get(new URL("/_porthole/api/tunnels", ctx.relay), { Authorization: `Bearer ${ctx.token}` });
  } catch (err) {
    if (err instanceof ProbeError) return failed(check, err);
    throw err;
  }
  ctx.tokenOk = res.status === 200;
  if (ctx.tokenOk) return pass(check, "the relay accepted the token");
  const sentence = res.body.trim().split("\n")[0]?.slice(0, 200) ?? "";
  if (res.status === 401 && res.headers["x-porthole-error"] === "unauthorized") {
    // A relay deployed without its secret refuses every token; the fix is on the relay, not here.
    const unset = /no AGENT_TOKEN/.test(sentence);
    const fix = unset ? "set the relay's secret: wrangler secret put AGENT_TOKEN, then use that value here." : `${where}.`;
    return failed(check, new ProbeError(`the relay refused the token: ${sentence}`, fix));
  }
  return failed(
    check,
    new ProbeError(
      `the relay answered HTTP ${res.status} to an authenticated request: ${sentence}`,
      "check the relay's logs (wrangler tail).",
    ),
  );
}

function clockSkew(ctx: Context): CheckResult {
  const check = "clock-skew";
  const h = ctx.health;
  if (!h) return skip(check, "needs a reachable relay");
  if (h.date === undefined) return skip(check, "the relay sent no Date header (a local workerd relay sends none)");
  // Date has whole seconds: compare with the middle of that second and of the round trip, and allow for both.
  const skew = (h.sentAt + h.receivedAt) / 2 - (h.date + 500);
  const slack = 500 + h.ms / 2;
  const off = Math.max(0, Math.abs(skew) - slack);
  const said = `the local clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} the relay's`;
  if (off <= DOCTOR_DEFAULTS.skewWarnMs)
    return pass(check, `the local clock is within ${Math.ceil((Math.abs(skew) + slack) / 1000)} s of the relay's`);
  const fix =
    "turn on time sync (timedatectl set-ntp true, or the OS clock settings): webhook handlers check signed timestamps with this clock, " +
    "and most reject deliveries more than 5 minutes off.";
  return failed(check, new ProbeError(said, fix), off > DOCTOR_DEFAULTS.skewFailMs ? "fail" : "warn");
}

async function localPort(ctx: Context): Promise<CheckResult> {
  const check = "local-port";
  const t = ctx.target;
  if (!t) return skip(check, 'no target given: "porthole doctor 3000" checks that localhost:3000 accepts connections');
  const where = `${t.hostname}:${t.port}`;
  const error = await new Promise<Error | undefined>((resolve) => {
    const socket = connect({ host: t.hostname, port: t.port, timeout: DOCTOR_DEFAULTS.localTimeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }));
    });
    socket.once("error", resolve);
  });
  if (!error) return pass(check, `${where} accepts connections`);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED") {
    return failed(
      check,
      new ProbeError(`nothing listens on ${where}`, `start your server, or give the port it listens on: porthole http <port>.`),
    );
  }
  return failed(check, networkCause(error, `tcp://${where}`, DOCTOR_DEFAULTS.localTimeoutMs));
}

function nodeVersion(): CheckResult {
  const check = "node-version";
  const version = process.versions.node;
  const install = "install a current Node LTS (nodejs.org, or nvm install --lts)";
  if (Number(version.split(".")[0]) < 20)
    return failed(check, new ProbeError(`Node ${version} is too old: porthole needs Node >= 20`, `${install}.`));
  return pass(check, `Node ${version}`);
}

async function websocketUpgrade(ctx: Context): Promise<CheckResult> {
  const check = "websocket-upgrade";
  if (!ctx.relay || !ctx.health || !ctx.tokenOk) return skip(check, "needs a reachable relay that accepts the token");
  const url = new URL("/_porthole/connect", ctx.relay);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // A name of its own; without a hello the relay never registers it, and the close leaves nothing behind.
  url.searchParams.set("name", `porthole-doctor-${randomBytes(4).toString("hex")}`);
  const started = Date.now();
  const outcome = await new Promise<CheckResult>((resolve) => {
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${ctx.token}` },
      perMessageDeflate: false,
      handshakeTimeout: DOCTOR_DEFAULTS.upgradeTimeoutMs,
    });
    ws.once("open", () => {
      const result = pass(check, `${url.origin}/_porthole/connect upgraded to a WebSocket in ${Date.now() - started} ms`);
      ws.once("close", () => resolve(result));
      ws.close(CloseCode.normal, "porthole doctor");
      setTimeout(() => ws.terminate(), 2_000).unref();
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => {
        // With this listener set, ending the refused request is up to us; left open, it keeps the process alive.
        ws.terminate();
        resolve(upgradeRefused(check, res.statusCode ?? 0, res.headers["x-porthole-error"], body));
      });
    });
    ws.once("error", (err) => resolve(failed(check, upgradeBroken(err, ctx.relay!))));
  });
  return outcome;
}

const PROXY_FIX =
  "let WebSocket upgrades through to the relay's /_porthole/connect (nginx: proxy_http_version 1.1; " +
  'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"), or connect without that proxy.';

function upgradeRefused(check: string, status: number, code: string | string[] | undefined, body: string): CheckResult {
  const sentence = body.trim().split("\n")[0]?.slice(0, 200) ?? "";
  if (code === "bad-request" && /WebSocket upgrade/i.test(sentence)) {
    return failed(
      check,
      new ProbeError("the relay got the request without its Upgrade header: something in between drops WebSocket upgrades", PROXY_FIX),
    );
  }
  if (code)
    return failed(check, new ProbeError(`the relay refused the upgrade: ${sentence} (${code})`, "check the relay's logs (wrangler tail)."));
  return failed(check, new ProbeError(`something other than the relay answered the upgrade with HTTP ${status}`, PROXY_FIX));
}

function upgradeBroken(err: Error, relay: string): ProbeError {
  if (/handshake has timed out/i.test(err.message)) {
    return new ProbeError(`the upgrade got no answer within ${DOCTOR_DEFAULTS.upgradeTimeoutMs / 1000} s`, PROXY_FIX);
  }
  const cause = networkCause(err, relay, DOCTOR_DEFAULTS.upgradeTimeoutMs);
  return new ProbeError(`the upgrade failed: ${cause.message}`, PROXY_FIX);
}

/** The checks, in the order they run; later ones use what earlier ones learned. */
const CHECKS: ((ctx: Context) => CheckResult | Promise<CheckResult>)[] = [
  relayReachable,
  tokenAccepted,
  clockSkew,
  localPort,
  nodeVersion,
  websocketUpgrade,
];

const MARK = { pass: "✓", warn: "!", fail: "✗", skip: "-" } as const;

/** `porthole doctor [target]`: runs every check, printing each as it finishes; 0 when none failed, else 1. */
export async function runDoctor(positionals: string[], flags: Flags, p: Printer): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`"porthole doctor" takes at most one target, got ${positionals.length}.`);
  let target: Target | undefined;
  try {
    target = positionals[0] === undefined ? undefined : parseTarget(positionals[0]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const ctx: Context = { target, ...connectionOf(flags) };
  if (!p.json) p.info(`porthole doctor: relay ${ctx.relay ?? "(none configured: the embedded local relay)"}`);
  let failures = 0;
  for (const run of CHECKS) {
    const result = await run(ctx);
    if (result.status === "fail") failures += 1;
    if (p.json) p.event({ event: "check", ...result });
    else {
      p.info(`${MARK[result.status]} ${result.check.padEnd(18)} ${result.message}`);
      if (result.fix) p.info(`  ${" ".repeat(18)} fix: ${result.fix}`);
    }
  }
  if (!p.json) p.info(failures === 0 ? "No check failed." : `${failures} check${failures === 1 ? "" : "s"} failed.`);
  return failures === 0 ? 0 : 1;
}
