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

/**
 * OAuth and OpenID discovery documents. For a resource or issuer at `<relay>/t/<name>/<rest>`, RFC 9728
 * and RFC 8414 put the metadata at `<relay>/.well-known/<document>/t/<name>/<rest>`: outside the prefix.
 */
const DISCOVERY = /^\/\.well-known\/(oauth-protected-resource|oauth-authorization-server|openid-configuration)\/t\/([^/]+)(\/.*)?$/;

/**
 * Splits `/t/<name>/rest?q` into the name and the forwarded path `/rest?q`, and maps discovery URLs:
 * `/.well-known/<document>/t/<name>/rest` is the local server's `/.well-known/<document>/rest`.
 */
export function tunnelFromPath(url: URL): { name: string; path: string; prefix: string } | undefined {
  const discovery = DISCOVERY.exec(url.pathname);
  const match = discovery ? null : /^\/t\/([^/]+)(\/.*)?$/.exec(url.pathname);
  const name = discovery?.[2] ?? match?.[1];
  if (name === undefined || !TUNNEL_NAME.test(name)) return undefined;
  const rest = discovery ? `/.well-known/${discovery[1]}${discovery[3] ?? ""}` : (match?.[2] ?? "/");
  return { name, path: `${rest}${url.search}`, prefix: `/t/${name}` };
}

/**
 * The public URLs of a tunnel, built from the relay URL the agent connected to. A deployed (https) relay
 * that kept the default domain `localhost` has no host mode: its public URL is the path URL.
 */
export function tunnelUrls(relay: URL, name: string, domain: string): { url: string; pathUrl: string } {
  const port = relay.port ? `:${relay.port}` : "";
  const pathUrl = `${relay.origin}/t/${name}`;
  const hostMode = domain !== "localhost" || relay.protocol !== "https:";
  return { url: hostMode ? `${relay.protocol}//${name}.${domain}${port}` : pathUrl, pathUrl };
}
