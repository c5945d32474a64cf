// The terminal console, drawn without a terminal: what it shows, that it always fits the screen,
// and that wire text (paths, notes, reasons) can never drive the terminal.

import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../agent-cli/agent";
import { CONSOLE_LIMITS, ConsoleModel } from "../../agent-cli/console-model";
import { cell, duration, renderConsole, span, truncate } from "../../agent-cli/console-view";
import { int, prng } from "./prng";

const T0 = new Date(2026, 0, 2, 3, 4, 5).getTime();
const READY: AgentEvent = {
  event: "ready",
  name: "my-app",
  url: "http://my-app.localhost:8787",
  pathUrl: "http://127.0.0.1:8787/t/my-app",
  policy: "",
};

function exchange(path: string, status: number, extra: Partial<Extract<AgentEvent, { event: "exchange" }>> = {}): AgentEvent {
  return { event: "exchange", stream: 1, method: "GET", path, status, durationMs: 3.1, bytesIn: 10, bytesOut: 2048, ...extra };
}

function model(names = ["my-app"]): ConsoleModel {
  const m = new ConsoleModel("http://127.0.0.1:8787", T0);
  for (const name of names)
    m.add({ name, target: "http://localhost:3000", inspector: `http://127.0.0.1:8787/_porthole/inspect/${name}` }, T0);
  return m;
}

const draw = (m: ConsoleModel, o: Partial<{ width: number; height: number; now: number; color: boolean }> = {}) =>
  renderConsole(m, { width: 120, height: 40, now: T0 + 65_000, color: false, ...o });

/** The console's own colour codes, such as ESC[32m. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point.
const SGR = /\u001b\[\d+m/g;

/** True when the text holds a C0/C1 control, DEL, a bidi control or any non-ASCII character but the console's own "…". */
const unsafe = (text: string) => [...text].some((c) => c !== "…" && ((c.codePointAt(0) ?? 0) < 0x20 || (c.codePointAt(0) ?? 0) > 0x7e));

describe("renderConsole", () => {
  it("shows the tunnel, its URLs and target, the state, the requests with status and duration, and the counters", () => {
    const m = model();
    m.apply("my-app", READY, T0);
    m.apply("my-app", exchange("/echo?x=1", 200, { note: "stripe signature valid" }), T0 + 1000);
    m.apply("my-app", exchange("/missing", 404, { method: "POST", durationMs: 1250 }), T0 + 2000);
    m.apply("my-app", exchange("/down", 0, { error: "local-unreachable: ECONNREFUSED" }), T0 + 3000);
    m.apply("my-app", { event: "refused", method: "GET", path: "/admin", status: 403, reason: "client 10.0.0.1 not allowed" }, T0 + 4000);
    const screen = draw(m).join("\n");
    expect(screen).toContain("porthole  1/1 tunnel online");
    expect(screen).toMatch(/my-app\s+online for 1m05s/);
    expect(screen).toContain("\n  URL        http://my-app.localhost:8787 -> http://localhost:3000\n");
    expect(screen).toContain("\n  Path URL   http://127.0.0.1:8787/t/my-app\n");
    expect(screen).toContain("\n  Inspector  http://127.0.0.1:8787/_porthole/inspect/my-app\n");
    expect(screen).toMatch(/Requests\s+4 total {2}2xx 1 {2}3xx 0 {2}4xx 1 {2}5xx 0 {2}errors 1 {2}refused 1/);
    expect(screen).toMatch(/Timing\s+p50 3\.1 ms {2}p90 1\.25 s {2}in 30 B {2}out 6\.0 KiB/);
    const rows = screen.split("Recent requests\n")[1]!.split("\n");
    // Newest first, each with method, path, status and reason, duration, and the verdict or error.
    expect(rows[0]).toMatch(/^03:04:09 {2}GET +\/admin +403 Forbidden +- {2}refused: client 10\.0\.0\.1 not allowed$/);
    expect(rows[1]).toMatch(/^03:04:08 {2}GET +\/down +ERR +3\.1 ms {2}local-unreachable: ECONNREFUSED$/);
    expect(rows[2]).toMatch(/^03:04:07 {2}POST +\/missing +404 Not Found +1\.25 s$/);
    expect(rows[3]).toMatch(/^03:04:06 {2}GET +\/echo\?x=1 +200 OK +3\.1 ms {2}stripe signature valid$/);
  });

  it("counts down to the next reconnect, then shows why the tunnel stopped", () => {
    const m = model();
    m.apply("my-app", READY, T0);
    m.apply("my-app", { event: "disconnected", code: 1006, reason: "code 1006" }, T0 + 10_000);
    m.apply("my-app", { event: "reconnecting", attempt: 2, delayMs: 4000, cause: "cannot reach the relay (ECONNREFUSED)" }, T0 + 10_000);
    expect(draw(m, { now: T0 + 11_500 }).join("\n")).toMatch(/my-app\s+reconnecting in 3s \(attempt 2, offline for 1s\)/);
    expect(draw(m, { now: T0 + 13_100 }).join("\n")).toContain("reconnecting in 1s");
    expect(draw(m, { now: T0 + 14_200 }).join("\n")).toContain("reconnecting now");
    expect(draw(m, { now: T0 + 14_200 }).join("\n")).toMatch(/Cause\s+cannot reach the relay \(ECONNREFUSED\)/);
    expect(draw(m).join("\n")).toContain("porthole  0/1 tunnel online");
    m.apply("my-app", { event: "fatal", code: "name-in-use", message: 'tunnel "my-app" already has an agent online' }, T0 + 20_000);
    expect(draw(m).join("\n")).toMatch(/my-app\s+stopped\n[\s\S]*Cause\s+tunnel "my-app" already has an agent online \(name-in-use\)/);
  });

  it("escapes control, bidi and other non-ASCII characters in every piece of wire text", () => {
    const hostile = "/x\x1b[31mred\x07\x1b]0;pwned\x07\r\n\x9b2J\u202egnp.exe\u200b\u00e9\u{1f600}";
    const m = model();
    m.apply("my-app", { ...READY, policy: "stripe\x1b[5m" } as AgentEvent, T0);
    m.apply("my-app", exchange(hostile, 200, { method: "G\x1bT", note: `note${hostile}` }), T0);
    m.apply("my-app", exchange(hostile, 0, { error: `error${hostile}` }), T0);
    m.apply("my-app", { event: "refused", method: "GET", path: hostile, status: 401, reason: `reason${hostile}` }, T0);
    const plain = draw(m, { width: 400 });
    for (const line of plain) expect(unsafe(line)).toBe(false);
    expect(plain.join("\n")).toContain(
      "/x\\u001b[31mred\\u0007\\u001b]0;pwned\\u0007\\u000d\\u000a\\u009b2J\\u202egnp.exe\\u200b\\u00e9\\u{1f600}",
    );
    // With colours on, the only escapes are the console's own colour codes.
    const colored = draw(m, { width: 400, color: true });
    expect(colored.join("\n")).toMatch(SGR);
    for (const line of colored) expect(unsafe(line.replace(SGR, ""))).toBe(false);
  });

  it("never draws a line wider than the terminal or more lines than it has rows, whatever the size", () => {
    const rand = prng(7);
    const m = model(["alpha", "a-much-longer-tunnel-name", "c"]);
    for (const name of ["alpha", "a-much-longer-tunnel-name", "c"]) m.apply(name, { ...READY, name }, T0);
    for (let i = 0; i < 300; i++) {
      const path = `/${"segment/".repeat(int(rand, 0, 30))}${i}`;
      m.apply(["alpha", "c"][i % 2]!, exchange(path, [200, 302, 404, 500, 101][i % 5]!, { note: i % 3 ? undefined : "x".repeat(i) }), T0);
    }
    for (let trial = 0; trial < 200; trial++) {
      const width = int(rand, 1, 220);
      const height = int(rand, 1, 80);
      const lines = draw(m, { width, height });
      expect(lines.length).toBeLessThanOrEqual(height);
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
    }
    expect(m.rows).toHaveLength(CONSOLE_LIMITS.rows);
  });

  it("keeps one line per tunnel on a short terminal, so the latest requests still show", () => {
    const m = model();
    m.apply("my-app", READY, T0);
    for (const path of ["/first", "/second", "/latest"]) m.apply("my-app", exchange(path, 200), T0);
    const lines = draw(m, { width: 60, height: 8 });
    expect(lines).toHaveLength(8);
    expect(lines.join("\n")).toMatch(/^my-app +online for 1m05s {2}http:\/\/my-app\.localhost:8787…$/m);
    expect(lines.join("\n")).not.toContain("Inspector");
    expect(lines.at(-1)).toMatch(/ \/second /);
    expect(lines.at(-2)).toMatch(/ \/latest /);
  });

  it("names the tunnel of each request when several run", () => {
    const m = model(["web", "hooks"]);
    m.apply("web", { ...READY, name: "web" }, T0);
    m.apply("hooks", exchange("/stripe", 200), T0);
    m.apply("web", exchange("/index.html", 200), T0);
    const screen = draw(m).join("\n");
    expect(screen).toContain("porthole  1/2 tunnels online");
    expect(screen).toMatch(/web +online/);
    expect(screen).toMatch(/hooks +connecting/);
    expect(screen).toMatch(/03:04:05 {2}web {4}GET +\/index\.html/);
    expect(screen).toMatch(/03:04:05 {2}hooks {2}GET +\/stripe/);
  });

  it("shows the embedded relay's token and a hint before the first request", () => {
    const m = new ConsoleModel("http://127.0.0.1:8787 (embedded local relay)", T0, "abc123");
    m.add({ name: "x", target: "http://localhost:3000", inspector: "i" }, T0);
    const screen = draw(m).join("\n");
    expect(screen).toMatch(/Token\s+abc123 {2}\(log in to the inspector with it\)/);
    expect(screen).toContain("(none yet: open a public URL above)");
    expect(screen).toContain("\n  URL        (no URL yet) -> http://localhost:3000\n");
  });
});

describe("formatting helpers", () => {
  it("cell escapes everything outside printable ASCII and keeps the rest", () => {
    expect(cell("/a b?c=1&d=~")).toBe("/a b?c=1&d=~");
    expect(cell("\x00\x1f\x7f\x80\u00ff\u2028\u{10ffff}")).toBe("\\u0000\\u001f\\u007f\\u0080\\u00ff\\u2028\\u{10ffff}");
  });

  it("truncate, span and duration", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 3)).toBe("abc");
    expect(truncate("abc", 0)).toBe("");
    expect([span(999), span(65_000), span(3 * 3600_000 + 5 * 60_000), span(2 * 86400_000 + 3600_000)]).toEqual([
      "0s",
      "1m05s",
      "3h05m",
      "2d01h",
    ]);
    expect([duration(3.14), duration(42.4), duration(1250), duration(125_000)]).toEqual(["3.1 ms", "42 ms", "1.25 s", "2m05s"]);
  });

  it("percentiles come from recent durations", () => {
    const m = model();
    expect(m.percentile(50)).toBeUndefined();
    for (let i = 1; i <= 100; i++) m.apply("my-app", exchange("/", 200, { durationMs: i }), T0);
    expect([m.percentile(0), m.percentile(50), m.percentile(90), m.percentile(100)]).toEqual([1, 50, 90, 100]);
  });
});
