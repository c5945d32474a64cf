// The captures API of a test relay, as the policy tests read it: the capture a request produced, found
// by path once the relay has stored it, and replays of it (docs/captures-api.md).

import { expect } from "vitest";
import { fetchUrl, type RelayProcess, TOKEN } from "./harness";

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

/** Calls `/_porthole/api/tunnels/<name><path>` with the relay's token; fails the test on anything but 200. */
export async function tunnelApi<T>(relay: RelayProcess, name: string, path: string, body?: unknown): Promise<T> {
  const res = await fetchUrl(`${relay.url}/_porthole/api/tunnels/${name}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, `${body === undefined ? "GET" : "POST"} ${path} answered ${text}`).toBe(200);
  return JSON.parse(text) as T;
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
  return tunnelApi<{ id: string; status: number }>(relay, name, `/captures/${id}/replay`, edits);
}

/** The first value of a header in a captured header list, case-insensitive. */
export function headerOf(headers: [string, string][], name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}
