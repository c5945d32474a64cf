// `porthole captures` and `porthole replay` as a user runs them: the real relay, a real agent and origin,
// and the CLI as a child process reading the relay's captures API.

import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AgentProcess, fetchUrl, hostUrl, once, type RelayProcess, spawnCli, startAgent, startRelay, TOKEN } from "./harness";
import { type Origin, startOrigin } from "./origin";

const NAME = "captures-cli";

let relay: RelayProcess;
let origin: Origin;
let agent: AgentProcess;

beforeAll(async () => {
  [relay, origin] = await Promise.all([startRelay(), startOrigin()]);
  ({ agent } = await startAgent(relay, origin.port, NAME));
});

afterAll(async () => {
  await agent?.kill();
  await relay?.stop();
  await origin?.close();
});

type Summary = { id: string; replayOf: string | null; method: string; path: string; status: number; outcome: string; state: string };
type Echo = { method: string; url: string; rawHeaders: string[]; length: number; sha256: string };

/** Runs the CLI against the test relay and waits until its output is fully read. */
async function run(args: string[], connection = ["--relay", relay.url, "--token", TOKEN]) {
  const cli = spawnCli([...args, ...connection]);
  const [code] = (await once(cli.child, "close")) as [number | null];
  return { code, events: cli.events, text: cli.output.join("\n") };
}

/** A request through the tunnel, then its capture once the relay has stored it. */
async function capturedRequest(path: string, init: Parameters<typeof fetchUrl>[1] = {}): Promise<Summary> {
  const res = await fetchUrl(hostUrl(relay, NAME, path), init);
  await res.arrayBuffer();
  let found: Summary | undefined;
  await expect
    .poll(
      async () => {
        found = ((await api(`/captures?limit=20`)) as { captures: Summary[] }).captures.find((c) => c.path === path && c.state === "done");
        return found;
      },
      { timeout: 10_000 },
    )
    .toBeDefined();
  return found!;
}

/** The captures API of the test tunnel, read directly; undefined for a 404. */
async function api(path: string): Promise<unknown> {
  const res = await fetch(`${relay.url}/_porthole/api/tunnels/${NAME}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return res.json();
}

/** What the origin's /echo saw for the replay with this capture id, once the relay has stored it. */
async function replayEcho(id: string): Promise<{ replayOf: string | null; echo: Echo }> {
  type Detail = { replayOf: string | null; state: string; response: { body: { text: string } } };
  let capture: Detail | undefined;
  await expect
    .poll(
      async () => {
        capture = (await api(`/captures/${id}`)) as Detail | undefined;
        return capture?.state;
      },
      { timeout: 10_000 },
    )
    .toBe("done");
  return { replayOf: capture!.replayOf, echo: JSON.parse(capture!.response.body.text) as Echo };
}

function header(echo: Echo, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < echo.rawHeaders.length; i += 2) if (echo.rawHeaders[i]!.toLowerCase() === name) values.push(echo.rawHeaders[i + 1]!);
  return values;
}

it("lists a request made through the tunnel, as lines and as JSON summaries", async () => {
  const capture = await capturedRequest("/echo?list=1", { method: "POST", body: "hi" });

  const json = await run(["captures", NAME, "--json"]);
  expect(json.code).toBe(0);
  expect(json.events.find((e) => e.id === capture.id)).toMatchObject({
    method: "POST",
    path: "/echo?list=1",
    status: 200,
    outcome: "ok",
    state: "done",
    requestSize: 2,
    replayOf: null,
  });
  // Newest first.
  const ids = json.events.map((e) => String(e.id));
  expect(ids).toEqual([...ids].sort().reverse());

  const human = await run(["captures", NAME]);
  expect(human.code).toBe(0);
  const line = human.text.split("\n").find((l) => l.includes(capture.id));
  expect(line).toMatch(/^\d\d:\d\d:\d\d {2}POST \/echo\?list=1 → 200 {2}[\d.]+ ms {2}↑2 B ↓\d+ B {2}/);
});

it("--limit caps the list", async () => {
  await capturedRequest("/echo?limit=1");
  await capturedRequest("/echo?limit=2");
  const { code, events } = await run(["captures", NAME, "--json", "--limit", "1"]);
  expect(code).toBe(0);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ path: "/echo?limit=2" });
});

it("without NAME, lists the relay's only tunnel", async () => {
  const capture = await capturedRequest("/echo?only=1");
  const { code, events } = await run(["captures", "--json"]);
  expect(code).toBe(0);
  expect(events.map((e) => e.id)).toContain(capture.id);
});

it("--follow --json prints the backlog once, then a line when a new request completes, until Ctrl-C", async () => {
  const before = await capturedRequest("/echo?before-follow=1");
  const cli = spawnCli(["captures", NAME, "--follow", "--json", "--relay", relay.url, "--token", TOKEN]);
  try {
    // The backlog is printed once the feed is open, so a request made now cannot go unseen.
    await cli.waitFor((e) => e.id === before.id);
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo?follow=1"), { method: "PUT", body: "live" });
    expect(res.status).toBe(200);
    const live = await cli.waitFor((e) => e.path === "/echo?follow=1");
    expect(live).toMatchObject({ method: "PUT", status: 200, outcome: "ok", state: "done", requestSize: 4 });
    expect(cli.events.filter((e) => e.id === before.id)).toHaveLength(1);
    expect(cli.events.filter((e) => e.id === live.id)).toHaveLength(1);
  } finally {
    await cli.kill("SIGINT");
  }
  expect(await cli.exited).toBe(0);
});

it("replay sends the capture again as it was; the new capture names the original", async () => {
  const original = await capturedRequest("/echo?replay=1", { method: "POST", body: "payload", headers: { "X-Custom": "kept" } });

  const json = await run(["replay", original.id, NAME, "--json"]);
  expect(json.code).toBe(0);
  const replayed = json.events[0]!;
  expect(replayed).toMatchObject({ replayOf: original.id, status: 200 });
  expect(replayed.id).not.toBe(original.id);
  const { replayOf, echo } = await replayEcho(String(replayed.id));
  expect(replayOf).toBe(original.id);
  expect(echo).toMatchObject({ method: "POST", url: "/echo?replay=1", length: 7 });
  expect(header(echo, "x-custom")).toEqual(["kept"]);

  // As a line, and with the only tunnel picked: the list shows the replay as such.
  const human = await run(["replay", original.id]);
  expect(human.code).toBe(0);
  const newId = new RegExp(`^replayed ${original.id} → (\\S+): 200$`, "m").exec(human.text)?.[1];
  expect(newId).toBeDefined();
  await expect.poll(async () => (await run(["captures", NAME])).text, { timeout: 10_000 }).toContain(`${newId} (replay of ${original.id})`);
});

it("replay with --method, --path, --header and --body-file reaches the origin edited", async () => {
  const original = await capturedRequest("/echo?original=1", {
    method: "POST",
    body: "original body",
    headers: { "X-Keep": "k", "X-Replace": "old", "X-Drop": "1" },
  });
  const body = Buffer.from("edited body \u00e9\u0000\u00ff");
  const file = join(mkdtempSync(join(tmpdir(), "porthole-replay-")), "body.bin");
  writeFileSync(file, body);

  const args = ["replay", original.id, NAME, "--json", "--method", "PUT", "--path", "/echo?edited=1"];
  args.push("--header", "X-Added:yes", "--header", "x-replace: new", "--header", "X-Drop:", "--body-file", file);
  const { code, events, text } = await run(args);
  expect(code, text).toBe(0);
  expect(events[0]).toMatchObject({ replayOf: original.id, status: 200 });

  const { replayOf, echo } = await replayEcho(String(events[0]!.id));
  expect(replayOf).toBe(original.id);
  expect(echo).toMatchObject({ method: "PUT", url: "/echo?edited=1", length: body.length });
  expect(echo.sha256).toBe(createHash("sha256").update(body).digest("hex"));
  expect(header(echo, "x-added")).toEqual(["yes"]);
  expect(header(echo, "x-replace")).toEqual(["new"]);
  expect(header(echo, "x-keep")).toEqual(["k"]);
  expect(header(echo, "x-drop")).toEqual([]);
});

it("a capture that does not exist fails with the relay's sentence and exit code 1", async () => {
  const { code, text } = await run(["replay", "000000000000-000000", NAME]);
  expect(code).toBe(1);
  expect(text).toMatch(/capture-not-found/);
  expect(text).not.toMatch(/\n\s+at /);
});

it.each([
  ["captures", [NAME]],
  ["replay", ["000000000000-000000", NAME]],
])("%s with a wrong token fails as unauthorized with exit code 1", async (command, args) => {
  const { code, text } = await run([command, ...args], ["--relay", relay.url, "--token", "wrong-token"]);
  expect(code).toBe(1);
  expect(text).toMatch(/\(unauthorized\)/);
  expect(text).not.toMatch(/\n\s+at /);
});

it("an unreachable relay is named, with exit code 1", async () => {
  const { code, text } = await run(["captures", NAME], ["--relay", "http://127.0.0.1:9", "--token", TOKEN]);
  expect(code).toBe(1);
  expect(text).toMatch(/Cannot reach relay http:\/\/127\.0\.0\.1:9/);
  expect(text).not.toMatch(/\n\s+at /);
});

it.each([
  [["captures"], [], /pass --relay URL or set PORTHOLE_RELAY/],
  [["replay", "000000000000-000000"], [], /pass --relay URL or set PORTHOLE_RELAY/],
  [["captures", NAME], ["--relay", "http://127.0.0.1:9"], /No token for relay/],
  [["captures", NAME, "--limit", "0"], ["--relay", "http://127.0.0.1:9", "--token", TOKEN], /--limit expects a positive whole number/],
  [["captures", "Bad_Name"], ["--relay", "http://127.0.0.1:9", "--token", TOKEN], /"Bad_Name" is not a tunnel name/],
  [["replay"], ["--relay", "http://127.0.0.1:9", "--token", TOKEN], /Missing the capture id/],
  [["replay", "x", NAME, "--header", "no-colon"], ["--relay", "http://127.0.0.1:9", "--token", TOKEN], /--header expects NAME:VALUE/],
  [["replay", "x", NAME, "--path", "echo"], ["--relay", "http://127.0.0.1:9", "--token", TOKEN], /--path expects a path/],
  [
    ["replay", "x", NAME, "--body-file", "/nonexistent/body"],
    ["--relay", "http://127.0.0.1:9", "--token", TOKEN],
    /Cannot read --body-file/,
  ],
])("%j %j is a usage error with exit code 2", async (args, connection, message) => {
  const { code, text } = await run(args, connection);
  expect(code).toBe(2);
  expect(text).toMatch(message);
  expect(text).not.toMatch(/\n\s+at /);
});

it("without NAME on a relay with several tunnels, fails listing their names", async () => {
  const second = await startAgent(relay, origin.port, "captures-cli-two");
  try {
    await (await fetchUrl(hostUrl(relay, "captures-cli-two", "/echo"))).arrayBuffer();
    const { code, text } = await run(["captures"]);
    expect(code).toBe(2);
    expect(text).toMatch(/has \d+ tunnels, name one of them: .*captures-cli-two/);
    expect(text).toContain(NAME);
  } finally {
    await second.agent.kill();
  }
});
