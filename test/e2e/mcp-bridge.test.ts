// `porthole mcp`: the real CLI runs a real stdio MCP server (v1 SDK) behind its Streamable HTTP bridge, through the
// real relay in workerd, and real v1 SDK clients use it. The bridge's limits are in mcp-bridge-limits.test.ts.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, type RelayProcess, spawnCli, startRelay, TOKEN } from "./harness";
import { connect, FIXTURE, isAlive } from "./mcp-client";
import { type FetchLike, tunnelFetch } from "./mcp-tunnel";

let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(() => relay?.stop());

type McpOptions = { json?: boolean; env?: NodeJS.ProcessEnv; flags?: string[]; serverArgs?: string[] };

async function startMcp(name: string, opts: McpOptions = {}): Promise<AgentProcess> {
  const json = opts.json === false ? [] : ["--json"];
  const server = [process.execPath, FIXTURE, ...(opts.serverArgs ?? [])];
  const args = ["mcp", "--relay", relay.url, "--token", TOKEN, "--name", name, ...json, ...(opts.flags ?? []), "--", ...server];
  return spawnCli(args, { env: opts.env });
}

describe("porthole mcp through the tunnel", () => {
  let cli: AgentProcess;
  let ready: Record<string, unknown>;
  let mcpUrl: string;

  beforeAll(async () => {
    cli = await startMcp("mcp-e2e", { env: { PORTHOLE_TOKEN: TOKEN, MCP_E2E_SETTING: "inherited" } });
    ready = await cli.waitFor((e) => e.event === "ready", 30_000);
    mcpUrl = String(ready.mcpUrl);
  });

  afterAll(() => cli?.kill());

  const sessionEnd = (session: string) => cli.waitFor((e) => e.event === "mcp-session-end" && e.session === session);

  it("announces the MCP URL and the server it checked at startup", () => {
    expect(ready).toMatchObject({
      event: "ready",
      name: "mcp-e2e",
      mcpUrl: `${ready.url}/mcp`,
      mcpPathUrl: `${ready.pathUrl}/mcp`,
      server: { name: "stdio-fixture", version: "1.2.3" },
    });
    // The startup check's process wrote to stderr; its lines come out prefixed.
    expect(cli.output.some((l) => /^\[mcp check\] stdio-fixture ready/.test(l))).toBe(true);
  });

  it("lists the server's tools and calls echo", async () => {
    const { client, call } = await connect(mcpUrl);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["count", "echo", "env", "exit", "pid"]);
      expect(await call("echo", { text: "héllo through the tunnel" })).toBe("héllo through the tunnel");
      // The server sees the shell's environment, but not the relay's token.
      expect(await call("env", { name: "MCP_E2E_SETTING" })).toBe("inherited");
      expect(await call("env", { name: "PORTHOLE_TOKEN" })).toBe("(unset)");
    } finally {
      await client.close();
    }
  });

  it("streams progress notifications one by one while the tool runs, not all at the end", async () => {
    const { client } = await connect(mcpUrl);
    try {
      const arrivals: { progress: number; at: number }[] = [];
      const result = await client.callTool({ name: "count", arguments: { n: 4 } }, undefined, {
        onprogress: (p) => arrivals.push({ progress: p.progress, at: performance.now() }),
      });
      const done = performance.now();
      expect((result.content as { text: string }[])[0]?.text).toBe("counted to 4");
      expect(arrivals.map((a) => a.progress)).toEqual([1, 2, 3, 4]);
      // The server sends one every 250 ms: each arrives well apart from the one before, the first long before the result.
      const gaps = arrivals.slice(1).map((a, i) => a.at - (arrivals[i] as { at: number }).at);
      expect(Math.min(...gaps)).toBeGreaterThan(100);
      expect(done - (arrivals[0] as { at: number }).at).toBeGreaterThan(500);
    } finally {
      await client.close();
    }
  });

  it("gives two clients separate sessions, each with its own server process, and DELETE stops one", async () => {
    const a = await connect(mcpUrl);
    const b = await connect(mcpUrl);
    try {
      expect(a.transport.sessionId).toBeTruthy();
      expect(b.transport.sessionId).toBeTruthy();
      expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
      const [pidA, pidB] = [Number(await a.call("pid")), Number(await b.call("pid"))];
      expect(pidA).not.toBe(pidB);
      const sessionA = String(a.transport.sessionId);
      const started = await cli.waitFor((e) => e.event === "mcp-session-start" && e.session === sessionA);
      expect(started.pid).toBe(pidA);
      await a.transport.terminateSession();
      const ended = await sessionEnd(sessionA);
      expect(ended).toMatchObject({ pid: pidA, reason: "deleted", failedRequests: 0 });
      expect(isAlive(pidA)).toBe(false);
      // The other session and its process are untouched.
      expect(isAlive(pidB)).toBe(true);
      expect(await b.call("echo", { text: "still here" })).toBe("still here");
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it("answers a call in flight with an error naming the exit code when the server exits, and says so", async () => {
    const { client, transport, call } = await connect(mcpUrl);
    const pid = Number(await call("pid"));
    try {
      await expect(call("exit", { code: 3 })).rejects.toThrow(/exited with code 3 before answering/);
      const ended = await sessionEnd(String(transport.sessionId));
      expect(ended).toMatchObject({ pid, reason: "exited", exitCode: 3, failedRequests: 1 });
      expect(cli.output).toContain(`[mcp ${pid}] exiting with code 3`);
      // The session went with its process: the client must initialize again, and then gets a fresh one.
      await expect(call("echo", { text: "x" })).rejects.toThrow(/404|Session not found/);
    } finally {
      await client.close();
    }
    const again = await connect(mcpUrl);
    expect(await again.call("echo", { text: "new session" })).toBe("new session");
    await again.client.close();
  });
});

describe("stopping porthole mcp", () => {
  it("on SIGTERM, stops the server processes, the bridge and the agent", async () => {
    const cli = await startMcp("mcp-sigterm");
    const ready = await cli.waitFor((e) => e.event === "ready", 30_000);
    const { client, call } = await connect(String(ready.mcpUrl));
    const pid = Number(await call("pid"));
    expect(isAlive(pid)).toBe(true);
    await cli.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(isAlive(pid)).toBe(false);
    await client.close();
  });
});

describe("usage and startup errors", () => {
  it.each([
    [["mcp"], /Missing the MCP server's command after "--"/],
    [["mcp", "--relay", "http://127.0.0.1:9", "--"], /Missing the MCP server's command after "--"/],
    [["mcp", "node", "server.js"], /Put the MCP server's command after "--"/],
    [["mcp", "--host-header", "preserve", "--", "node", "server.js"], /--host-header is for porthole http/],
  ])("rejects %j with a usage error and exit code 2", async (args, message) => {
    const cli = spawnCli(args);
    expect(await cli.exited).toBe(2);
    expect(cli.output.join("\n")).toMatch(message);
  });

  it.each([
    [
      ["/nonexistent/porthole-mcp-server", "--stdio"],
      /Cannot start the MCP server "\/nonexistent\/porthole-mcp-server --stdio": command not found/,
    ],
    [[process.execPath, "-e", "process.exit(7)"], /Cannot start the MCP server ".*": it exited with code 7 before answering initialize/],
  ])("a server command %j that cannot serve fails clearly, before any tunnel, with exit code 1", async (command, message) => {
    const cli = spawnCli(["mcp", "--relay", relay.url, "--token", TOKEN, "--json", "--", ...command]);
    expect(await cli.exited).toBe(1);
    const out = cli.output.join("\n");
    expect(out).toMatch(message);
    expect(out).not.toMatch(/\n\s+at /);
    expect(cli.events.some((e) => e.event === "ready")).toBe(false);
  });
});

describe("secrets on the server's command line", () => {
  const SECRET = "SEKRET123";

  it("never reach a public client: a server that exits mid-call is named by its serverInfo.name and exit status only", async () => {
    const cli = await startMcp("mcp-secret", { serverArgs: ["--api-key", SECRET] });
    const ready = await cli.waitFor((e) => e.event === "ready", 30_000);
    // Every body the client receives for its POSTs, read from a copy once the exchange is over.
    const bodies: Promise<string>[] = [];
    const { fetch } = tunnelFetch();
    const recording: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (init?.method === "POST") bodies.push(res.clone().text());
      return res;
    };
    const { client, call } = await connect(String(ready.mcpUrl), recording);
    try {
      const failure = await call("exit", { code: 3 }).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failure).toMatch(/The MCP server "stdio-fixture" exited with code 3 before answering/);
      expect(failure).not.toContain(SECRET);
      const texts = await Promise.all(bodies);
      expect(texts.some((t) => t.includes("exited with code 3"))).toBe(true);
      for (const text of texts) expect(text).not.toContain(SECRET);
      // The terminal that started porthole keeps the details.
      await expect
        .poll(() => cli.output.some((l) => l.includes(`--api-key ${SECRET}" exited with code 3 before answering 1 request(s)`)))
        .toBe(true);
    } finally {
      await client.close();
      await cli.kill();
    }
  });
});

/** Starts `porthole mcp` for people; resolves once both config snippets are out, with stdout so far and the snippets. */
async function humanSetup(name: string, flags: string[] = []) {
  const cli = await startMcp(name, { json: false, flags });
  // Read stdout whole: the harness takes any line that parses as JSON (a snippet's last string) for an event.
  let out = "";
  cli.child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  // Both snippets have been printed once two lines close a top-level JSON object.
  await expect.poll(() => out.match(/^ {4}\}$/gm)?.length, { timeout: 30_000 }).toBe(2);
  const snippets = [...out.matchAll(/^ {4}\{$[\s\S]*?^ {4}\}$/gm)].map((m) => JSON.parse(m[0]));
  return { cli, out, snippets, pathUrl: `${relay.url}/t/${name}/mcp` };
}

const OPEN_WARNING = /^porthole {2}warning: no access rule, so anyone with the URL can start the server's processes/;

describe("human output", () => {
  it("prints the MCP URL and the config snippets to paste into clients, and warns that the URL is all it takes", async () => {
    const { cli, out, snippets, pathUrl } = await humanSetup("mcp-human");
    try {
      const port = new URL(relay.url).port;
      const publicUrl = `http://mcp-human.localhost:${port}/mcp`;
      expect(out).toContain(`MCP URL     ${publicUrl}`);
      expect(out).toContain('MCP server "stdio-fixture" 1.2.3');
      // Node clients (mcp-remote among them) cannot resolve *.localhost, so the snippets use the path URL.
      expect(out).toContain(`claude mcp add --transport http mcp-human ${pathUrl}\n`);
      expect(snippets).toEqual([
        { mcpServers: { "mcp-human": { command: "npx", args: ["-y", "mcp-remote", pathUrl] } } },
        { mcpServers: { "mcp-human": { type: "http", url: pathUrl } } },
      ]);
      await expect.poll(() => cli.output.filter((l) => OPEN_WARNING.test(l)).length).toBe(1);
      // The URL in the snippets works.
      const { client, call } = await connect(pathUrl);
      expect(await call("echo", { text: "pasted" })).toBe("pasted");
      await client.close();
      await expect.poll(() => cli.output.some((l) => /^mcp session [0-9a-f]{8} \(server pid \d+\) opened$/.test(l))).toBe(true);
    } finally {
      await cli.kill();
    }
  });

  it("with --bearer, puts an Authorization placeholder (never the token) in every snippet, and says claude.ai cannot send it", async () => {
    const token = "mcp-human-bearer-Zq8";
    const { cli, out, snippets, pathUrl } = await humanSetup("mcp-bearer", ["--bearer", token]);
    try {
      const placeholder = "Bearer <your --bearer token>";
      expect(out).toContain(`claude mcp add --transport http mcp-bearer ${pathUrl} --header "Authorization: ${placeholder}"`);
      expect(out).toMatch(/claude\.ai {3}connectors cannot send an Authorization header/);
      expect(snippets).toEqual([
        {
          mcpServers: {
            "mcp-bearer": {
              command: "npx",
              // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote expands it from env, as printed.
              args: ["-y", "mcp-remote", pathUrl, "--header", "Authorization:${AUTH_HEADER}"],
              env: { AUTH_HEADER: placeholder },
            },
          },
        },
        { mcpServers: { "mcp-bearer": { type: "http", url: pathUrl, headers: { Authorization: placeholder } } } },
      ]);
      expect(out).not.toContain(token);
      // The snippet's header, with the token in place of the placeholder, is what the tunnel lets through.
      const { fetch } = tunnelFetch();
      await expect(connect(pathUrl, fetch)).rejects.toThrow(/missing Authorization header/);
      const authorized: FetchLike = (url, init) => {
        const headers = new Headers(init?.headers);
        headers.set("Authorization", `Bearer ${token}`);
        return fetch(url, { ...init, headers });
      };
      const { client, call } = await connect(pathUrl, authorized);
      expect(await call("echo", { text: "with the header" })).toBe("with the header");
      await client.close();
      // Checked last, after round trips, so that a warning on stderr would have arrived by now.
      expect(cli.output.some((l) => OPEN_WARNING.test(l))).toBe(false);
    } finally {
      await cli.kill();
    }
  });

  it("with --basic-auth, the placeholder names the Basic scheme and the user:password still stays out", async () => {
    const { cli, out, snippets, pathUrl } = await humanSetup("mcp-basic", ["--basic-auth", "ann:pw-Vb27"]);
    try {
      expect(out).toContain('--header "Authorization: Basic <base64 of your --basic-auth user:password>"');
      expect(snippets[1].mcpServers["mcp-basic"].headers).toEqual({ Authorization: "Basic <base64 of your --basic-auth user:password>" });
      expect(out).not.toContain("pw-Vb27");
      await expect(connect(pathUrl)).rejects.toThrow(/missing Authorization header/);
      expect(cli.output.some((l) => OPEN_WARNING.test(l))).toBe(false);
    } finally {
      await cli.kill();
    }
  });
});
