import { describe, expect, it } from "vitest";
import {
  addForwarded,
  applyHost,
  HEADER_LIMITS,
  headerValue,
  oversizedHeaders,
  stripForWebSocket,
  stripHopByHop,
} from "../../worker/headers";
import type { HeaderList } from "../../worker/protocol";

describe("stripHopByHop", () => {
  it("removes every standard hop-by-hop header, case-insensitively", () => {
    const input: HeaderList = [
      ["Connection", "keep-alive"],
      ["Keep-Alive", "timeout=5"],
      ["Transfer-Encoding", "chunked"],
      ["UPGRADE", "websocket"],
      ["te", "trailers"],
      ["Trailer", "Expires"],
      ["Proxy-Connection", "keep-alive"],
      ["Proxy-Authenticate", "Basic"],
      ["Proxy-Authorization", "Basic abc"],
      ["Content-Type", "text/plain"],
    ];
    expect(stripHopByHop(input)).toEqual([["Content-Type", "text/plain"]]);
  });

  it("removes any Proxy-* header, not only the well-known ones", () => {
    expect(
      stripHopByHop([
        ["Proxy-Foo", "1"],
        ["proxy-status", "x"],
        ["X-Proxy", "keep"],
        ["Proxyish", "keep"],
      ]),
    ).toEqual([
      ["X-Proxy", "keep"],
      ["Proxyish", "keep"],
    ]);
  });

  it("removes headers named in Connection, with spaces, case and several Connection headers", () => {
    const input: HeaderList = [
      ["X-Keep", "1"],
      ["Connection", " X-Secret ,  x-other"],
      ["x-secret", "a"],
      ["X-Other", "b"],
      ["connection", "X-Third"],
      ["X-THIRD", "c"],
      ["Authorization", "Bearer t"],
    ];
    expect(stripHopByHop(input)).toEqual([
      ["X-Keep", "1"],
      ["Authorization", "Bearer t"],
    ]);
  });

  it("removes a Connection-named header even when it appears before Connection", () => {
    expect(
      stripHopByHop([
        ["X-Early", "1"],
        ["Connection", "x-early"],
      ]),
    ).toEqual([]);
  });

  it("keeps the order and repeats of everything else (several Set-Cookie)", () => {
    const input: HeaderList = [
      ["Set-Cookie", "a=1; Path=/"],
      ["Content-Type", "text/html"],
      ["Connection", "close"],
      ["set-cookie", "b=2"],
      ["Vary", "Accept"],
      ["Set-Cookie", "c=3; HttpOnly"],
      ["Vary", "Origin"],
    ];
    expect(stripHopByHop(input)).toEqual([
      ["Set-Cookie", "a=1; Path=/"],
      ["Content-Type", "text/html"],
      ["set-cookie", "b=2"],
      ["Vary", "Accept"],
      ["Set-Cookie", "c=3; HttpOnly"],
      ["Vary", "Origin"],
    ]);
  });

  it("keeps Origin, Host and end-to-end headers untouched and does not mutate its input", () => {
    const input: HeaderList = [
      ["Host", "x.example"],
      ["Origin", "https://app.example"],
      ["Connection", "upgrade"],
      ["Upgrade", "websocket"],
      ["Content-Length", "5"],
    ];
    const copy = structuredClone(input);
    expect(stripHopByHop(input)).toEqual([
      ["Host", "x.example"],
      ["Origin", "https://app.example"],
      ["Content-Length", "5"],
    ]);
    expect(input).toEqual(copy);
  });

  it("returns an empty list for an empty list", () => {
    expect(stripHopByHop([])).toEqual([]);
  });
});

describe("stripForWebSocket", () => {
  it("drops the Sec-WebSocket-* handshake headers and the hop-by-hop ones, keeping the rest in order", () => {
    const input: HeaderList = [
      ["Host", "x.localhost"],
      ["Connection", "Upgrade"],
      ["Upgrade", "websocket"],
      ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ["Sec-WebSocket-Version", "13"],
      ["sec-websocket-extensions", "permessage-deflate"],
      ["Sec-WebSocket-Protocol", "mcp"],
      ["SEC-WEBSOCKET-ACCEPT", "x"],
      ["Origin", "https://app.example"],
      ["Cookie", "a=1"],
      ["Cookie", "b=2"],
    ];
    expect(stripForWebSocket(input)).toEqual([
      ["Host", "x.localhost"],
      ["Origin", "https://app.example"],
      ["Cookie", "a=1"],
      ["Cookie", "b=2"],
    ]);
  });

  it("leaves ordinary requests alone apart from hop-by-hop", () => {
    expect(stripForWebSocket([["Accept", "*/*"]])).toEqual([["Accept", "*/*"]]);
  });
});

describe("addForwarded", () => {
  const opts = { clientIp: "203.0.113.7", proto: "https", host: "brave-otter.example.com" };

  it("adds X-Forwarded-For/-Proto/-Host after the existing headers", () => {
    expect(addForwarded([["Accept", "*/*"]], opts)).toEqual([
      ["Accept", "*/*"],
      ["X-Forwarded-For", "203.0.113.7"],
      ["X-Forwarded-Proto", "https"],
      ["X-Forwarded-Host", "brave-otter.example.com"],
    ]);
  });

  it("appends the client to an existing X-Forwarded-For chain", () => {
    const out = addForwarded(
      [
        ["X-Forwarded-For", "198.51.100.1, 10.0.0.1"],
        ["Accept", "*/*"],
      ],
      opts,
    );
    expect(out.filter(([k]) => k.toLowerCase() === "x-forwarded-for")).toEqual([
      ["X-Forwarded-For", "198.51.100.1, 10.0.0.1, 203.0.113.7"],
    ]);
    expect(out[0]).toEqual(["Accept", "*/*"]);
  });

  it("joins several X-Forwarded-For headers into one chain in order", () => {
    const out = addForwarded(
      [
        ["x-forwarded-for", "1.1.1.1"],
        ["X-Forwarded-For", "2.2.2.2"],
      ],
      opts,
    );
    expect(out.filter(([k]) => k.toLowerCase() === "x-forwarded-for")).toEqual([["X-Forwarded-For", "1.1.1.1, 2.2.2.2, 203.0.113.7"]]);
  });

  it("replaces client-sent X-Forwarded-Proto and X-Forwarded-Host", () => {
    const out = addForwarded(
      [
        ["X-Forwarded-Proto", "gopher"],
        ["x-forwarded-host", "evil.example"],
        ["X-Forwarded-Host", "evil2.example"],
        ["Cookie", "a"],
      ],
      opts,
    );
    expect(out).toEqual([
      ["Cookie", "a"],
      ["X-Forwarded-For", "203.0.113.7"],
      ["X-Forwarded-Proto", "https"],
      ["X-Forwarded-Host", "brave-otter.example.com"],
    ]);
    expect(headerValue(out, "x-forwarded-host")).toBe("brave-otter.example.com");
    expect(headerValue(out, "X-FORWARDED-PROTO")).toBe("https");
  });

  it("keeps an existing chain but adds nothing when the client IP is unknown", () => {
    expect(addForwarded([["X-Forwarded-For", "1.1.1.1"]], { ...opts, clientIp: "" })).toEqual([
      ["X-Forwarded-For", "1.1.1.1"],
      ["X-Forwarded-Proto", "https"],
      ["X-Forwarded-Host", "brave-otter.example.com"],
    ]);
    expect(addForwarded([], { ...opts, clientIp: "" }).map(([k]) => k)).toEqual(["X-Forwarded-Proto", "X-Forwarded-Host"]);
  });

  it("keeps the order and repeats of the other headers", () => {
    const out = addForwarded(
      [
        ["Cookie", "1"],
        ["X-Forwarded-For", "9.9.9.9"],
        ["Cookie", "2"],
        ["Accept", "x"],
      ],
      opts,
    );
    expect(out.slice(0, 3)).toEqual([
      ["Cookie", "1"],
      ["Cookie", "2"],
      ["Accept", "x"],
    ]);
  });
});

describe("applyHost", () => {
  const headers: HeaderList = [
    ["Accept", "*/*"],
    ["Host", "brave-otter.example.com"],
    ["Origin", "https://brave-otter.example.com"],
  ];

  it("rewrite sets Host to the target, in Host's position, and leaves Origin alone", () => {
    expect(applyHost(headers, "rewrite", "localhost:3000")).toEqual([
      ["Accept", "*/*"],
      ["Host", "localhost:3000"],
      ["Origin", "https://brave-otter.example.com"],
    ]);
  });

  it("rewrite matches Host case-insensitively and keeps the header's own spelling", () => {
    expect(
      applyHost(
        [
          ["a", "1"],
          ["host", "public"],
          ["b", "2"],
        ],
        "rewrite",
        "127.0.0.1:8080",
      ),
    ).toEqual([
      ["a", "1"],
      ["host", "127.0.0.1:8080"],
      ["b", "2"],
    ]);
  });

  it("preserve keeps the public Host", () => {
    expect(applyHost(headers, "preserve", "localhost:3000")).toEqual(headers);
  });

  it("a fixed value sets Host to that value in place", () => {
    expect(applyHost(headers, { value: "api.internal" }, "localhost:3000")).toEqual([
      ["Accept", "*/*"],
      ["Host", "api.internal"],
      ["Origin", "https://brave-otter.example.com"],
    ]);
  });

  it("adds Host when it is missing", () => {
    expect(applyHost([["Accept", "*/*"]], "rewrite", "localhost:3000")).toEqual([
      ["Host", "localhost:3000"],
      ["Accept", "*/*"],
    ]);
    expect(applyHost([], { value: "v" }, "localhost:3000")).toEqual([["Host", "v"]]);
  });

  it("never leaves two different Host values", () => {
    const out = applyHost(
      [
        ["Host", "a"],
        ["X", "1"],
        ["host", "b"],
      ],
      "rewrite",
      "t:1",
    );
    expect(new Set(out.filter(([k]) => k.toLowerCase() === "host").map(([, v]) => v))).toEqual(new Set(["t:1"]));
  });

  it("does not mutate its input", () => {
    const copy = structuredClone(headers);
    applyHost(headers, "rewrite", "localhost:3000");
    applyHost(headers, { value: "x" }, "localhost:3000");
    expect(headers).toEqual(copy);
  });
});

describe("headerValue", () => {
  it("returns the first value, case-insensitively, or undefined", () => {
    const h: HeaderList = [
      ["Set-Cookie", "a"],
      ["set-cookie", "b"],
    ];
    expect(headerValue(h, "SET-COOKIE")).toBe("a");
    expect(headerValue(h, "x")).toBeUndefined();
  });
});

describe("oversizedHeaders", () => {
  const lines = (n: number): HeaderList => Array.from({ length: n }, (_, i) => [`x-${i}`, "v"]);

  it("passes a block at the line limit and refuses one line more, naming the count and the limit", () => {
    expect(oversizedHeaders(lines(HEADER_LIMITS.count))).toBeNull();
    expect(oversizedHeaders(lines(HEADER_LIMITS.count + 1))).toBe(
      `its ${HEADER_LIMITS.count + 1} header lines exceed the relay's limit of ${HEADER_LIMITS.count}`,
    );
  });

  it("counts bytes as on the wire (name, colon, space, value, CRLF) and refuses one byte over", () => {
    const name = "x-big";
    const fits = HEADER_LIMITS.bytes - name.length - 4;
    expect(oversizedHeaders([[name, "a".repeat(fits)]])).toBeNull();
    expect(oversizedHeaders([[name, "a".repeat(fits + 1)]])).toBe(
      `its ${HEADER_LIMITS.bytes + 1} bytes of headers exceed the relay's limit of ${HEADER_LIMITS.bytes / 1024} KiB`,
    );
  });
});
