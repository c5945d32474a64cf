// Shared checks for the fault-injection tests: what the public client saw, how long the agent took
// to come back, and whether the relay's captures account for every request that was sent.

import type { Response } from "undici";
import { expect } from "vitest";
import { type AgentProcess, fetchUrl, TOKEN } from "./harness";

/** What one capture says about a request, as the captures API lists it. */
type Outcome = { url: string; status: number; outcome: string; state: string };

/** Settles `work` or says it hung: the tests' definition of "a clean error, never a hang". */
export async function within<T>(ms: number, work: Promise<T>): Promise<T | "hang"> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<"hang">((resolve) => {
    timer = setTimeout(() => resolve("hang"), ms);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds from `since` until the agent's `n`th "ready" event (the first is its initial connect). */
export async function readyAgain(agent: AgentProcess, since: number, n = 2, timeoutMs = 20_000): Promise<number> {
  await agent.waitFor(() => agent.events.filter((e) => e.event === "ready").length >= n, timeoutMs);
  return Math.round(performance.now() - since);
}

/** A request body that sends 64 KiB every 20 ms without end; `sent` resolves once `after` chunks left. */
export function endlessUpload(after = 8): { body: ReadableStream<Uint8Array>; sent: Promise<void> } {
  let pulls = 0;
  let reached!: () => void;
  const sent = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 20));
      controller.enqueue(new Uint8Array(64 * 1024));
      pulls += 1;
      if (pulls === after) reached();
    },
  });
  return { body, sent };
}

/** Starts a never-ending upload to `url`; resolves with the response the client got, or the error it saw. */
export async function uploadUntilCut(url: string, cut: () => void): Promise<Response | Error> {
  const upload = endlessUpload();
  const answer = fetchUrl(url, { method: "POST", body: upload.body, duplex: "half" } as never).catch((err: Error) => err);
  await upload.sent;
  cut();
  const got = await within(8000, answer);
  // The body generator never ends by itself; the test is over for it either way.
  await upload.body.cancel().catch(() => {});
  if (got === "hang") throw new Error(`the upload to ${url} neither got an answer nor failed within 8 s of the cut`);
  return got;
}

/** Lists a tunnel's captures through the API. */
export async function captures(relayUrl: string, name: string): Promise<Outcome[]> {
  const res = await fetchUrl(`${relayUrl}/_porthole/api/tunnels/${name}/captures?limit=1000`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { captures: Outcome[] }).captures;
}

/**
 * Waits until every request tagged `req=<tag>` has a finished capture, and checks that the ones the
 * client got a full answer for are captured `ok` and the others with a failure outcome. Returns each
 * tag's outcome.
 */
export async function expectAccounted(relayUrl: string, name: string, sent: Record<string, "answered" | "failed">) {
  const outcomes: Record<string, string> = {};
  await expect
    .poll(
      async () => {
        const list = await captures(relayUrl, name);
        for (const tag of Object.keys(sent)) {
          const found = list.find((c) => new URL(c.url).searchParams.get("req") === tag && c.state === "done");
          if (found) outcomes[tag] = found.outcome;
        }
        return Object.keys(outcomes).sort();
      },
      { timeout: 8000 },
    )
    .toEqual(Object.keys(sent).sort());
  for (const [tag, seen] of Object.entries(sent)) {
    if (seen === "answered") expect(outcomes[tag], `request ${tag}`).toBe("ok");
    else expect(outcomes[tag], `request ${tag}`).not.toBe("ok");
  }
  return outcomes;
}
