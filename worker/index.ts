// The relay's entry point: it only routes, authenticates and hands off to the Tunnel Durable Object.

import { Hono } from "hono";
import { requireToken, tokensEqual } from "./auth";
import { type Env, settings } from "./env";
import { RelayError } from "./errors";
import { oversizedHeaders } from "./headers";
import { inspectorPage, loginPage } from "./inspector-page";
import { PROTOCOL_VERSION, TUNNEL_NAME } from "./protocol";
import { registry } from "./registry";
import { ROUTE_HEADER, type Route, tunnelFromHost, tunnelFromPath, tunnelUrls } from "./routing";
import { authorizeControl, clearedCookie, hasSession, sessionCookie } from "./session";

export { TunnelIndex } from "./registry";
export { Tunnel } from "./tunnel";

const app = new Hono<{ Bindings: Env }>();

/** Hands a request to the tunnel's Durable Object with the route attached (overwriting any client-sent value). */
function toTunnel(env: Env, request: Request, route: Route): Promise<Response> {
  const forwarded = new Request(request.url, request);
  forwarded.headers.set(ROUTE_HEADER, JSON.stringify(route));
  return env.TUNNEL.get(env.TUNNEL.idFromName(route.name)).fetch(forwarded);
}

/**
 * The client's address. Cloudflare's edge sets CF-Connecting-IP (replacing any a client sent). A local relay's
 * workerd socket gives the peer as request.cf.clientIp ("addr:port"); there the header, when sent, still wins,
 * as it did under wrangler's dev server, which is why the README calls IP rules advisory on a local relay.
 */
function clientIp(request: Request): string {
  const header = request.headers.get("CF-Connecting-IP");
  if (header) return header;
  const peer = (request.cf as { clientIp?: unknown } | undefined)?.clientIp;
  if (typeof peer !== "string") return "";
  return /^\[(.*)\]:\d+$/.exec(peer)?.[1] ?? /^([^:]*):\d+$/.exec(peer)?.[1] ?? peer;
}

// Host mode first: every path on a tunnel host belongs to the tunnel, /_porthole included.
app.use(async (c, next) => {
  const url = new URL(c.req.url);
  const name = tunnelFromHost(url.hostname, settings(c.env).publicDomain);
  if (name === undefined) return next();
  return toTunnel(c.env, c.req.raw, {
    kind: "public",
    name,
    mode: "host",
    path: `${url.pathname}${url.search}`,
    publicUrl: url.href,
    clientIp: clientIp(c.req.raw),
  });
});

app.get("/_porthole/health", (c) => c.json({ ok: true, protocol: PROTOCOL_VERSION }));

app.get("/_porthole/connect", async (c) => {
  await requireToken(c.req.raw, c.env.AGENT_TOKEN, "connect an agent");
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new RelayError("bad-request", "Cannot connect an agent: /_porthole/connect expects a WebSocket upgrade.");
  }
  const name = c.req.query("name") ?? "";
  if (!TUNNEL_NAME.test(name)) {
    throw new RelayError("bad-request", `Cannot connect an agent: tunnel name "${name}" is not a DNS label ([a-z0-9-], 1-63 chars).`);
  }
  const urls = tunnelUrls(new URL(c.req.url), name, settings(c.env).publicDomain);
  return toTunnel(c.env, c.req.raw, { kind: "connect", name, ...urls });
});

// The captures API (docs/captures-api.md): token or session, then the tunnel's own control plane.
app.get("/_porthole/api/tunnels", async (c) => {
  await authorizeControl(c.req.raw, c.env.AGENT_TOKEN, "list tunnels");
  const names = await registry(c.env).names();
  const tunnels = await Promise.all(
    names.map(async (name) => {
      const res = await toTunnel(c.env, new Request(c.req.url), { kind: "control", name, path: "/summary" });
      return res.json();
    }),
  );
  return c.json(tunnels);
});

app.all("/_porthole/api/tunnels/:name/*", async (c) => {
  const name = c.req.param("name");
  const { expiresAt } = await authorizeControl(c.req.raw, c.env.AGENT_TOKEN, `read the captures of tunnel "${name}"`);
  if (!TUNNEL_NAME.test(name)) throw new RelayError("tunnel-not-found", `No tunnel is called "${name}".`);
  const url = new URL(c.req.url);
  const path = url.pathname.slice(`/_porthole/api/tunnels/${name}`.length) + url.search;
  return toTunnel(c.env, c.req.raw, { kind: "control", name, path, ...(expiresAt ? { expiresAt } : {}) });
});

// The inspector: a page the worker serves itself, behind a login that sets the session cookie.
/** Only the page's own scripts run: each is allowed by its hash, so nothing injected could. */
async function inspectorCsp(html: string): Promise<string> {
  const hashes: string[] = [];
  for (const [, script] of html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
    hashes.push(`'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`);
  }
  const scripts = hashes.length > 0 ? hashes.join(" ") : "'none'";
  return (
    `default-src 'none'; script-src ${scripts}; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; ` +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
  );
}

async function page(html: string, status = 200, headers: Record<string, string> = {}): Promise<Response> {
  return new Response(html, {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": await inspectorCsp(html),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      ...headers,
    },
  });
}

app.get("/_porthole/inspect/:name", async (c) => {
  const name = c.req.param("name");
  if (!TUNNEL_NAME.test(name)) throw new RelayError("tunnel-not-found", `No tunnel is called "${name}".`);
  if (await hasSession(c.req.raw, c.env.AGENT_TOKEN)) return page(inspectorPage(name));
  return page(loginPage({ next: `/_porthole/inspect/${name}` }));
});

app.post("/_porthole/login", async (c) => {
  const form = await c.req.formData();
  const token = String(form.get("token") ?? "");
  const wanted = String(form.get("next") ?? "");
  // Only ever back into the inspector: an open redirect here would be a phishing aid.
  const next = /^\/_porthole\/inspect\/[a-z0-9-]+$/.test(wanted) ? wanted : "/_porthole/inspect/";
  if (!c.env.AGENT_TOKEN || !(await tokensEqual(token, c.env.AGENT_TOKEN))) {
    return page(loginPage({ next, error: "That token is not this relay's token." }), 401, { "X-Porthole-Error": "unauthorized" });
  }
  const secure = new URL(c.req.url).protocol === "https:";
  return new Response(null, { status: 303, headers: { Location: next, "Set-Cookie": await sessionCookie(c.env.AGENT_TOKEN, secure) } });
});

app.post("/_porthole/logout", (c) => {
  // Logging someone out from another site is a nuisance, not a breach, but still not allowed.
  const origin = c.req.header("Origin");
  if (origin && origin !== new URL(c.req.url).origin) throw new RelayError("unauthorized", "Cannot log out: cross-site request.");
  return new Response(null, { status: 303, headers: { Location: "/", "Set-Cookie": clearedCookie() } });
});

app.all("/_porthole/*", () => {
  throw new RelayError("bad-request", "Unknown control-plane endpoint.");
});

app.all("/t/*", (c) => toPath(c.env, c.req.raw));
app.all("/.well-known/*", (c) => toPath(c.env, c.req.raw));

/** Path mode: `/t/<name>/…` and the discovery documents that belong to it. */
function toPath(env: Env, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const target = tunnelFromPath(url);
  if (!target) {
    const forms = "/t/<name>/… or /.well-known/<document>/t/<name>/…, where names are DNS labels";
    throw new RelayError("tunnel-not-found", `No tunnel matches "${url.pathname}": path mode serves ${forms}.`);
  }
  return toTunnel(env, request, {
    kind: "public",
    name: target.name,
    mode: "path",
    path: target.path,
    publicUrl: url.href,
    clientIp: clientIp(request),
    prefix: target.prefix,
  });
}

app.all("*", (c) => {
  const domain = settings(c.env).publicDomain;
  throw new RelayError(
    "tunnel-not-found",
    `This is a porthole relay; tunnels live at <name>.${domain} or ${new URL(c.req.url).origin}/t/<name>/.`,
  );
});

app.onError((err) => {
  if (err instanceof RelayError) return err.toResponse();
  console.error(`relay error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return new Response("The relay failed while handling this request.\n", { status: 500 });
});

export default {
  /**
   * Refuses an oversized header block before anything else (HEADER_LIMITS), then routes on the normalised URL.
   * Hono matches on the raw request target, where "/t/x/../../_porthole/api" is still under /t/, while every
   * URL the relay builds from it resolves the dot segments onto the control plane.
   */
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    const href = new URL(request.url).href;
    const oversized = oversizedHeaders(request.headers);
    if (oversized) {
      const target = `${request.method} ${new URL(href).pathname}`.slice(0, 200);
      return new RelayError("headers-too-large", `The relay refused "${target}": ${oversized}.`).toResponse();
    }
    return app.fetch(href === request.url ? request : new Request(href, request), env, ctx);
  },
} satisfies ExportedHandler<Env>;
