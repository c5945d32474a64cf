// The relay's entry point: it only routes, authenticates and hands off to the Tunnel Durable Object.

import { Hono } from "hono";
import { requireToken } from "./auth";
import { type Env, settings } from "./env";
import { RelayError } from "./errors";
import { PROTOCOL_VERSION, TUNNEL_NAME } from "./protocol";
import { ROUTE_HEADER, type Route, tunnelFromHost, tunnelFromPath, tunnelUrls } from "./routing";

export { Tunnel } from "./tunnel";

const app = new Hono<{ Bindings: Env }>();

/** Hands a request to the tunnel's Durable Object with the route attached (overwriting any client-sent value). */
function toTunnel(env: Env, request: Request, route: Route): Promise<Response> {
  const forwarded = new Request(request.url, request);
  forwarded.headers.set(ROUTE_HEADER, JSON.stringify(route));
  return env.TUNNEL.get(env.TUNNEL.idFromName(route.name)).fetch(forwarded);
}

function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? "";
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

app.all("/_porthole/*", () => {
  throw new RelayError("bad-request", "Unknown control-plane endpoint.");
});

app.all("/t/*", (c) => {
  const url = new URL(c.req.url);
  const target = tunnelFromPath(url);
  if (!target) throw new RelayError("tunnel-not-found", `No tunnel matches "${url.pathname}": names are DNS labels.`);
  return toTunnel(c.env, c.req.raw, {
    kind: "public",
    name: target.name,
    mode: "path",
    path: target.path,
    publicUrl: url.href,
    clientIp: clientIp(c.req.raw),
    prefix: target.prefix,
  });
});

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

export default app;
