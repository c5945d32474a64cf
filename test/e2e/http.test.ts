// HTTP through the real relay and the real agent: methods, statuses, headers, bodies, both routing modes.

import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, fetchUrl, hostUrl, once, openWebSocket, type RelayProcess, startTunnel, TOKEN } from "./harness";
import { GZIPPED, type Origin } from "./origin";

const NAME = "http-e2e";
let tunnel: Awaited<ReturnType<typeof startTunnel>>;
let relay: RelayProcess;
let origin: Origin;
let agent: AgentProcess;
let pathUrl: string;

beforeAll(async () => {
  tunnel = await startTunnel(NAME);
  ({ relay, origin, agent } = tunnel);
  pathUrl = tunnel.ready.pathUrl;
});

afterAll(() => tunnel?.stop());

type Echo = { method: string; url: string; rawHeaders: string[]; length: number; sha256: string };

function header(rawHeaders: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) out.push(rawHeaders[i + 1] as string);
  return out;
}

describe("routing", () => {
  it("announces a host-mode URL and a path-mode URL", async () => {
    const ready = agent.events.find((e) => e.event === "ready");
    expect(ready).toMatchObject({ name: NAME, url: hostUrl(relay, NAME, "").replace(/\/$/, ""), pathUrl: `${relay.url}/t/${NAME}` });
  });

  it("host mode forwards the full path and query", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo?a=1&b=%20x"));
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("/echo?a=1&b=%20x");
  });

  it("path mode strips /t/<name> and says so in X-Forwarded-Prefix", async () => {
    const res = await fetchUrl(`${pathUrl}/echo?q=2`);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("/echo?q=2");
    expect(header(echo.rawHeaders, "x-forwarded-prefix")).toEqual([`/t/${NAME}`]);
  });

  it("a tunnel host never reaches the control plane", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/_porthole/health"));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("not found");
    expect(res.headers.get("x-porthole-error")).toBeNull();
  });

  it("a path like //evil.example/x stays a path on the configured target", async () => {
    const res = await fetchUrl(`${pathUrl}//evil.example/x`);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("//evil.example/x");
    expect(header(echo.rawHeaders, "host")).toEqual([`localhost:${origin.port}`]);
  });

  it("an unknown tunnel is 404 tunnel-not-found naming it", async () => {
    const res = await fetchUrl(hostUrl(relay, "nobody-here"));
    expect(res.status).toBe(404);
    expect(res.headers.get("x-porthole-error")).toBe("tunnel-not-found");
    expect(await res.text()).toContain('"nobody-here"');
  });
});

describe("requests", () => {
  it.each(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])("%s round-trips with its body", async (method) => {
    const body = method === "GET" ? undefined : `payload for ${method}`;
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo"), { method, body });
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe(method);
    expect(echo.length).toBe(body?.length ?? 0);
  });

  it("adds X-Forwarded-* and rewrites Host to the target by default", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo"), { headers: { "X-Forwarded-For": "203.0.113.7" } });
    const echo = (await res.json()) as Echo;
    const port = new URL(relay.url).port;
    expect(header(echo.rawHeaders, "host")).toEqual([`localhost:${origin.port}`]);
    expect(header(echo.rawHeaders, "x-forwarded-host")).toEqual([`${NAME}.localhost:${port}`]);
    expect(header(echo.rawHeaders, "x-forwarded-proto")).toEqual(["http"]);
    expect(header(echo.rawHeaders, "x-forwarded-for")[0]).toMatch(/^203\.0\.113\.7, \S+$/);
  });

  it("strips hop-by-hop request headers and keeps repeated custom ones", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo"), {
      headers: [
        ["X-Custom", "a"],
        ["X-Custom", "b"],
        ["TE", "trailers"],
        ["Proxy-Authorization", "Basic eDp5"],
      ],
    });
    const echo = (await res.json()) as Echo;
    expect(header(echo.rawHeaders, "x-custom").join(", ")).toBe("a, b");
    expect(header(echo.rawHeaders, "te")).toEqual([]);
    expect(header(echo.rawHeaders, "proxy-authorization")).toEqual([]);
    expect(header(echo.rawHeaders, "connection")).toEqual(["keep-alive"]);
  });

  it("passes non-ASCII header bytes through exactly, without upsetting the agent", async () => {
    // Raw UTF-8 bytes on the wire, as a client written in another language might send them.
    const raw = (text: string) => Buffer.from(text, "utf8").toString("latin1");
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo"), { headers: { "X-Price": raw("5 €"), "X-Name": raw("Zoë") } });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    // Node hands raw header bytes over as latin1; decoding them as UTF-8 must give the original text.
    const utf8 = (v: string | undefined) => Buffer.from(v ?? "", "latin1").toString("utf8");
    expect(utf8(header(echo.rawHeaders, "x-price")[0])).toBe("5 €");
    expect(utf8(header(echo.rawHeaders, "x-name")[0])).toBe("Zoë");
    expect((await fetchUrl(hostUrl(relay, NAME, "/echo"))).status).toBe(200);
  });

  it("sends exact binary request bytes", async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    const res = await fetchUrl(hostUrl(relay, NAME, "/upload"), { method: "POST", body });
    const got = (await res.json()) as { length: number; sha256: string };
    const { createHash } = await import("node:crypto");
    expect(got).toEqual({ length: body.length, sha256: createHash("sha256").update(body).digest("hex") });
  });
});

describe("responses", () => {
  it("keeps several Set-Cookie, repeats and order, and drops hop-by-hop headers", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/headers"));
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; HttpOnly"]);
    expect(res.headers.get("x-multi")).toBe("one, two");
    expect(res.headers.get("x-first")).toBe("1");
    expect(res.headers.get("keep-alive")).toBeNull();
    expect(await res.text()).toBe("headers");
  });

  it.each([200, 201, 400, 404, 418, 500, 503])("status %i passes through", async (status) => {
    const res = await fetchUrl(hostUrl(relay, NAME, `/status/${status}`));
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(`status ${status}`);
    expect(res.headers.get("x-porthole-error")).toBeNull();
  });

  it("204 and 304 have no body", async () => {
    for (const status of [204, 304]) {
      const res = await fetchUrl(hostUrl(relay, NAME, `/status/${status}`));
      expect(res.status).toBe(status);
      expect(await res.text()).toBe("");
    }
  });

  it("HEAD has headers and no body", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/binary"), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(await res.text()).toBe("");
  });

  it("redirects are passed back, never followed", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/redirect"));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/elsewhere");
    expect(await res.text()).toBe("moved");
  });

  it("binary bodies arrive byte-exact with their Content-Length", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/binary"));
    expect(res.headers.get("content-length")).toBe("1024");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(1024);
    expect(bytes.every((b, i) => b === i % 256)).toBe(true);
  });

  it("a small response the local server sent chunked goes out whole, with its length", async () => {
    // The agent packs the head, the body and the end of a response it read at once into one message.
    const res = await fetchUrl(hostUrl(relay, NAME, "/bytes?n=1024"));
    expect(res.headers.get("content-length")).toBe("1024");
    expect((await res.arrayBuffer()).byteLength).toBe(1024);
  });

  it("a large response the local server sent chunked streams, without a length", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/bytes?n=4000000"));
    expect(res.headers.get("content-length")).toBeNull();
    expect((await res.arrayBuffer()).byteLength).toBe(4_000_000);
  });

  it("an already-encoded body passes through untouched", async () => {
    const res = await fetchUrl(hostUrl(relay, NAME, "/gzip"), { headers: { "Accept-Encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    // undici decodes gzip for us; the decoded text proves the bytes were the origin's own gzip stream.
    expect(await res.text()).toBe("compressed hello\n".repeat(50));
    expect(GZIPPED.length).toBeGreaterThan(10);
  });
});

describe("errors the relay answers itself", () => {
  it("a wrong token on the agent endpoint is 401 unauthorized, and no tunnel appears", async () => {
    const ws = openWebSocket(`${relay.url.replace("http", "ws")}/_porthole/connect?name=intruder`, [], {
      headers: { Authorization: "Bearer wrong" },
    });
    const [, res] = (await once(ws, "unexpected-response")) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(401);
    expect(res.headers["x-porthole-error"]).toBe("unauthorized");
    res.resume();
    const after = await fetchUrl(hostUrl(relay, "intruder"));
    expect(after.status).toBe(404);
  });

  it("the right token is required, not just any bearer", async () => {
    const res = await fetchUrl(`${relay.url}/_porthole/connect?name=x`, { headers: { Authorization: `Bearer ${TOKEN}x` } });
    expect(res.status).toBe(401);
  });
});
