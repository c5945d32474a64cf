// Decides where a request goes: a tunnel (host or path mode) or the relay's own control plane.
// The decision is made from the Host first, so a tunnel host can never reach the control plane.

import { TUNNEL_NAME } from "./protocol";

/** What the Tunnel Durable Object needs to know about a request; the worker sets it, never the client. */
export type Route =
  | { kind: "connect"; name: string; url: string; pathUrl: string }
  /** The captures API for this tunnel; `path` is what follows /_porthole/api/tunnels/<name>. */
  | { kind: "control"; name: string; path: string /** When the caller's inspector session ends. */; expiresAt?: number }
  | {
      kind: "public";
      name: string;
      mode: "host" | "path";
      /** Path and query to request on the local server. */
      path: string;
      /** The URL the public client called. */
      publicUrl: string;
      clientIp: string;
      /** Path mode's prefix, sent as X-Forwarded-Prefix. */
      prefix?: string;
    };

/** Internal header carrying the Route from the worker to the Durable Object. */
export const ROUTE_HEADER = "x-porthole-route";

/** The tunnel name when the host is `<name>.<domain>`, else undefined. */
export function tunnelFromHost(hostname: string, domain: string): string | undefined {
  const host = hostname.toLowerCase();
  const suffix = `.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  return TUNNEL_NAME.test(label) ? label : undefined;
}

/** Splits `/t/<name>/rest?q` into the name and the forwarded path `/rest?q`. */
export function tunnelFromPath(url: URL): { name: string; path: string; prefix: string } | undefined {
  const match = /^\/t\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (!match) return undefined;
  const name = match[1] ?? "";
  if (!TUNNEL_NAME.test(name)) return undefined;
  return { name, path: `${match[2] ?? "/"}${url.search}`, prefix: `/t/${name}` };
}

/** The public URLs of a tunnel, built from the relay URL the agent connected to. */
export function tunnelUrls(relay: URL, name: string, domain: string): { url: string; pathUrl: string } {
  const port = relay.port ? `:${relay.port}` : "";
  return { url: `${relay.protocol}//${name}.${domain}${port}`, pathUrl: `${relay.origin}/t/${name}` };
}
