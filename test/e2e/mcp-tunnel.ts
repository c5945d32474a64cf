// The client side of the MCP end-to-end tests: one relay per test file, an agent per fixture
// server, and a fetch the SDK transports can use to reach http://<name>.localhost:<port>/mcp.

import { fetchUrl, hostUrl, type RelayProcess, startAgent, startRelay } from "./harness";

/** The fetch shape both SDK generations accept as their `fetch` option. */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** One exchange as the client saw it. */
export type Exchange = { method: string; requestHeaders: Headers; requestBody: string; status: number; responseHeaders: Headers };

/** A fetch that resolves *.localhost to loopback and records every exchange it makes. */
export function tunnelFetch(): { fetch: FetchLike; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const fetch: FetchLike = async (url, init = {}) => {
    const res = await fetchUrl(String(url), init as Parameters<typeof fetchUrl>[1]);
    exchanges.push({
      method: init.method ?? "GET",
      requestHeaders: new Headers(init.headers),
      requestBody: typeof init.body === "string" ? init.body : "",
      status: res.status,
      responseHeaders: new Headers(res.headers as unknown as Headers),
    });
    return res as unknown as Response;
  };
  return { fetch, exchanges };
}

/** A relay for one test file; `expose` starts an agent for a local port and returns the tunnel's URL for `path`. */
export async function openTunnels() {
  const relay: RelayProcess = await startRelay();
  const agents: Awaited<ReturnType<typeof startAgent>>["agent"][] = [];
  return {
    relay,
    expose: async (port: number, name: string, path = "/mcp", args: string[] = []) => {
      const { agent } = await startAgent(relay, port, name, args);
      agents.push(agent);
      return new URL(hostUrl(relay, name, path));
    },
    stop: async () => {
      await Promise.all(agents.map((a) => a.kill()));
      await relay.stop();
    },
  };
}

/** Resolves with `promise`, or rejects naming what was awaited once `ms` have passed. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
