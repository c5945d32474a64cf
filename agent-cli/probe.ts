// Asking a relay how it is, for `porthole status` and `porthole doctor`: its health endpoint, and
// network failures put in words a person can act on (DNS, refused, timeout, TLS, reset).

import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { PROTOCOL_VERSION } from "../worker/protocol";

/** Probe tunables. */
export const PROBE_DEFAULTS = {
  /** A relay that has not answered by then counts as unreachable. */
  timeoutMs: 5_000,
} as const;

/** A relay's answer to GET /_porthole/health, with the timing the clock check needs. */
export type Health = {
  protocol: number;
  /** Round trip of the health request. */
  ms: number;
  sentAt: number;
  receivedAt: number;
  /** The relay's Date header in ms, when it sent one (Cloudflare does; local workerd does not). */
  date?: number;
};

/** Something in the way: what happened, and what to do about it. */
export class ProbeError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "ProbeError";
  }
}

const TLS = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|ERR_TLS|ERR_SSL/;

/** The proxy variables set here; the agent connects directly and uses none of them. */
export function proxyVariables(env: NodeJS.ProcessEnv = process.env): string[] {
  return ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"].filter((k) => env[k]);
}

/** Why a connection to `where` failed, named from the error's code, with the fix. */
export function networkCause(err: unknown, where: string, timeoutMs: number): ProbeError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const host = (() => {
    try {
      return new URL(where).host;
    } catch {
      return where;
    }
  })();
  const proxies = proxyVariables();
  const direct = proxies.length > 0 ? ` porthole connects directly and ignores ${proxies.join(", ")}.` : "";
  if (code === "ETIMEDOUT") {
    return new ProbeError(
      `no answer from ${host} within ${timeoutMs / 1000} s`,
      `a firewall may drop the connection, or the host is down.${direct}`,
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new ProbeError(
      `DNS cannot resolve "${host.replace(/:\d+$/, "")}" (${code})`,
      "check the relay URL's spelling and your network.",
    );
  }
  if (code === "ECONNREFUSED") {
    return new ProbeError(
      `nothing accepts connections at ${host} (ECONNREFUSED)`,
      "start the relay (porthole relay, or wrangler deploy) or fix the port in the URL.",
    );
  }
  if (TLS.test(code)) {
    return new ProbeError(
      `the TLS certificate of ${host} is not trusted (${code})`,
      "use the relay's https URL exactly as wrangler printed it; behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA file.",
    );
  }
  const what = code || (err as Error).message;
  return new ProbeError(`the connection to ${host} failed (${what})`, `check the relay URL and your network.${direct}`);
}

/** A relay's answer, read whole (control-plane answers are small). */
export type Answer = { status: number; headers: IncomingHttpHeaders; body: string; sentAt: number; receivedAt: number };

/**
 * GET through node:http(s), the stack the agent's WebSocket uses, so a check fails where the agent would:
 * fetch has a connection stack of its own and refuses some ports outright.
 */
export function get(url: URL, headers: Record<string, string>, timeoutMs: number = PROBE_DEFAULTS.timeoutMs): Promise<Answer> {
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sentAt, receivedAt: Date.now() }));
      res.on("error", (err) => reject(networkCause(err, url.href, timeoutMs)));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err) => reject(networkCause(err, url.href, timeoutMs)));
    req.end();
  });
}

/** Calls GET /_porthole/health; throws ProbeError when the relay cannot be reached or is not a porthole relay. */
export async function health(relay: string, timeoutMs: number = PROBE_DEFAULTS.timeoutMs): Promise<Health> {
  const url = new URL("/_porthole/health", relay);
  const res = await get(url, {}, timeoutMs);
  let body: { ok?: unknown; protocol?: unknown } = {};
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    // Judged below: not a porthole relay.
  }
  if (res.status !== 200 || body.ok !== true || typeof body.protocol !== "number") {
    throw new ProbeError(
      `${url.origin} answered HTTP ${res.status} on /_porthole/health, not a porthole relay's health`,
      "use the relay's base URL, without a path (the one wrangler deploy printed, such as https://porthole.<you>.workers.dev).",
    );
  }
  const date = Date.parse(String(res.headers.date ?? ""));
  const { sentAt, receivedAt } = res;
  return { protocol: body.protocol, ms: receivedAt - sentAt, sentAt, receivedAt, ...(Number.isNaN(date) ? {} : { date }) };
}

/** Throws ProbeError when the relay speaks another protocol version than this CLI. */
export function checkProtocol(h: Health): void {
  if (h.protocol === PROTOCOL_VERSION) return;
  const older = h.protocol < PROTOCOL_VERSION ? "relay" : "CLI";
  throw new ProbeError(
    `the relay speaks protocol ${h.protocol} and this porthole speaks ${PROTOCOL_VERSION}, so agents cannot connect`,
    older === "relay" ? "redeploy the relay from this version (wrangler deploy)." : "update porthole to the relay's version.",
  );
}
