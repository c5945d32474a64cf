// A tunnel's API on the test relay, as the policy tests use it (docs/captures-api.md): the capture a
// request produced, found once the relay has stored it, replays of it, and the tunnel's policy.

import { expect } from "vitest";
import { type RelayProcess, TOKEN } from "./harness";
import { call } from "./policy-tunnels";

type Body = { size: number; truncated: boolean; base64: string; text?: string };

/** A capture's detail, with the fields these tests look at. */
export type Capture = {
  id: string;
  replayOf: string | null;
  method: string;
  path: string;
  status: number;
  outcome: string;
  error: string | null;
  state: string;
  requestSize: number;
  clientIp: string;
  verification: { provider: string; ok: boolean; reason: string; mode: "enforce" | "log" } | null;
  request: { headers: [string, string][]; body: Body };
};

/** Calls `/_porthole/api/tunnels/<name><path>` with a JSON body if given, and the relay's token unless told otherwise. */
export function tunnelCall(
  relay: RelayProcess,
  name: string,
  path: string,
  opts: { method?: string; json?: unknown; token?: string } = {},
) {
  const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? TOKEN}` };
  if (opts.json !== undefined) headers["Content-Type"] = "application/json";
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  return call(`${relay.url}/_porthole/api/tunnels/${name}${path}`, { method: opts.method ?? (body ? "POST" : "GET"), headers, body });
}

/** tunnelCall's JSON answer; fails the test on anything but 200. */
export async function tunnelApi<T>(
  relay: RelayProcess,
  name: string,
  path: string,
  opts: { method?: string; json?: unknown } = {},
): Promise<T> {
  const res = await tunnelCall(relay, name, path, opts);
  expect(res.status, `${opts.method ?? "request"} ${path} answered ${res.text}`).toBe(200);
  return JSON.parse(res.text) as T;
}

/** The newest finished capture of `name` that matches, once stored (captures are written when an exchange ends). */
export async function captureWhere(relay: RelayProcess, name: string, match: (c: Capture) => boolean): Promise<Capture> {
  let found: Capture | undefined;
  await expect
    .poll(
      async () => {
        const { captures } = await tunnelApi<{ captures: Capture[] }>(relay, name, "/captures?limit=1000");
        found = captures.find((c) => c.state === "done" && match(c));
        return found !== undefined;
      },
      { timeout: 5000 },
    )
    .toBe(true);
  return tunnelApi<Capture>(relay, name, `/captures/${found!.id}`);
}

/** The newest finished capture of a request to `path` (path and query, as the local server sees it). */
export function captureOf(relay: RelayProcess, name: string, path: string): Promise<Capture> {
  return captureWhere(relay, name, (c) => c.path === path && c.replayOf === null);
}

/** Replays a capture through the API: `{}` sends it verbatim, `{resign: true}` re-signs it first. */
export function replay(relay: RelayProcess, name: string, id: string, edits: Record<string, unknown> = {}) {
  return tunnelApi<{ id: string; status: number }>(relay, name, `/captures/${id}/replay`, { json: edits });
}

/** The first value of a header in a captured header list, case-insensitive. */
export function headerOf(headers: [string, string][], name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}
