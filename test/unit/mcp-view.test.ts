// The MCP view: JSON-RPC messages decoded from captures (JSON bodies, batches, event streams, WebSocket
// messages), requests paired with responses by id within and across exchanges, and the bounds on hostile input.

import { describe, expect, it } from "vitest";
import type { CaptureEvent, CaptureRecord, CaptureSummary } from "../../worker/capture-model";
import { buildMcpView, decodeCapture, MCP_LIMITS, type McpEntry, methodMatches } from "../../worker/mcp-view";
import type { HeaderList } from "../../worker/protocol";
import { Recorder, RecordingBudget } from "../../worker/recorder";
import { parseSse } from "../../worker/sse-parser";

const T0 = 1_750_000_000_000;
const JSON_TYPE: HeaderList = [["content-type", "application/json"]];
/** A request header that marks a capture as MCP traffic even when no message in it decodes. */
const MCP_JSON: HeaderList = [...JSON_TYPE, ["mcp-protocol-version", "2025-06-18"]];
const SSE_TYPE: HeaderList = [["content-type", "text/event-stream"]];
const enc = (text: string) => new TextEncoder().encode(text);
const rpc = (o: Record<string, unknown>) => JSON.stringify({ jsonrpc: "2.0", ...o });
const sse = (...messages: string[]) => messages.map((m) => `event: message\ndata: ${m}\n\n`).join("");

type CaptureSpec = {
  id: string;
  at?: number;
  durationMs?: number;
  method?: string;
  path?: string;
  kind?: "http" | "websocket";
  state?: "open" | "done";
  requestHeaders?: HeaderList;
  request?: string | Uint8Array;
  responseHeaders?: HeaderList | null;
  response?: string | Uint8Array;
  events?: CaptureEvent[];
  requestTruncated?: boolean;
  responseTruncated?: boolean;
};

/** A stored capture as the store hands it back. */
function capture(s: CaptureSpec): CaptureRecord {
  const bytes = (b: string | Uint8Array | undefined) => (typeof b === "string" ? enc(b) : (b ?? new Uint8Array(0)));
  const summary = {
    id: s.id,
    replayOf: null,
    startedAt: s.at ?? T0,
    durationMs: s.durationMs ?? 10,
    method: s.method ?? "POST",
    url: `http://mcp.localhost:8787${s.path ?? "/mcp"}`,
    path: s.path ?? "/mcp",
    status: 200,
    outcome: "ok",
    error: null,
    kind: s.kind ?? "http",
    requestSize: bytes(s.request).byteLength,
    responseSize: bytes(s.response).byteLength,
    contentType: null,
    state: s.state ?? "done",
  } as CaptureSummary;
  return {
    summary,
    detail: {
      clientIp: "127.0.0.1",
      requestHeaders: s.requestHeaders ?? JSON_TYPE,
      responseHeaders: s.responseHeaders === undefined ? JSON_TYPE : s.responseHeaders,
      requestTruncated: s.requestTruncated ?? false,
      responseTruncated: s.responseTruncated ?? false,
      events: s.events ?? [],
      eventsTruncated: false,
    },
    requestBody: bytes(s.request),
    responseBody: bytes(s.response),
  };
}

const view = (captures: CaptureRecord[], method?: string, limit = 1000) => buildMcpView(captures.map(decodeCapture), { method, limit });

describe("parseSse", () => {
  it("reads LF, CRLF and CR line endings, multi-line data, ids and event types, and skips comments", () => {
    const text = '\uFEFF: keepalive\n\nevent: message\r\nid: 7\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata:x\r\rdata\n\n: bye\n\n';
    expect(parseSse(text)).toEqual({
      events: [
        { event: "message", data: '{"a":\n1}', id: "7" },
        { event: "message", data: "x", id: "7" },
        { event: "message", data: "", id: "7" },
      ],
      unterminated: false,
    });
  });

  it("does not dispatch an event the stream stopped inside, and says so", () => {
    expect(parseSse("data: one\n\ndata: two\n")).toEqual({ events: [{ event: "message", data: "one" }], unterminated: true });
    expect(parseSse("data: one\n\ndata: tw")).toEqual({ events: [{ event: "message", data: "one" }], unterminated: true });
    expect(parseSse("data: one\n\n: keepal").unterminated).toBe(false);
  });

  it("stops after maxEvents", () => {
    expect(parseSse("data: 1\n\n".repeat(100), 3).events).toHaveLength(3);
  });
});

describe("decoding captures", () => {
  it("pairs a tools/call in a JSON request with its JSON response, with tool name, arguments, result and timing", () => {
    const result = { content: [{ type: "text", text: "hi" }] };
    const { entries, methods, notes } = view([
      capture({
        id: "a",
        at: T0,
        durationMs: 42,
        request: rpc({ id: 3, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } }),
        response: rpc({ id: 3, result }),
      }),
    ]);
    expect(entries).toEqual([
      {
        kind: "request",
        status: "ok",
        direction: "in",
        method: "tools/call",
        id: 3,
        captureId: "a",
        seq: 0,
        toolName: "echo",
        arguments: { text: "hi" },
        result,
        startedAt: T0,
        endedAt: T0 + 42,
        durationMs: 42,
      },
    ]);
    expect(methods).toEqual(["tools/call"]);
    expect(notes).toEqual([]);
  });

  it("decodes batches both ways and pairs each member", () => {
    const { entries } = view([
      capture({
        id: "b",
        request: JSON.stringify([
          { jsonrpc: "2.0", id: 1, method: "tools/list" },
          { jsonrpc: "2.0", method: "notifications/initialized" },
          { jsonrpc: "2.0", id: 2, method: "ping" },
        ]),
        response: JSON.stringify([
          { jsonrpc: "2.0", id: 2, result: {} },
          { jsonrpc: "2.0", id: 1, result: { tools: [] } },
        ]),
      }),
    ]);
    expect(entries.map((e) => [e.kind, e.method, e.status, e.result])).toEqual([
      ["request", "tools/list", "ok", { tools: [] }],
      ["notification", "notifications/initialized", "none", undefined],
      ["request", "ping", "ok", {}],
    ]);
  });

  it("reads an event-stream response with CRLF and CR endings and keepalive comments, timing each event from the timeline", () => {
    const progress = (n: number) => rpc({ method: "notifications/progress", params: { progressToken: 1, progress: n } });
    const body = `: keepalive\r\n\r\nevent: message\r\ndata: ${progress(1)}\r\n\r\n: keepalive\r\rid: 9\revent: message\rdata: ${progress(2)}\r\revent: message\ndata: ${rpc({ id: 5, result: { content: [] } })}\n\n`;
    const events: CaptureEvent[] = [
      { t: 100, type: "sse", direction: "out", binary: false, size: 0, text: ": keepalive" },
      { t: 200, type: "sse", direction: "out", binary: false, size: 0, text: `event: message\r\ndata: ${progress(1)}` },
      // The recorder does not split on CR alone: the rest arrived as one timeline entry.
      { t: 300, type: "sse", direction: "out", binary: false, size: 0, text: body.slice(body.indexOf(": keepalive\r\r")).trimEnd() },
    ];
    const c = capture({
      id: "c",
      durationMs: 500,
      request: rpc({ id: 5, method: "tools/call", params: { name: "count", arguments: { n: 2 }, _meta: { progressToken: 1 } } }),
      responseHeaders: SSE_TYPE,
      response: body,
      events,
    });
    const { entries, notes } = view([c]);
    expect(entries.map((e) => [e.method, e.kind, e.startedAt - T0, e.endedAt === undefined ? null : e.endedAt - T0])).toEqual([
      ["tools/call", "request", 0, 300],
      ["notifications/progress", "notification", 200, null],
      ["notifications/progress", "notification", 300, null],
    ]);
    expect(entries[0]?.durationMs).toBe(300);
    expect(notes).toEqual([]);
  });

  it("decodes an event stream the real recorder captured from chunks split inside events and inside a CRLF", () => {
    const recorder = new Recorder({
      id: "rec",
      method: "POST",
      url: "http://mcp.localhost/mcp",
      path: "/mcp",
      clientIp: "",
      requestHeaders: JSON_TYPE,
      kind: "http",
      replayOf: null,
      cap: 1024 * 1024,
      budget: new RecordingBudget(8 * 1024 * 1024),
    });
    recorder.requestChunk(enc(rpc({ id: "call-1", method: "tools/call", params: { name: "echo", arguments: { text: "é" } } })));
    recorder.responseHead(200, SSE_TYPE);
    const stream = `event: message\r\ndata: ${rpc({ method: "notifications/message", params: { data: "é" } })}\r\n\r\n: keepalive\r\n\r\nevent: message\r\ndata: ${rpc({ id: "call-1", result: { content: [{ type: "text", text: "é" }] } })}\r\n\r\n`;
    const bytes = enc(stream);
    // Cut through the multi-byte "é", the first CRLF pair and the middle of the last event.
    const cuts = [0, stream.indexOf("é") + 8, stream.indexOf("\r\n\r\n") + 1, bytes.length - 30, bytes.length];
    for (let i = 1; i < cuts.length; i++) recorder.responseChunk(bytes.subarray(cuts[i - 1], cuts[i]));
    recorder.end("ok");
    const { entries, notes } = view([recorder.record()]);
    expect(entries.map((e) => [e.method, e.id, e.status])).toEqual([
      ["tools/call", "call-1", "ok"],
      ["notifications/message", null, "none"],
    ]);
    expect(entries[0]?.result).toEqual({ content: [{ type: "text", text: "é" }] });
    expect(notes).toEqual([]);
  });

  it("ignores invalid JSON and non-JSON-RPC values with a note, without throwing", () => {
    const c = capture({
      id: "bad",
      requestHeaders: MCP_JSON,
      request: '{"jsonrpc":"2.0","id":1,"method":',
      responseHeaders: SSE_TYPE,
      response: `data: not json\n\n${sse('{"hello":1}', "[1]", rpc({ id: {}, method: "x" }), rpc({ method: "notifications/ok" }))}`,
    });
    const decoded = decodeCapture(c);
    expect(decoded.messages.map((m) => m.message)).toEqual([{ type: "notification", method: "notifications/ok" }]);
    expect(decoded.notes).toEqual([
      "the request body is not valid JSON; ignored",
      "event 1 of the response stream is not valid JSON; ignored",
      'event 2 of the response stream holds an object without "jsonrpc": "2.0"; ignored',
      "event 3 of the response stream holds a JSON value that is not a JSON-RPC object; ignored",
      "event 4 of the response stream holds a request whose id is not a string or number; ignored",
    ]);
    expect(view([c]).notes.map((n) => n.captureId)).toEqual(["bad", "bad", "bad", "bad", "bad"]);
  });

  it("stays quiet about captures that are not MCP (a webhook's JSON)", () => {
    const decoded = decodeCapture(capture({ id: "hook", request: '{"event":"push"}', response: "{oops" }));
    expect(decoded).toEqual({ captureId: "hook", messages: [], notes: [], mcp: false });
  });

  it("notes bodies it cannot decode: cut short, encoded, or a stream that ended inside an event", () => {
    const cut = decodeCapture(
      capture({ id: "cut", requestHeaders: MCP_JSON, request: rpc({ id: 1, method: "ping" }).slice(0, 20), requestTruncated: true }),
    );
    expect(cut.messages).toEqual([]);
    const gz = decodeCapture(
      capture({
        id: "gz",
        request: rpc({ id: 1, method: "ping" }),
        responseHeaders: [...JSON_TYPE, ["content-encoding", "gzip"]],
        response: "\x1f\x8b",
      }),
    );
    const open = decodeCapture(
      capture({
        id: "open",
        state: "open",
        responseHeaders: SSE_TYPE,
        response: `${sse(rpc({ method: "a" }))}data: ${rpc({ method: "b" })}`,
      }),
    );
    expect([cut.notes, gz.notes, open.notes]).toEqual([
      ["the request body was cut short when captured; not decoded"],
      ["the response body is gzip-encoded; not decoded"],
      [],
    ]);
    expect(open.messages.map((m) => (m.message as { method: string }).method)).toEqual(["a"]);
    const ended = decodeCapture(capture({ id: "e", request: rpc({ method: "x" }), responseHeaders: SSE_TYPE, response: "data: {}" }));
    expect(ended.notes).toEqual(["the stream ended inside an event, which a client never receives; ignored"]);
  });

  it("decodes WebSocket messages both ways, timed by the timeline", () => {
    const ws = (t: number, direction: "in" | "out", text: string): CaptureEvent => ({
      t,
      type: "ws",
      direction,
      binary: false,
      size: 0,
      text,
    });
    const { entries } = view([
      capture({
        id: "ws",
        kind: "websocket",
        method: "GET",
        request: "",
        events: [
          ws(5, "in", rpc({ id: 1, method: "tools/list" })),
          ws(9, "out", rpc({ id: 1, result: { tools: [] } })),
          ws(12, "out", "plain"),
        ],
      }),
    ]);
    expect(entries).toMatchObject([{ method: "tools/list", status: "ok", startedAt: T0 + 5, endedAt: T0 + 9, result: { tools: [] } }]);
  });
});

describe("pairing", () => {
  it("keeps string and number ids apart", () => {
    const session: HeaderList = [...JSON_TYPE, ["mcp-session-id", "s1"]];
    const { entries } = view([
      capture({ id: "1", at: T0, requestHeaders: session, request: rpc({ id: 1, method: "tools/list" }), responseHeaders: null }),
      capture({ id: "2", at: T0 + 1, requestHeaders: session, request: rpc({ id: "1", method: "prompts/list" }), responseHeaders: null }),
      capture({
        id: "3",
        at: T0 + 5,
        requestHeaders: session,
        method: "GET",
        responseHeaders: SSE_TYPE,
        response: sse(rpc({ id: "1", result: { prompts: [] } }), rpc({ id: 1, result: { tools: [] } })),
      }),
    ]);
    expect(entries.map((e) => [e.method, e.id, e.result, e.responseCaptureId])).toEqual([
      ["tools/list", 1, { tools: [] }, "3"],
      ["prompts/list", "1", { prompts: [] }, "3"],
    ]);
  });

  it("pairs the legacy SSE transport: the POST gets 202 and its answer arrives on the session's GET stream", () => {
    const stream = (id: string, at: number, session: string, answers: [number, string][]) =>
      capture({
        id,
        at,
        method: "GET",
        path: "/sse",
        state: "open",
        durationMs: 1000,
        requestHeaders: [["accept", "text/event-stream"]],
        responseHeaders: SSE_TYPE,
        response: `event: endpoint\ndata: /messages?sessionId=${session}\n\n${sse(...answers.map(([i, text]) => rpc({ id: i, result: { content: [{ type: "text", text }] } })))}`,
        events: [
          { t: 1, type: "sse", direction: "out", binary: false, size: 0, text: `event: endpoint\ndata: /messages?sessionId=${session}` },
          ...answers.map(
            ([i, text], n): CaptureEvent => ({
              t: 500 + n,
              type: "sse",
              direction: "out",
              binary: false,
              size: 0,
              text: `event: message\ndata: ${rpc({ id: i, result: { content: [{ type: "text", text }] } })}`,
            }),
          ),
        ],
      });
    const post = (id: string, at: number, session: string, callId: number, text: string) =>
      capture({
        id,
        at,
        path: `/messages?sessionId=${session}`,
        request: rpc({ id: callId, method: "tools/call", params: { name: "echo", arguments: { text } } }),
        responseHeaders: [["content-type", "text/plain"]],
        response: "Accepted",
      });
    // Two clients, each with its own stream, both calling with id 0: each answer goes to its own session.
    const { entries, notes } = view([
      stream("g1", T0, "AAA", [[0, "from A"]]),
      stream("g2", T0 + 1, "BBB", [[0, "from B"]]),
      post("p1", T0 + 400, "AAA", 0, "from A"),
      post("p2", T0 + 450, "BBB", 0, "from B"),
    ]);
    expect(entries.map((e) => [e.captureId, e.session, e.arguments, e.result, e.responseCaptureId, e.durationMs])).toEqual([
      ["p1", "AAA", { text: "from A" }, { content: [{ type: "text", text: "from A" }] }, "g1", 100],
      ["p2", "BBB", { text: "from B" }, { content: [{ type: "text", text: "from B" }] }, "g2", 51],
    ]);
    expect(notes).toEqual([]);
  });

  it("pairs a server request on the 2025 standalone GET stream with the client's answer in a later POST", () => {
    const session: HeaderList = [["mcp-session-id", "S"]];
    const { entries } = view([
      capture({
        id: "get",
        at: T0,
        method: "GET",
        requestHeaders: session,
        responseHeaders: SSE_TYPE,
        response: sse(rpc({ id: 0, method: "roots/list" })),
      }),
      capture({
        id: "call",
        at: T0 + 20,
        requestHeaders: [...session, ...JSON_TYPE],
        request: rpc({ id: 0, method: "tools/list" }),
        response: rpc({ id: 0, result: { tools: [] } }),
      }),
      capture({
        id: "answer",
        at: T0 + 30,
        requestHeaders: [...session, ...JSON_TYPE],
        request: rpc({ id: 0, result: { roots: [] } }),
        responseHeaders: null,
      }),
    ]);
    expect(entries.map((e) => [e.method, e.direction, e.captureId, e.responseCaptureId, e.result])).toEqual([
      ["roots/list", "out", "get", "answer", { roots: [] }],
      ["tools/list", "in", "call", undefined, { tools: [] }],
    ]);
  });

  it("shows a tool's JSON-RPC error and an isError result as errors, and an answer without its request on its own", () => {
    const call = (id: number, name: string) => rpc({ id, method: "tools/call", params: { name, arguments: {} } });
    const { entries } = view([
      capture({
        id: "e1",
        request: call(1, "missing"),
        response: rpc({ id: 1, error: { code: -32602, message: "Tool missing not found", data: { x: 1 } } }),
      }),
      capture({
        id: "e2",
        at: T0 + 1,
        request: call(2, "fails"),
        response: rpc({ id: 2, result: { isError: true, content: [{ type: "text", text: "boom" }] } }),
      }),
      capture({ id: "e3", at: T0 + 2, request: "", response: rpc({ id: 9, error: { code: -32001, message: "Session not found" } }) }),
      capture({ id: "e4", at: T0 + 3, request: call(4, "slow"), responseHeaders: SSE_TYPE, response: "", state: "open" }),
    ]);
    expect(entries.map((e) => [e.kind, e.status, e.toolName, e.error?.code, e.isError])).toEqual([
      ["request", "error", "missing", -32602, undefined],
      ["request", "error", "fails", undefined, true],
      // The lone error's time is its JSON response's, at the end of its exchange (T0 + 12), after "slow" began.
      ["request", "pending", "slow", undefined, undefined],
      ["error", "error", undefined, -32001, undefined],
    ]);
    expect(entries[0]?.error).toEqual({ code: -32602, message: "Tool missing not found", data: { x: 1 } });
  });

  // Public clients may all use id 1: pairing must not compare every response with every request of that id.
  describe("5,000 requests sharing id 1", () => {
    const BATCH = MCP_LIMITS.messagesPerCapture / 2;
    const call = (n: number) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: { n } } });
    const result = (n: number) => ({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: String(n) }] } });
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    const answered = (e: McpEntry) => Number((e.result as { content: { text: string }[] }).content[0]?.text);

    it("pairs each batch's answers in order, within its own exchange", () => {
      const captures = range(0, 5000 / BATCH).map((b) =>
        capture({
          id: `b${b}`,
          at: T0 + b,
          request: JSON.stringify(range(b * BATCH, BATCH).map(call)),
          response: JSON.stringify(range(b * BATCH, BATCH).map(result)),
        }),
      );
      const { entries } = view(captures, undefined, 10_000);
      expect(entries).toHaveLength(5000);
      expect(entries.every((e) => e.kind === "request" && e.status === "ok" && e.responseCaptureId === undefined)).toBe(true);
      expect(entries.map(answered)).toEqual(entries.map((e) => (e.arguments as { n: number }).n));
    });

    it("pairs answers that arrive on the session's GET streams, each request once", () => {
      const session: HeaderList = [...JSON_TYPE, ["mcp-session-id", "s1"]];
      const perStream = MCP_LIMITS.messagesPerCapture;
      const posts = range(0, 5000 / perStream).map((p) =>
        capture({
          id: `p${p}`,
          at: T0 + p,
          requestHeaders: session,
          request: JSON.stringify(range(p * perStream, perStream).map(call)),
          responseHeaders: null,
        }),
      );
      const streams = range(0, 5000 / perStream).map((g) =>
        capture({
          id: `g${g}`,
          at: T0 + 100 + g,
          method: "GET",
          requestHeaders: session,
          responseHeaders: SSE_TYPE,
          response: sse(...range(g * perStream, perStream).map((n) => JSON.stringify(result(n)))),
        }),
      );
      const { entries } = view([...posts, ...streams], undefined, 10_000);
      expect(entries).toHaveLength(5000);
      expect(entries.every((e) => e.kind === "request" && e.status === "ok" && e.responseCaptureId?.startsWith("g"))).toBe(true);
      expect(new Set(entries.map(answered)).size).toBe(5000);
    });
  });
});

describe("filter and limits", () => {
  const mixed = capture({
    id: "m",
    request: JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "a" } },
      { jsonrpc: "2.0", id: 3, method: "tools/list" },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } },
      { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "b" } },
    ]),
    response: "",
  });

  it("filters by method, a method family, and keeps the newest entries within the limit", () => {
    expect(view([mixed], "tools/call").entries.map((e) => e.toolName)).toEqual(["a", "b"]);
    expect(view([mixed], "tools").entries.map((e) => e.method)).toEqual(["tools/call", "tools/list", "tools/call"]);
    expect(view([mixed], "notifications/").entries.map((e) => e.params)).toEqual([{ progress: 1 }]);
    expect(view([mixed], "tool").entries).toEqual([]);
    expect(view([mixed], undefined, 2).entries.map((e) => e.id)).toEqual([null, 4]);
    expect(view([mixed], "initialize").methods).toEqual(["initialize", "notifications/progress", "tools/call", "tools/list"]);
    expect([methodMatches(null, "x"), methodMatches(null, undefined), methodMatches("a/b/c", "a/b")]).toEqual([false, true, true]);
  });

  it(`takes at most ${MCP_LIMITS.messagesPerCapture} messages from one capture`, () => {
    const batch = Array.from({ length: MCP_LIMITS.messagesPerCapture + 50 }, (_, i) => ({ jsonrpc: "2.0", method: `n/${i}` }));
    const decoded = decodeCapture(
      capture({ id: "big", request: JSON.stringify(batch), response: sse(rpc({ method: "late" })), responseHeaders: SSE_TYPE }),
    );
    expect(decoded.messages).toHaveLength(MCP_LIMITS.messagesPerCapture);
    expect(decoded.notes).toEqual([`more than ${MCP_LIMITS.messagesPerCapture} messages; the rest are not shown`]);
  });

  it(`parses at most ${MCP_LIMITS.bodyBytes} bytes of a body`, () => {
    const pad = "x".repeat(MCP_LIMITS.bodyBytes);
    const big = decodeCapture(capture({ id: "j", requestHeaders: MCP_JSON, request: rpc({ id: 1, method: "ping", params: { pad } }) }));
    expect(big.messages).toEqual([]);
    expect(big.notes[0]).toMatch(/is over the 1048576-byte decoding limit; not decoded/);
    const stream = `${sse(rpc({ method: "first" }))}${sse(rpc({ method: "padded", params: { pad } }))}`;
    const cut = decodeCapture(capture({ id: "s", request: rpc({ id: 1, method: "x" }), responseHeaders: SSE_TYPE, response: stream }));
    expect(cut.messages.map((m) => (m.message as { method: string }).method)).toEqual(["x", "first"]);
    expect(cut.notes).toContain(`only the first ${MCP_LIMITS.bodyBytes} bytes of the response stream are decoded`);
  });

  it(`keeps ${MCP_LIMITS.valueDepth} levels of nesting and at most ${MCP_LIMITS.notesPerCapture} notes per capture`, () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"d","arguments":${deep}}}`;
    const { entries } = view([capture({ id: "d", request: body })]);
    const text = JSON.stringify(entries);
    expect(text).toContain(`[nested deeper than ${MCP_LIMITS.valueDepth} levels]`);
    expect(text.length).toBeLessThan(1000);
    const noisy = decodeCapture(
      capture({ id: "n", request: rpc({ method: "a" }), responseHeaders: SSE_TYPE, response: "data: !\n\n".repeat(50) }),
    );
    expect(noisy.notes).toHaveLength(MCP_LIMITS.notesPerCapture);
  });

  it("keeps a __proto__ key as data", () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"p","arguments":{"__proto__":{"polluted":true}}}}';
    const [entry] = view([capture({ id: "p", request: body })]).entries;
    expect(Object.keys(entry?.arguments as object)).toEqual(["__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect((entry?.arguments as { polluted?: boolean } | undefined)?.polluted).toBeUndefined();
  });
});
