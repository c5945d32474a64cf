// The live console in a real terminal (tmux): what `porthole http` shows on a TTY, how it follows
// requests, a resize and a relay outage, that it gives the terminal back on Ctrl-C, and that text
// from the wire cannot drive the terminal.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchUrl, hostUrl, type RelayProcess, startRelay, TOKEN } from "./harness";
import { type HostileRelay, startHostileRelay } from "./hostile-relay";
import { type Origin, startOrigin } from "./origin";
import { type Terminal, terminal } from "./tmux";

const ESC = "\x1b";

/** The screen's rows that mention `text`. */
const rowsWith = (screen: string[], text: string) => screen.filter((line) => line.includes(text));

describe("porthole http on a terminal", () => {
  const name = "console-e2e";
  let relay: RelayProcess;
  let origin: Origin;
  let term: Terminal;
  let port: string;

  beforeAll(async () => {
    [relay, origin] = await Promise.all([startRelay(), startOrigin()]);
    port = new URL(relay.url).port;
    term = terminal(["http", String(origin.port), "--relay", relay.url, "--token", TOKEN, "--name", name], { width: 120, height: 40 });
  });

  afterAll(async () => {
    term?.close();
    await relay?.stop();
    await origin?.close();
  });

  it("shows the tunnel, its public URL, its local target, the relay, the inspector and the online state", async () => {
    const text = await term.waitFor((t) => /console-e2e +online for \d+s/.test(t));
    expect(text).toMatch(/^porthole {2}1\/1 tunnel online +Ctrl\+C to quit$/m);
    expect(text).toMatch(new RegExp(`^Relay +${relay.url}$`, "m"));
    expect(text).toContain(`  URL        http://${name}.localhost:${port} -> http://localhost:${origin.port}\n`);
    expect(text).toContain(`  Path URL   ${relay.url}/t/${name}\n`);
    expect(text).toContain(`  Inspector  ${relay.url}/_porthole/inspect/${name}\n`);
    expect(text).toContain("(none yet: open a public URL above)");
    expect(term.format("#{alternate_on} #{cursor_flag}")).toBe("1 0");
  });

  it("lists each exchange, newest first, with method, path, status and duration, and counts them", async () => {
    expect((await fetchUrl(hostUrl(relay, name, "/echo?x=1"))).status).toBe(200);
    expect((await fetchUrl(hostUrl(relay, name, "/redirect"))).status).toBe(302);
    expect((await fetchUrl(hostUrl(relay, name, "/status/404"))).status).toBe(404);
    expect((await fetchUrl(hostUrl(relay, name, "/status/503"), { method: "POST", body: "x" })).status).toBe(503);
    const text = await term.waitFor((t) => t.includes("4 total"));
    expect(text).toMatch(/Requests +4 total {2}2xx 1 {2}3xx 1 {2}4xx 1 {2}5xx 1 {2}errors 0 {2}refused 0/);
    expect(text).toMatch(/Timing +p50 [\d.]+ m?s {2}p90 [\d.]+ m?s {2}in 1 B {2}out [\d.]+ (B|KiB)/);
    const rows = text.split("Recent requests\n")[1]!.split("\n");
    expect(rows[0]).toMatch(/^\d\d:\d\d:\d\d {2}POST +\/status\/503 +503 Service Una… +[\d.]+ m?s$/);
    expect(rows[1]).toMatch(/^\d\d:\d\d:\d\d {2}GET +\/status\/404 +404 Not Found +[\d.]+ m?s$/);
    expect(rows[2]).toMatch(/^\d\d:\d\d:\d\d {2}GET +\/redirect +302 Found +[\d.]+ m?s$/);
    expect(rows[3]).toMatch(/^\d\d:\d\d:\d\d {2}GET +\/echo\?x=1 +200 OK +[\d.]+ m?s$/);
  });

  it("shows a path holding an ANSI escape as text, in the form it arrived", async () => {
    // A client cannot send a raw ESC: the relay answers 400 to it, and percent-encodes what it forwards.
    expect((await fetchUrl(hostUrl(relay, name, "/%1B[31mred%1B]2;pwned%07"))).status).toBe(404);
    await term.waitFor((t) => t.includes("/%1B[31mred%1B]2;pwned%07"));
    const [row] = rowsWith(term.screen({ escapes: true }), "/%1B[31mred");
    // Only the console's own colour (yellow 404) is on the row, never the red the path asks for.
    expect(row).not.toContain(`${ESC}[31m`);
    expect(term.format("#{pane_title}")).not.toBe("pwned");
  });

  it("fits a narrow, short terminal: one line per tunnel, the newest requests still shown, and back when it grows", async () => {
    term.resize(52, 12);
    const text = await term.waitFor((t) => t.split("\n")[2]?.startsWith("console-e2e") === true);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^porthole {2}1\/1 tunnel online +Ctrl\+C to quit$/);
    expect(lines[2]).toMatch(/^console-e2e +online for \S+ {2}http:\/\/console-e2e\.\S*…$/);
    expect(text).not.toContain("Inspector");
    expect(lines[lines.indexOf("Recent requests") + 1]).toMatch(/^\d\d:\d\d:\d\d {2}GET +\/%1B\[31mred… +404 Not Found +…$/);
    term.resize(120, 40);
    await term.waitFor((t) => t.includes("  Inspector  "));
  });

  it("counts down to the next attempt while the relay is gone, and is online again when it returns", async () => {
    await relay.stop();
    const text = await term.waitFor((t) => /console-e2e +reconnecting in \d+s \(attempt \d+, offline for \d+s\)/.test(t));
    expect(text).toMatch(/^porthole {2}0\/1 tunnel online/m);
    expect(text).toMatch(/^ {2}Cause +(cannot reach the relay at|relay connection closed)/m);
    relay = await startRelay({ port: Number(port) });
    await term.waitFor((t) => /console-e2e +online for \d+s/.test(t), 45_000);
  }, 60_000);

  it("leaves the screen with the reason on it when the tunnel cannot run: a second agent for the same name", async () => {
    const second = terminal(["http", String(origin.port), "--relay", relay.url, "--token", TOKEN, "--name", name], {
      width: 140,
      height: 20,
    });
    try {
      const text = await second.waitFor((t) => t.includes("EXITED"));
      expect(text).toMatch(
        /^porthole: tunnel "console-e2e" already has an agent online; pass --force to take the name over \(name-in-use\)$/m,
      );
      expect(text).toMatch(/^porthole {2}stopped after \S+: 0 requests through "console-e2e"$/m);
      expect(text).toContain("EXITED 1");
      expect(second.format("#{alternate_on} #{cursor_flag}")).toBe("0 1");
    } finally {
      second.close();
    }
  });

  it("gives the terminal back on Ctrl-C: the normal screen, the cursor, and a summary", async () => {
    term.keys("C-c");
    const text = await term.waitFor((t) => t.includes("EXITED"));
    expect(text).toMatch(/^porthole {2}stopped after \S+: 5 requests through "console-e2e"$/m);
    expect(text).toContain("EXITED 0");
    expect(term.format("#{alternate_on} #{cursor_flag}")).toBe("0 1");
  });
});

describe("porthole start on a terminal", () => {
  let relay: RelayProcess;
  let origin: Origin;
  let term: Terminal;
  let dir: string;

  beforeAll(async () => {
    [relay, origin] = await Promise.all([startRelay(), startOrigin()]);
    dir = mkdtempSync(join(tmpdir(), "porthole-console-"));
    const config = join(dir, "config.json");
    const target = String(origin.port);
    const tunnels = { web: { target, name: "start-web" }, hooks: { target, name: "start-hooks" } };
    writeFileSync(config, JSON.stringify({ relay: relay.url, token: TOKEN, tunnels }), { mode: 0o600 });
    term = terminal(["start"], { width: 120, height: 40, env: { PORTHOLE_CONFIG: config } });
  });

  afterAll(async () => {
    term?.close();
    await relay?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows every tunnel of the presets, and names the tunnel of each request", async () => {
    const text = await term.waitFor((t) => t.includes("2/2 tunnels online"));
    expect(text).toMatch(/^start-web +online for \d+s\n {2}URL +http:\/\/start-web\.localhost:\d+ -> http:\/\/localhost:\d+$/m);
    expect(text).toMatch(/^start-hooks +online for \d+s\n {2}URL +http:\/\/start-hooks\.localhost:\d+ -> http:\/\/localhost:\d+$/m);
    expect((await fetchUrl(hostUrl(relay, "start-web", "/echo"))).status).toBe(200);
    expect((await fetchUrl(hostUrl(relay, "start-hooks", "/status/204"), { method: "POST" })).status).toBe(204);
    const rows = (await term.waitFor((t) => t.includes("2 total"))).split("Recent requests\n")[1]!.split("\n");
    expect(rows[0]).toMatch(/^\d\d:\d\d:\d\d {2}start-hooks {2}POST +\/status\/204 +204 No Content +[\d.]+ m?s$/);
    expect(rows[1]).toMatch(/^\d\d:\d\d:\d\d {2}start-web {4}GET +\/echo +200 OK +[\d.]+ m?s$/);
    term.keys("C-c");
    const after = await term.waitFor((t) => t.includes("EXITED"));
    expect(after).toMatch(/^porthole {2}stopped after \S+: 2 requests through "start-web", "start-hooks"$/m);
    expect(after).toContain("EXITED 0");
  });
});

describe("porthole http on a terminal, against a relay that sends terminal escapes", () => {
  const hostile = `/x${ESC}[31mred${ESC}]2;pwned\x07\r\n\u202eexe`;
  let relay: HostileRelay;
  let origin: Origin;
  let term: Terminal;

  beforeAll(async () => {
    origin = await startOrigin();
    relay = await startHostileRelay(
      "hostile",
      [
        { type: "notice", method: "GET", path: hostile, status: 401, reason: `bad ${ESC}[2J${ESC}[H` },
        // Node's http client takes bytes 0x80-0xff in a path: U+009B is the one-character CSI of 8-bit terminals.
        { type: "request-head", stream: 1, method: "GET", path: "/echo\u009b31mx", headers: [], body: false, note: `${ESC}[32mvalid` },
      ],
      `stripe ${ESC}[5m`,
    );
    // NO_COLOR: then any escape on the screen could only have come from the relay.
    term = terminal(["http", String(origin.port), "--relay", relay.url, "--token", "x", "--name", "hostile"], {
      width: 160,
      height: 30,
      env: { NO_COLOR: "1" },
    });
  });

  afterAll(async () => {
    term?.close();
    await relay?.close();
    await origin?.close();
  });

  it("escapes them in the path, the note, the reason and the policy, and the terminal keeps its title", async () => {
    const text = await term.waitFor((t) => t.includes("refused:") && t.includes("/echo"));
    expect(text).toContain(`/x\\u001b[31mred\\u001b]2;pwned\\u0007\\u000d\\u000a\\u202eexe`);
    expect(text).toContain("refused: bad \\u001b[2J\\u001b[H");
    // The origin's own HTTP parser refuses that byte: 400, with the relay's note beside it.
    expect(text).toMatch(/GET +\/echo\\u009b31mx +400 Bad Request +[\d.]+ m?s {2}\\u001b\[32mvalid/);
    expect(text).toMatch(/Policy +stripe \\u001b\[5m/);
    expect(term.screen({ escapes: true }).join("\n")).not.toContain(ESC);
    expect(term.format("#{pane_title}")).not.toBe("pwned");
    term.keys("C-c");
    expect(await term.waitFor((t) => t.includes("EXITED"))).toContain("EXITED 0");
  });
});
