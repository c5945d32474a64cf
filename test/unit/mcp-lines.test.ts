// `porthole captures --mcp` lines: what they show, and that captured text cannot drive the terminal.

import { describe, expect, it } from "vitest";
import { MCP_LINE, mcpLine } from "../../agent-cli/mcp-lines";
import { printable } from "../../agent-cli/output";
import type { McpEntry } from "../../worker/mcp-view";

const AT = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
const entry = (e: Partial<McpEntry>): McpEntry => ({
  kind: "request",
  status: "ok",
  direction: "in",
  method: "tools/call",
  id: 7,
  captureId: "cap-1",
  seq: 0,
  startedAt: AT,
  ...e,
});

describe("mcpLine", () => {
  const now = new Date(AT);

  it("shows a tool call with its arguments, result and duration", () => {
    const line = mcpLine(entry({ toolName: "echo", arguments: { text: "hi" }, result: { content: [] }, durationMs: 12.34 }), now);
    expect(line).toBe('03:04:05.067  → tools/call #7 echo {"text":"hi"}  ✓ {"content":[]}  12.3 ms  cap-1');
  });

  it("shows errors, isError results, pending requests, notifications and answers without a request", () => {
    expect(mcpLine(entry({ toolName: "x", status: "error", error: { code: -32602, message: "no such tool" } }), now)).toContain(
      "✗ error -32602 no such tool",
    );
    expect(mcpLine(entry({ toolName: "x", status: "error", isError: true, result: { isError: true } }), now)).toContain(
      '✗ isError {"isError":true}',
    );
    expect(mcpLine(entry({ method: "ping", status: "pending", id: "a" }), now)).toBe('03:04:05.067  → ping #"a"  … no answer yet  cap-1');
    expect(
      mcpLine(
        entry({
          kind: "notification",
          status: "none",
          method: "notifications/progress",
          id: null,
          direction: "out",
          params: { progress: 1 },
        }),
        now,
      ),
    ).toBe('03:04:05.067  ← notifications/progress {"progress":1}  cap-1');
    expect(
      mcpLine(entry({ kind: "error", status: "error", method: null, id: 9, error: { code: -32001, message: "gone" } }), now),
    ).toContain("error #9 (request not seen)  ✗ error -32001 gone");
    expect(mcpLine(entry({ method: "ping" }), new Date(AT + 86_400_000))).toMatch(/^2026-01-02 03:04:05\.067 /);
  });

  it(`cuts values to ${MCP_LINE.valueChars} characters`, () => {
    const line = mcpLine(entry({ toolName: "t", arguments: { pad: "x".repeat(1000) } }), now);
    expect(line).toContain(`${"x".repeat(MCP_LINE.valueChars - 9)}…`);
    expect(line.length).toBeLessThan(MCP_LINE.valueChars + 80);
  });

  it("escapes control characters and bidi overrides in every captured value", () => {
    const evil = "\u001b]0;owned\u0007\u001b[2J\r\u202eevil\u009b";
    const line = mcpLine(entry({ method: evil, toolName: evil, error: { code: 1, message: evil }, status: "error", id: evil }), now);
    const codes = [...line].map((c) => c.charCodeAt(0));
    expect(codes.filter((n) => n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x202e)).toEqual([]);
    expect(printable(evil)).toBe("\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\u202eevil\\u009b");
    expect(printable("plain é ✓")).toBe("plain é ✓");
  });
});

describe("printable", () => {
  it("escapes invisible and line-breaking characters a terminal would act on", () => {
    expect(printable("a\u061cb\u200bc\u200dd\u2028e\u2029f\ufeffg")).toBe("a\\u061cb\\u200bc\\u200dd\\u2028e\\u2029f\\ufeffg");
    expect(printable("plain é ✓")).toBe("plain é ✓");
  });
});
