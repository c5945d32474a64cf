import { describe, expect, it } from "vitest";
import { FrameBatcher } from "../../worker/batcher";
import { concatBytes } from "../../worker/bytes";
import {
  type AgentFrame,
  CloseCode,
  decodeAgentMessage,
  decodeRelayMessage,
  encodeFrame,
  encodeFrameParts,
  FrameType,
  frame,
  HEADER_BYTES,
  LIMITS,
  PROTOCOL_VERSION,
  ProtocolError,
  type RelayFrame,
  SSE_KEEPALIVE_MS,
  TUNNEL_NAME,
} from "../../worker/protocol";

const utf8 = new TextEncoder();

/** Builds a raw frame from its parts, so the decoder is tested independently of encodeFrame. */
function raw(type: number, stream: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  return frame(type, stream, typeof payload === "string" ? utf8.encode(payload) : payload);
}

/** Decodes a message that must hold exactly one frame, through the same path the relay and agent use. */
function one<T>(frames: T[]): T {
  expect(frames).toHaveLength(1);
  return frames[0] as T;
}
const decodeAgentFrame = (m: ArrayBuffer | Uint8Array | string) => one(decodeAgentMessage(m));
const decodeRelayFrame = (m: ArrayBuffer | Uint8Array | string) => one(decodeRelayMessage(m));

const rawJson = (type: number, stream: number, value: unknown) => raw(type, stream, JSON.stringify(value));

/** Asserts `fn` throws a ProtocolError and returns it for further checks. */
function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error("expected a ProtocolError, but nothing was thrown");
}

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("constants", () => {
  it("exposes a positive integer protocol version", () => {
    expect(Number.isInteger(PROTOCOL_VERSION)).toBe(true);
    expect(PROTOCOL_VERSION).toBeGreaterThan(0);
  });

  it("keeps the limits consistent with each other", () => {
    expect(LIMITS.maxChunkBytes).toBe(64 * 1024);
    expect(LIMITS.initialWindow).toBe(256 * 1024);
    // A full chunk plus header and ws flags byte must fit in one frame.
    expect(LIMITS.maxChunkBytes + HEADER_BYTES + 1).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
    expect(LIMITS.initialWindow).toBeGreaterThanOrEqual(LIMITS.maxChunkBytes);
  });

  it("gives every frame type a distinct u8 code", () => {
    const codes = Object.values(FrameType);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c >= 1 && c <= 255).toBe(true);
  });
});

describe("frame layout", () => {
  it("writes type:u8 | stream:u32 | length:u32 big-endian | payload", () => {
    const bytes = encodeFrame({ type: "data", stream: 0x01020304, chunk: Uint8Array.of(9, 8, 7) });
    expect(Array.from(bytes)).toEqual([FrameType.data, 1, 2, 3, 4, 0, 0, 0, 3, 9, 8, 7]);
  });

  it("writes JSON heads as UTF-8 without base64", () => {
    const bytes = encodeFrame({ type: "error", code: "x", message: "héllo ✓" });
    expect(bytes[0]).toBe(FrameType.error);
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES)))).toEqual({ code: "x", message: "héllo ✓" });
  });

  it("writes the end frame as a bare header", () => {
    expect(Array.from(encodeFrame({ type: "end", stream: 7 }))).toEqual([FrameType.end, 0, 0, 0, 7, 0, 0, 0, 0]);
  });

  it("writes the credit as a big-endian u32", () => {
    expect(Array.from(encodeFrame({ type: "credit", stream: 1, bytes: 0x0a0b0c0d }))).toEqual([
      FrameType.credit,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      4,
      10,
      11,
      12,
      13,
    ]);
  });

  it("lays out body frames as a header and the body itself, uncopied, which encodeFrame joins", () => {
    const chunk = Uint8Array.of(9, 8, 7);
    for (const f of [
      { type: "data", stream: 3, chunk },
      { type: "ws-message", stream: 3, binary: true, fin: true, chunk },
    ] as const) {
      const parts = encodeFrameParts(f);
      expect(parts).toHaveLength(2);
      expect(parts[1]).toBe(chunk);
      expect(encodeFrame(f)).toEqual(concatBytes(parts, parts[0]!.byteLength + chunk.byteLength));
    }
  });

  it("writes ws-message flags as bit 0 binary, bit 1 fin", () => {
    const flags = (binary: boolean, fin: boolean) =>
      encodeFrame({ type: "ws-message", stream: 1, binary, fin, chunk: new Uint8Array(0) })[HEADER_BYTES];
    expect(flags(false, false)).toBe(0);
    expect(flags(true, false)).toBe(1);
    expect(flags(false, true)).toBe(2);
    expect(flags(true, true)).toBe(3);
  });
});

describe("round trip: agent → relay (decodeAgentFrame)", () => {
  const headers: [string, string][] = [
    ["Content-Type", "text/plain"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ];
  const frames: AgentFrame[] = [
    { type: "hello", version: PROTOCOL_VERSION, agentId: "agent-1", client: "porthole/0.1.0", force: false, heartbeatMs: 15_000 },
    { type: "hello", version: 99, agentId: "a", client: "c", force: true, heartbeatMs: 100 },
    {
      type: "hello",
      version: PROTOCOL_VERSION,
      agentId: "a",
      client: "c",
      force: false,
      heartbeatMs: 1_000,
      captureBytes: 0,
      sseKeepaliveMs: 0,
      policy: { verify: ["stripe:whsec_x"], verifyMode: "log", access: { allowIp: ["::1"] } },
    },
    { type: "error", code: "bad", message: "Cannot do the thing" },
    { type: "response-head", stream: 1, status: 200, statusText: "OK", headers, body: true },
    { type: "response-head", stream: 2, status: 101, statusText: "", headers: [], body: false },
    { type: "response-head", stream: 3, status: 599, statusText: "Weird", headers: [["x", ""]], body: false },
    { type: "data", stream: 0xffffffff, chunk: allBytes },
    { type: "end", stream: 5 },
    { type: "reset", stream: 6, code: "local-unreachable", message: "ECONNREFUSED" },
    { type: "credit", stream: 7, bytes: 1 },
    { type: "ws-accept", stream: 8, protocol: "mcp" },
    { type: "ws-accept", stream: 8, protocol: "" },
    { type: "ws-message", stream: 9, binary: true, fin: false, chunk: allBytes },
    { type: "ws-close", stream: 10, code: 1000, reason: "bye" },
  ];
  for (const f of frames) {
    it(`round-trips ${f.type} ${JSON.stringify(f).slice(0, 60)}`, () => {
      expect(decodeAgentFrame(encodeFrame(f))).toEqual(f);
    });
  }
});

describe("round trip: relay → agent (decodeRelayFrame)", () => {
  const frames: RelayFrame[] = [
    {
      type: "ready",
      version: PROTOCOL_VERSION,
      name: "brave-otter",
      url: "http://brave-otter.localhost:8787",
      pathUrl: "http://localhost:8787/t/brave-otter",
      policy: "verify stripe (enforce)",
    },
    { type: "error", code: "name-in-use", message: 'Tunnel "x" already has an agent' },
    { type: "goaway", code: "restart", message: "relay restarting" },
    { type: "notice", method: "POST", path: "/hook", status: 401, reason: "signature mismatch" },
    { type: "request-head", stream: 11, method: "POST", path: "/hook", headers: [], body: true, note: "stripe signature valid" },
    {
      type: "request-head",
      stream: 1,
      method: "POST",
      path: "//evil.example/x?q=1",
      headers: [
        ["Host", "x.localhost"],
        ["Cookie", "a"],
        ["Cookie", "b"],
      ],
      body: true,
    },
    { type: "request-head", stream: 2, method: "GET", path: "/", headers: [], body: false },
    { type: "data", stream: 3, chunk: allBytes },
    { type: "end", stream: 4 },
    { type: "reset", stream: 5, code: "client-aborted", message: "gone" },
    { type: "credit", stream: 6, bytes: LIMITS.initialWindow },
    { type: "ws-open", stream: 7, path: "/ws", headers: [["Origin", "https://a.example"]], protocols: ["mcp", "graphql-ws"] },
    { type: "ws-open", stream: 8, path: "/ws", headers: [], protocols: [] },
    { type: "ws-message", stream: 9, binary: false, fin: true, chunk: utf8.encode("hello ✓") },
    { type: "ws-close", stream: 10, code: 4000, reason: "" },
  ];
  for (const f of frames) {
    it(`round-trips ${f.type} ${JSON.stringify(f).slice(0, 60)}`, () => {
      expect(decodeRelayFrame(encodeFrame(f))).toEqual(f);
    });
  }
});

describe("binary payloads", () => {
  it("carries all 256 byte values exactly in data frames both ways", () => {
    const agent = decodeAgentFrame(encodeFrame({ type: "data", stream: 1, chunk: allBytes }));
    const relay = decodeRelayFrame(encodeFrame({ type: "data", stream: 1, chunk: allBytes }));
    for (const f of [agent, relay]) {
      if (f.type !== "data") throw new Error(`expected data, got ${f.type}`);
      expect(f.chunk.byteLength).toBe(256);
      expect(Array.from(f.chunk)).toEqual(Array.from(allBytes));
    }
  });

  it("carries a full-size random chunk byte-exact", () => {
    const chunk = new Uint8Array(LIMITS.maxChunkBytes);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;
    const f = decodeRelayFrame(encodeFrame({ type: "data", stream: 2, chunk }));
    expect(f.type === "data" && Buffer.from(f.chunk).equals(Buffer.from(chunk))).toBe(true);
  });

  it("carries empty data chunks", () => {
    expect(decodeAgentFrame(encodeFrame({ type: "data", stream: 1, chunk: new Uint8Array(0) }))).toEqual({
      type: "data",
      stream: 1,
      chunk: new Uint8Array(0),
    });
  });

  it("carries empty ws-message chunks with their flags", () => {
    for (const binary of [true, false]) {
      for (const fin of [true, false]) {
        const f = { type: "ws-message", stream: 3, binary, fin, chunk: new Uint8Array(0) } as const;
        expect(decodeAgentFrame(encodeFrame(f))).toEqual(f);
        expect(decodeRelayFrame(encodeFrame(f))).toEqual(f);
      }
    }
  });

  it("carries all 256 byte values in ws-message chunks, flag byte not leaking into the chunk", () => {
    const f = decodeRelayFrame(encodeFrame({ type: "ws-message", stream: 1, binary: true, fin: true, chunk: allBytes }));
    if (f.type !== "ws-message") throw new Error(`expected ws-message, got ${f.type}`);
    expect(Array.from(f.chunk)).toEqual(Array.from(allBytes));
  });

  it("ignores unknown ws-message flag bits", () => {
    const f = decodeAgentFrame(raw(FrameType.wsMessage, 1, Uint8Array.of(0xfc, 42)));
    expect(f).toEqual({ type: "ws-message", stream: 1, binary: false, fin: false, chunk: Uint8Array.of(42) });
  });

  it("decodes from an ArrayBuffer as well as a Uint8Array", () => {
    const bytes = encodeFrame({ type: "data", stream: 4, chunk: allBytes });
    const copy = bytes.slice().buffer;
    expect(decodeAgentFrame(copy)).toEqual({ type: "data", stream: 4, chunk: allBytes });
  });

  it("decodes a frame that is a view into a larger buffer (non-zero byteOffset)", () => {
    const inner = encodeFrame({ type: "credit", stream: 9, bytes: 12345 });
    const big = new Uint8Array(inner.byteLength + 10).fill(0xee);
    big.set(inner, 3);
    const view = big.subarray(3, 3 + inner.byteLength);
    expect(decodeRelayFrame(view)).toEqual({ type: "credit", stream: 9, bytes: 12345 });
    const data = encodeFrame({ type: "data", stream: 2, chunk: Uint8Array.of(1, 2, 3) });
    const big2 = new Uint8Array(data.byteLength + 8).fill(0xaa);
    big2.set(data, 5);
    expect(decodeRelayFrame(big2.subarray(5, 5 + data.byteLength))).toEqual({ type: "data", stream: 2, chunk: Uint8Array.of(1, 2, 3) });
  });
});

describe("credit", () => {
  for (const bytes of [1, 4096, LIMITS.initialWindow, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
    it(`round-trips ${bytes} as an unsigned u32`, () => {
      expect(decodeAgentFrame(encodeFrame({ type: "credit", stream: 1, bytes }))).toEqual({ type: "credit", stream: 1, bytes });
      expect(decodeRelayFrame(encodeFrame({ type: "credit", stream: 1, bytes }))).toEqual({ type: "credit", stream: 1, bytes });
    });
  }

  it("rejects a credit of 0", () => {
    protocolError(() => decodeAgentFrame(raw(FrameType.credit, 1, Uint8Array.of(0, 0, 0, 0))));
    protocolError(() => decodeRelayFrame(raw(FrameType.credit, 1, Uint8Array.of(0, 0, 0, 0))));
  });

  for (const len of [0, 3, 5, 8]) {
    it(`rejects a credit payload of ${len} bytes`, () => {
      const e = protocolError(() => decodeRelayFrame(raw(FrameType.credit, 1, new Uint8Array(len).fill(1))));
      expect(e.closeCode).toBe(CloseCode.protocolError);
      protocolError(() => decodeAgentFrame(raw(FrameType.credit, 1, new Uint8Array(len).fill(1))));
    });
  }
});

describe("rejections", () => {
  const both = [
    ["agent", decodeAgentFrame],
    ["relay", decodeRelayFrame],
  ] as const;

  for (const [side, decode] of both) {
    describe(`decode${side === "agent" ? "Agent" : "Relay"}Frame`, () => {
      it("rejects text messages", () => {
        const e = protocolError(() => decode("hello"));
        expect(e.closeCode).toBe(CloseCode.protocolError);
        protocolError(() => decode(""));
        // Even a text message that looks like JSON.
        protocolError(() => decode('{"type":"hello"}'));
      });

      for (const len of [0, 1, 4]) {
        it(`rejects a ${len}-byte message (shorter than the header)`, () => {
          protocolError(() => decode(new Uint8Array(len).fill(FrameType.end)));
        });
      }

      for (const type of [0, 5, 9, 16, 19, 24, 99, 255]) {
        it(`rejects unknown type ${type}`, () => {
          protocolError(() => decode(raw(type, 1, "{}")));
          protocolError(() => decode(raw(type, 0)));
        });
      }

      for (const [name, type, payload] of [
        ["data", FrameType.data, "x"],
        ["end", FrameType.end, ""],
        ["reset", FrameType.reset, '{"code":"local-error","message":"m"}'],
        ["credit", FrameType.credit, Uint8Array.of(0, 0, 1, 0)],
        ["ws-message", FrameType.wsMessage, Uint8Array.of(3, 1)],
        ["ws-close", FrameType.wsClose, '{"code":1000,"reason":""}'],
      ] as const) {
        it(`rejects ${name} on stream 0 but accepts it on stream 1`, () => {
          protocolError(() => decode(raw(type, 0, payload)));
          expect(decode(raw(type, 1, payload)).type).toBe(name);
        });
      }

      it("rejects a ws-message without the flags byte", () => {
        protocolError(() => decode(raw(FrameType.wsMessage, 1)));
      });

      it("rejects error frames that are not valid JSON objects", () => {
        for (const p of ["", "{", "not json", "null", "[]", '"str"', "42", "true", '["code","message"]']) {
          protocolError(() => decode(raw(FrameType.error, 0, p)));
        }
      });

      it("rejects invalid UTF-8 inside a JSON payload", () => {
        const bad = Uint8Array.of(...utf8.encode('{"code":"x","message":"'), 0xc3, 0x28, ...utf8.encode('"}'));
        protocolError(() => decode(raw(FrameType.error, 0, bad)));
        const lone = Uint8Array.of(...utf8.encode('{"code":"x","message":"'), 0xff, ...utf8.encode('"}'));
        protocolError(() => decode(raw(FrameType.error, 0, lone)));
        const surrogate = Uint8Array.of(...utf8.encode('{"code":"x","message":"'), 0xed, 0xa0, 0x80, ...utf8.encode('"}'));
        protocolError(() => decode(raw(FrameType.error, 0, surrogate)));
      });

      it("rejects JSON fields of the wrong type", () => {
        protocolError(() => decode(rawJson(FrameType.error, 0, { code: 1, message: "m" })));
        protocolError(() => decode(rawJson(FrameType.error, 0, { code: "c" })));
        protocolError(() => decode(rawJson(FrameType.reset, 1, { code: "c", message: null })));
        protocolError(() => decode(rawJson(FrameType.wsClose, 1, { code: "1000", reason: "" })));
        protocolError(() => decode(rawJson(FrameType.wsClose, 1, { reason: "" })));
      });

      it("rejects frames larger than LIMITS.maxMessageBytes with close code 1009", () => {
        const big = raw(FrameType.data, 1, new Uint8Array(LIMITS.maxMessageBytes - HEADER_BYTES + 1));
        expect(big.byteLength).toBe(LIMITS.maxMessageBytes + 1);
        const e = protocolError(() => decode(big));
        expect(e.closeCode).toBe(CloseCode.tooLarge);
        expect(e.closeCode).toBe(1009);
        // An oversized frame of an otherwise valid JSON type is refused on size alone.
        const json = raw(FrameType.error, 0, `{"code":"x","message":"${"a".repeat(LIMITS.maxMessageBytes)}"}`);
        expect(protocolError(() => decode(json)).closeCode).toBe(1009);
        // An oversized garbage frame too.
        expect(protocolError(() => decode(new Uint8Array(LIMITS.maxMessageBytes + 1).fill(0xff))).closeCode).toBe(1009);
      });

      it("accepts a JSON frame of exactly LIMITS.maxMessageBytes", () => {
        const prefix = '{"code":"x","message":"';
        const suffix = '"}';
        const fill = LIMITS.maxMessageBytes - HEADER_BYTES - prefix.length - suffix.length;
        const f = raw(FrameType.error, 0, `${prefix}${"a".repeat(fill)}${suffix}`);
        expect(f.byteLength).toBe(LIMITS.maxMessageBytes);
        const out = decode(f);
        expect(out.type === "error" && out.message.length).toBe(fill);
      });

      it("rejects data payloads over LIMITS.maxChunkBytes with 1009 and accepts exactly the limit", () => {
        expect(decode(raw(FrameType.data, 1, new Uint8Array(LIMITS.maxChunkBytes))).type).toBe("data");
        const e = protocolError(() => decode(raw(FrameType.data, 1, new Uint8Array(LIMITS.maxChunkBytes + 1))));
        expect(e.closeCode).toBe(1009);
      });

      it("rejects ws-message chunks over LIMITS.maxChunkBytes with 1009 and accepts exactly the limit", () => {
        const ok = new Uint8Array(1 + LIMITS.maxChunkBytes);
        ok[0] = 3;
        expect(decode(raw(FrameType.wsMessage, 1, ok)).type).toBe("ws-message");
        const tooBig = new Uint8Array(2 + LIMITS.maxChunkBytes);
        tooBig[0] = 3;
        expect(protocolError(() => decode(raw(FrameType.wsMessage, 1, tooBig))).closeCode).toBe(1009);
      });
    });
  }

  describe("direction", () => {
    const relayOnly: RelayFrame[] = [
      { type: "ready", version: 1, name: "n", url: "u", pathUrl: "p", policy: "" },
      { type: "goaway", code: "c", message: "m" },
      { type: "request-head", stream: 1, method: "GET", path: "/", headers: [], body: false },
      { type: "ws-open", stream: 1, path: "/", headers: [], protocols: [] },
    ];
    for (const f of relayOnly) {
      it(`decodeAgentFrame rejects the relay-only ${f.type}`, () => {
        expect(decodeRelayFrame(encodeFrame(f)).type).toBe(f.type);
        protocolError(() => decodeAgentFrame(encodeFrame(f)));
      });
    }

    const agentOnly: AgentFrame[] = [
      { type: "hello", version: 1, agentId: "a", client: "c", force: false, heartbeatMs: 60_000 },
      { type: "response-head", stream: 1, status: 200, statusText: "OK", headers: [], body: false },
      { type: "ws-accept", stream: 1, protocol: "" },
    ];
    for (const f of agentOnly) {
      it(`decodeRelayFrame rejects the agent-only ${f.type}`, () => {
        expect(decodeAgentFrame(encodeFrame(f)).type).toBe(f.type);
        protocolError(() => decodeRelayFrame(encodeFrame(f)));
      });
    }
  });

  describe("JSON heads", () => {
    const head = (over: Record<string, unknown>) =>
      rawJson(FrameType.responseHead, 1, { status: 200, statusText: "OK", headers: [], body: true, ...over });

    it("rejects a response-head that is not JSON, or not an object", () => {
      for (const p of ["", "{status:200}", "[1,2]", "null", "200", '"x"']) {
        protocolError(() => decodeAgentFrame(raw(FrameType.responseHead, 1, p)));
      }
    });

    it("rejects a response-head on stream 0", () => {
      protocolError(() => decodeAgentFrame(raw(FrameType.responseHead, 0, '{"status":200,"headers":[],"body":false}')));
    });

    for (const status of [0, 99, 100, 600, 999, -200, 200.5, "200", null, Number.NaN]) {
      it(`rejects response status ${JSON.stringify(status)}`, () => {
        protocolError(() => decodeAgentFrame(head({ status })));
      });
    }

    for (const status of [101, 200, 204, 304, 404, 599]) {
      it(`accepts response status ${status}`, () => {
        expect(decodeAgentFrame(head({ status }))).toMatchObject({ type: "response-head", status });
      });
    }

    const badHeaders: unknown[] = [
      undefined,
      null,
      "Content-Type: x",
      { "Content-Type": "x" },
      [["only-name"]],
      [["a", "b", "c"]],
      [["a", 1]],
      [[1, "a"]],
      [["a", null]],
      ["a", "b"],
      [["ok", "ok"], "bad"],
      [{ 0: "a", 1: "b", length: 2 }],
    ];
    for (const headers of badHeaders) {
      it(`rejects headers ${JSON.stringify(headers)}`, () => {
        protocolError(() => decodeAgentFrame(head({ headers })));
        protocolError(() => decodeRelayFrame(rawJson(FrameType.requestHead, 1, { method: "GET", path: "/", headers, body: false })));
        protocolError(() => decodeRelayFrame(rawJson(FrameType.wsOpen, 1, { path: "/", headers, protocols: [] })));
      });
    }

    it("keeps header order and repeats exactly", () => {
      const headers = [
        ["b", "1"],
        ["a", "2"],
        ["Set-Cookie", "x=1"],
        ["set-cookie", "y=2"],
        ["b", "3"],
      ];
      expect(decodeAgentFrame(head({ headers }))).toMatchObject({ headers });
    });

    it("rejects a request-head missing method or path", () => {
      protocolError(() => decodeRelayFrame(rawJson(FrameType.requestHead, 1, { path: "/", headers: [], body: false })));
      protocolError(() => decodeRelayFrame(rawJson(FrameType.requestHead, 1, { method: "GET", headers: [], body: false })));
      protocolError(() => decodeRelayFrame(rawJson(FrameType.requestHead, 0, { method: "GET", path: "/", headers: [], body: false })));
    });

    it("treats body as true only when it is literally true", () => {
      for (const body of [1, "true", null, undefined, false]) {
        expect(decodeAgentFrame(head({ body }))).toMatchObject({ body: false });
      }
      expect(decodeAgentFrame(head({ body: true }))).toMatchObject({ body: true });
    });

    it("rejects a hello without a numeric version or string ids", () => {
      protocolError(() => decodeAgentFrame(rawJson(FrameType.hello, 0, { agentId: "a", client: "c" })));
      protocolError(() => decodeAgentFrame(rawJson(FrameType.hello, 0, { version: "1", agentId: "a", client: "c" })));
      protocolError(() => decodeAgentFrame(rawJson(FrameType.hello, 0, { version: 1, client: "c" })));
      protocolError(() => decodeAgentFrame(rawJson(FrameType.hello, 0, { version: 1, agentId: "a", client: 5 })));
      protocolError(() => decodeAgentFrame(raw(FrameType.hello, 0, "garbage")));
    });

    it("takes an SSE keepalive of 0 (off) or within SSE_KEEPALIVE_MS, and nothing else", () => {
      const hello = (sseKeepaliveMs: unknown) =>
        rawJson(FrameType.hello, 0, { version: 1, agentId: "a", client: "c", heartbeatMs: 1000, sseKeepaliveMs });
      for (const ms of [0, SSE_KEEPALIVE_MS.min, SSE_KEEPALIVE_MS.default, SSE_KEEPALIVE_MS.max]) {
        expect(decodeAgentFrame(hello(ms))).toMatchObject({ sseKeepaliveMs: ms });
      }
      for (const ms of [1, SSE_KEEPALIVE_MS.min - 1, SSE_KEEPALIVE_MS.max + 1, -1, "20000", null, Number.NaN]) {
        protocolError(() => decodeAgentFrame(hello(ms)));
      }
    });

    it("rejects a ready without its strings", () => {
      protocolError(() => decodeRelayFrame(rawJson(FrameType.ready, 0, { version: 1, name: "n", url: "u" })));
      protocolError(() => decodeRelayFrame(rawJson(FrameType.ready, 0, { version: 1, name: 3, url: "u", pathUrl: "p" })));
    });

    it("drops non-string ws-open protocols", () => {
      expect(decodeRelayFrame(rawJson(FrameType.wsOpen, 1, { path: "/", headers: [], protocols: ["a", 1, null, "b"] }))).toMatchObject({
        protocols: ["a", "b"],
      });
    });
  });
});

describe("ProtocolError", () => {
  it("defaults to close code 1002 and carries its name and message", () => {
    const e = new ProtocolError("boom");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ProtocolError");
    expect(e.message).toBe("boom");
    expect(e.closeCode).toBe(1002);
    expect(new ProtocolError("big", CloseCode.tooLarge).closeCode).toBe(1009);
  });

  it("names the limit in an oversize message", () => {
    const e = protocolError(() => decodeAgentFrame(raw(FrameType.data, 1, new Uint8Array(LIMITS.maxChunkBytes + 1))));
    expect(e.message).toContain(String(LIMITS.maxChunkBytes));
  });
});

describe("TUNNEL_NAME", () => {
  const ok = ["a", "0", "ab", "a1", "brave-otter-4k2q", "a-b", "a--b", "1234", "x".repeat(63), `a${"-".repeat(61)}b`];
  const bad = ["", "x".repeat(64), "-a", "a-", "-", "A", "Brave-otter", "abC", "a_b", "a.b", "a b", " a", "a\n", "é", "a/b", "xn--"];
  for (const name of ok) {
    it(`accepts ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      expect(TUNNEL_NAME.test(name)).toBe(true);
    });
  }
  for (const name of bad) {
    it(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      expect(TUNNEL_NAME.test(name)).toBe(false);
    });
  }
});

describe("messages of several frames", () => {
  const head: AgentFrame = { type: "response-head", stream: 5, status: 200, statusText: "OK", headers: [["a", "1"]], body: true };
  const data: AgentFrame = { type: "data", stream: 5, chunk: allBytes };
  const end: AgentFrame = { type: "end", stream: 5 };
  const concat = (...parts: Uint8Array[]) =>
    concatBytes(
      parts,
      parts.reduce((n, p) => n + p.byteLength, 0),
    );

  it("decodes every frame of a message, in order", () => {
    expect(decodeAgentMessage(concat(encodeFrame(head), encodeFrame(data), encodeFrame(end)))).toEqual([head, data, end]);
  });

  it("rejects the whole message when one frame is bad, before decoding any", () => {
    const e = protocolError(() => decodeAgentMessage(concat(encodeFrame(head), raw(99, 5, "x"))));
    expect(e.message).toMatch(/frame type 99/);
  });

  it("rejects a length that runs past the end, and trailing bytes shorter than a header", () => {
    const truncated = encodeFrame(data).subarray(0, 40);
    expect(protocolError(() => decodeAgentMessage(truncated)).message).toMatch(/claims more bytes/);
    expect(protocolError(() => decodeAgentMessage(concat(encodeFrame(end), Uint8Array.of(1, 2)))).message).toMatch(/shorter than its/);
  });
});

describe("FrameBatcher", () => {
  it("packs frames pushed in one turn into one message, and sends a lone frame as is", () => {
    const sent: Uint8Array[] = [];
    let flushLater: (() => void) | undefined;
    const batcher = new FrameBatcher(
      (m) => sent.push(m),
      (fn) => {
        flushLater = fn;
      },
    );
    const frames = [encodeFrameParts({ type: "end", stream: 1 }), encodeFrameParts({ type: "credit", stream: 2, bytes: 9 })];
    for (const f of frames) batcher.push(f);
    expect(sent).toEqual([]);
    flushLater?.();
    expect(sent).toHaveLength(1);
    expect(decodeRelayMessage(sent[0] as Uint8Array)).toEqual([
      { type: "end", stream: 1 },
      { type: "credit", stream: 2, bytes: 9 },
    ]);
    batcher.push(frames[0] as Uint8Array[]);
    flushLater?.();
    expect(sent[1]).toBe(frames[0]?.[0]);
  });

  it("never builds a message over LIMITS.maxMessageBytes", () => {
    const sent: Uint8Array[] = [];
    const batcher = new FrameBatcher(
      (m) => sent.push(m),
      () => {},
    );
    const chunk = new Uint8Array(LIMITS.maxChunkBytes);
    for (let i = 0; i < 40; i++) batcher.push(encodeFrameParts({ type: "data", stream: 1, chunk }));
    batcher.flush();
    expect(sent.every((m) => m.byteLength <= LIMITS.maxMessageBytes)).toBe(true);
    expect(sent.reduce((n, m) => n + decodeAgentMessage(m).length, 0)).toBe(40);
  });
});
