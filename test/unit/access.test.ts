import { describe, expect, it } from "vitest";
import {
  ACCESS_LIMITS,
  AccessRuleError,
  type AccessRules,
  checkAccess,
  consumesAuthorization,
  type Denial,
  describeAccess,
  parseAccessRules,
  parseRateLimit,
  RateLimiter,
  redactCredentials,
} from "../../worker/access";
import { RATE_LIMIT } from "../../worker/rate-limit";
import { sameBytes, sameDigest, sameText } from "../../worker/timing-safe";

const T0 = 1_700_000_000_000;
const CLIENT = "203.0.113.9";
const basic = (userPass: string) => `Basic ${Buffer.from(userPass, "utf8").toString("base64")}`;
const BASIC_CHALLENGE = 'Basic realm="porthole", charset="UTF-8"';
const BEARER_CHALLENGE = 'Bearer realm="porthole"';

/** The AccessRuleError message parseAccessRules throws for `input`, failing the test when it does not throw one. */
function ruleError(input: unknown): string {
  try {
    parseAccessRules(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AccessRuleError);
    return (err as Error).message;
  }
  throw new Error(`parseAccessRules(${JSON.stringify(input)}) did not throw`);
}

/** Checks one request with a fresh limiter for the rules (or a given one) at T0. */
function check(
  rules: AccessRules,
  opts: { authorization?: string; clientIp?: string; limiter?: RateLimiter; now?: number } = {},
): Promise<Denial | null> {
  const headers: [string, string][] = [["Host", "demo.localhost"]];
  if (opts.authorization !== undefined) headers.push(["Authorization", opts.authorization]);
  const limiter = opts.limiter ?? new RateLimiter(rules.rateLimitPerMinute ?? 0);
  return checkAccess(rules, { headers, clientIp: opts.clientIp ?? CLIENT }, limiter, opts.now ?? T0);
}

describe("parseAccessRules", () => {
  it("returns an open, frozen copy for no rules", () => {
    expect(parseAccessRules(undefined)).toEqual({});
    const rules = parseAccessRules({ basicAuth: [], bearer: [], allowIp: [] });
    expect(rules).toEqual({});
    expect(Object.isFrozen(rules)).toBe(true);
  });

  it("normalises: canonical ranges, duplicates removed, the input left alone", () => {
    const input = { basicAuth: ["a:1", "a:1", "b:2"], bearer: ["t1", "t1"], allowIp: ["2001:DB8:0::/32", "2001:db8::/32", "10.0.0.0/8"] };
    const rules = parseAccessRules({ ...input, rateLimitPerMinute: 60 });
    expect(rules).toEqual({ basicAuth: ["a:1", "b:2"], bearer: ["t1"], allowIp: ["2001:db8::/32", "10.0.0.0/8"], rateLimitPerMinute: 60 });
    expect(Object.isFrozen(rules.allowIp)).toBe(true);
    expect(input.allowIp[0]).toBe("2001:DB8:0::/32");
  });

  it("refuses anything but an object of known options", () => {
    expect(ruleError(null)).toBe("Cannot apply access rules: expected an object of options");
    expect(ruleError(["--bearer"])).toBe("Cannot apply access rules: expected an object of options");
    expect(ruleError({ allowIP: ["10.0.0.0/8"] })).toBe('Cannot apply access rules: unknown option "allowIP"');
    expect(ruleError({ bearer: "t" })).toBe("--bearer: expected a list of strings");
    expect(ruleError({ allowIp: [10] })).toBe("--allow-ip: expected a list of strings");
  });

  it("keeps a password that contains ':' whole, splitting only at the first ':'", () => {
    expect(parseAccessRules({ basicAuth: ["alice:pa:ss:"] }).basicAuth).toEqual(["alice:pa:ss:"]);
  });

  it("refuses basic-auth entries without naming their secret", () => {
    expect(ruleError({ basicAuth: ["ok:1", "hunter2"] })).toBe('--basic-auth (entry 2): expected "user:password" but there is no ":"');
    expect(ruleError({ basicAuth: [":hunter2"] })).toBe("--basic-auth (entry 1): the user name is empty");
    expect(ruleError({ basicAuth: ["alice:"] })).toBe('--basic-auth (user "alice"): the password is empty');
    expect(ruleError({ basicAuth: ["alice:hun\nter2"] })).toBe("--basic-auth (entry 1): contains a control character");
    const long = `alice:${"x".repeat(ACCESS_LIMITS.maxCredentialChars)}`;
    expect(ruleError({ basicAuth: [long] })).toBe(`--basic-auth (entry 1): longer than ${ACCESS_LIMITS.maxCredentialChars} characters`);
    expect(parseAccessRules({ basicAuth: [long.slice(0, ACCESS_LIMITS.maxCredentialChars)] }).basicAuth).toHaveLength(1);
  });

  it("refuses bearer tokens that are empty, spaced, non-ASCII or too long, without naming them", () => {
    for (const token of ["", "sec ret", "sécret"]) {
      const message = ruleError({ bearer: ["fine", token] });
      expect(message).toBe("--bearer (token 2): only visible ASCII characters, without spaces, are allowed");
    }
    expect(ruleError({ bearer: ["sec\tret"] })).toBe("--bearer (token 1): contains a control character");
    const long = "t".repeat(ACCESS_LIMITS.maxCredentialChars + 1);
    expect(ruleError({ bearer: [long] })).toBe(`--bearer (token 1): longer than ${ACCESS_LIMITS.maxCredentialChars} characters`);
  });

  it(`limits each credential list to ACCESS_LIMITS.maxCredentials (${ACCESS_LIMITS.maxCredentials}) entries`, () => {
    const tokens = Array.from({ length: ACCESS_LIMITS.maxCredentials }, (_, i) => `token-${i}`);
    expect(parseAccessRules({ bearer: tokens }).bearer).toHaveLength(ACCESS_LIMITS.maxCredentials);
    expect(ruleError({ bearer: [...tokens, "one-more"] })).toBe(
      `--bearer: ${ACCESS_LIMITS.maxCredentials + 1} entries is over the limit of ${ACCESS_LIMITS.maxCredentials}`,
    );
    const users = tokens.map((t) => `${t}:pw`);
    expect(ruleError({ basicAuth: [...users, "x:y"] })).toContain("--basic-auth: 33 entries is over the limit");
  });

  it("refuses allow-ip entries, naming the entry and the cause", () => {
    expect(ruleError({ allowIp: ["10.0.0.0/33"] })).toBe('--allow-ip "10.0.0.0/33": prefix length 33 is over 32 for IPv4');
    expect(ruleError({ allowIp: ["fe80::1%eth0"] })).toBe('--allow-ip "fe80::1%eth0": zone ids ("%eth0") are not allowed');
    expect(ruleError({ allowIp: ["10.0.0.1/8"] })).toBe('--allow-ip "10.0.0.1/8": host bits are set; the network is 10.0.0.0/8');
    expect(ruleError({ allowIp: ["example.com"] })).toBe('--allow-ip "example.com": "example.com" is not a dotted-quad IPv4 address');
    expect(ruleError({ allowIp: ["1.2.3.4", "x".repeat(65)] })).toBe("--allow-ip (entry 2): longer than 64 characters");
  });

  it(`limits allow-ip to ACCESS_LIMITS.maxAllowIp (${ACCESS_LIMITS.maxAllowIp}) entries`, () => {
    const ranges = Array.from({ length: ACCESS_LIMITS.maxAllowIp + 1 }, (_, i) => `10.0.${i}.0/24`);
    expect(parseAccessRules({ allowIp: ranges.slice(1) }).allowIp).toHaveLength(ACCESS_LIMITS.maxAllowIp);
    expect(ruleError({ allowIp: ranges })).toContain(`over the limit of ${ACCESS_LIMITS.maxAllowIp}`);
  });

  it("accepts a whole rate from 1 to RATE_LIMIT.maxPerMinute and refuses the rest", () => {
    expect(parseAccessRules({ rateLimitPerMinute: 1 }).rateLimitPerMinute).toBe(1);
    expect(parseAccessRules({ rateLimitPerMinute: RATE_LIMIT.maxPerMinute }).rateLimitPerMinute).toBe(RATE_LIMIT.maxPerMinute);
    for (const bad of [0, -1, 1.5, "60", Number.NaN, RATE_LIMIT.maxPerMinute + 1]) {
      expect(ruleError({ rateLimitPerMinute: bad })).toContain("--rate-limit");
    }
    expect(ruleError({ rateLimitPerMinute: 0 })).toBe(
      `--rate-limit "0": expected a whole number of requests per minute from 1 to ${RATE_LIMIT.maxPerMinute}`,
    );
  });
});

describe("parseRateLimit", () => {
  it.each(["100/min", "100/m", "100", "100/MIN", " 100 / min "])("reads %j as 100", (text) => {
    expect(parseRateLimit(text)).toBe(100);
  });

  it.each(["0", "0/min", "", "abc", "100/s", "100/h", "1.5", "-5", "1e3", "100 per minute"])("refuses %j", (text) => {
    expect(() => parseRateLimit(text)).toThrow(AccessRuleError);
    expect(() => parseRateLimit(text)).toThrow(`--rate-limit ${JSON.stringify(text)}`);
  });
});

describe("checkAccess: allow-ip", () => {
  const rules = parseAccessRules({ allowIp: ["10.0.0.0/8", "2001:db8::/32", "198.51.100.7"] });

  it("lets in addresses inside a range, in either spelling, and nothing else", async () => {
    for (const ip of ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "198.51.100.7"]) {
      expect(await check(rules, { clientIp: ip })).toBeNull();
    }
    expect(await check(rules, { clientIp: CLIENT })).toEqual({
      status: 403,
      code: "ip-denied",
      reason: "client 203.0.113.9 is not in the tunnel's allowed addresses",
      headers: {},
    });
    expect((await check(rules, { clientIp: "2001:db9::1" }))?.code).toBe("ip-denied");
  });

  it("denies a request whose address is unknown or unreadable, and says so", async () => {
    expect((await check(rules, { clientIp: "" }))?.reason).toBe(
      "the client's address is unknown, so it is not in the tunnel's allowed addresses",
    );
    expect((await check(rules, { clientIp: "fe80::1%eth0" }))?.reason).toBe(
      'client address "fe80::1%eth0" is not a valid IP address, so it is not allowed',
    );
  });

  it("lets every address in when ::/0 or ::ffff:0:0/96 plus ::/0 is allowed", async () => {
    const all = parseAccessRules({ allowIp: ["::/0"] });
    expect(await check(all, { clientIp: "1.2.3.4" })).toBeNull();
    const v4 = parseAccessRules({ allowIp: ["::ffff:0:0/96"] });
    expect(await check(v4, { clientIp: "1.2.3.4" })).toBeNull();
    expect((await check(v4, { clientIp: "::1" }))?.code).toBe("ip-denied");
  });
});

describe("checkAccess: rate limit", () => {
  const rules = parseAccessRules({ rateLimitPerMinute: 60 });

  it("answers 429 with a Retry-After that is enough", async () => {
    const limiter = new RateLimiter(60);
    for (let i = 0; i < 60; i++) expect(await check(rules, { limiter, now: T0 + i })).toBeNull();
    const denial = await check(rules, { limiter, now: T0 + 60 });
    expect(denial).toEqual({
      status: 429,
      code: "rate-limited",
      reason: "more than 60 requests per minute from 203.0.113.9; retry in 1 s",
      headers: { "Retry-After": "1" },
    });
    expect(await check(rules, { limiter, now: T0 + 60 + Number(denial!.headers["Retry-After"]) * 1000 })).toBeNull();
  });

  it("names an IPv6 client by the /64 it is limited as", async () => {
    const limiter = new RateLimiter(1);
    const one = parseAccessRules({ rateLimitPerMinute: 1 });
    expect(await check(one, { limiter, clientIp: "2001:db8:1:2::1" })).toBeNull();
    expect((await check(one, { limiter, clientIp: "2001:db8:1:2:aaaa::9" }))?.reason).toBe(
      "more than 1 request per minute from 2001:db8:1:2::/64; retry in 60 s",
    );
    expect(await check(one, { limiter, clientIp: "::ffff:192.0.2.7" })).toBeNull();
    expect((await check(one, { limiter, clientIp: "192.0.2.7" }))?.reason).toBe(
      "more than 1 request per minute from 192.0.2.7; retry in 60 s",
    );
  });

  it("names an unknown address as such", async () => {
    const limiter = new RateLimiter(1);
    const one = parseAccessRules({ rateLimitPerMinute: 1 });
    await check(one, { limiter, clientIp: "" });
    expect((await check(one, { limiter, clientIp: "" }))?.reason).toBe(
      "more than 1 request per minute from an unknown address; retry in 60 s",
    );
  });

  it("refuses a limiter made for another rate", async () => {
    await expect(check(rules, { limiter: new RateLimiter(0) })).rejects.toThrow("the limiter allows 0/min but the rules say 60/min");
  });

  it("comes after allow-ip, so refused addresses use up nothing", async () => {
    const limiter = new RateLimiter(1);
    const both = parseAccessRules({ allowIp: ["10.0.0.0/8"], rateLimitPerMinute: 1 });
    for (let i = 0; i < 3; i++) expect((await check(both, { limiter }))?.code).toBe("ip-denied");
    expect(limiter.size).toBe(0);
  });

  it("comes before credentials, so wrong guesses use up the limit", async () => {
    const limiter = new RateLimiter(2);
    const both = parseAccessRules({ bearer: ["right"], rateLimitPerMinute: 2 });
    expect((await check(both, { limiter, authorization: "Bearer wrong" }))?.code).toBe("unauthorized");
    expect((await check(both, { limiter, authorization: "Bearer wrong" }))?.code).toBe("unauthorized");
    expect((await check(both, { limiter, authorization: "Bearer right" }))?.code).toBe("rate-limited");
  });
});

describe("checkAccess: credentials", () => {
  const users = parseAccessRules({ basicAuth: ["alice:wonder:land", "bob:builder", "zoë:pässwörd"] });
  const tokens = parseAccessRules({ bearer: ["tok-one", "tok-two"] });
  const both = parseAccessRules({ basicAuth: ["alice:wonder:land"], bearer: ["tok-one"] });
  const unauthorized = (reason: string, challenge: string): Denial => ({
    status: 401,
    code: "unauthorized",
    reason,
    headers: { "WWW-Authenticate": challenge },
  });

  it("lets in every configured user, with a ':' or UTF-8 in the password", async () => {
    for (const userPass of ["alice:wonder:land", "bob:builder", "zoë:pässwörd"]) {
      expect(await check(users, { authorization: basic(userPass) })).toBeNull();
    }
    expect(await check(users, { authorization: basic("bob:builder").replace("Basic", "bAsIc") })).toBeNull();
    expect(await check(users, { authorization: `Basic   ${basic("bob:builder").slice(6)}  ` })).toBeNull();
  });

  it("refuses wrong, crossed, partial and differently encoded passwords", async () => {
    const latin1 = `Basic ${Buffer.from("zoë:pässwörd", "latin1").toString("base64")}`;
    for (const authorization of [basic("alice:wonder"), basic("alice:builder"), basic("bob:builder "), basic("Bob:builder"), latin1]) {
      expect(await check(users, { authorization })).toEqual(unauthorized("wrong credentials", BASIC_CHALLENGE));
    }
  });

  it("calls undecodable Basic credentials malformed", async () => {
    const noColon = `Basic ${Buffer.from("alicewonderland").toString("base64")}`;
    for (const authorization of ["Basic !!!!", "Basic abcde", "Basic YWxpY2U6eA===", "Basic", "Basic YWxp Y2U6", noColon]) {
      expect(await check(users, { authorization })).toEqual(unauthorized("malformed Basic credentials", BASIC_CHALLENGE));
    }
  });

  it("says when the header is missing or uses a scheme the tunnel does not take", async () => {
    expect(await check(users)).toEqual(unauthorized("missing Authorization header", BASIC_CHALLENGE));
    expect(await check(users, { authorization: "   " })).toEqual(unauthorized("missing Authorization header", BASIC_CHALLENGE));
    expect(await check(users, { authorization: "Bearer tok-one" })).toEqual(
      unauthorized("unsupported Authorization scheme; this tunnel accepts Basic", BASIC_CHALLENGE),
    );
    expect((await check(both, { authorization: "Digest username=alice" }))?.reason).toBe(
      "unsupported Authorization scheme; this tunnel accepts Basic or Bearer",
    );
  });

  it("lets in any configured bearer token, with the scheme in any case", async () => {
    expect(await check(tokens, { authorization: "Bearer tok-one" })).toBeNull();
    expect(await check(tokens, { authorization: "bearer tok-two" })).toBeNull();
    for (const authorization of ["Bearer tok-on", "Bearer tok-one1", "Bearer TOK-ONE", "Bearer", "Bearer tok-one, Bearer tok-two"]) {
      expect(await check(tokens, { authorization })).toEqual(unauthorized("wrong credentials", BEARER_CHALLENGE));
    }
  });

  it("accepts either kind when both are set, and offers both challenges", async () => {
    expect(await check(both, { authorization: "Bearer tok-one" })).toBeNull();
    expect(await check(both, { authorization: basic("alice:wonder:land") })).toBeNull();
    expect((await check(both))?.headers).toEqual({ "WWW-Authenticate": `${BASIC_CHALLENGE}, ${BEARER_CHALLENGE}` });
  });

  it("gives a Headers object and a header list the same answers, repeats included", async () => {
    const limiter = new RateLimiter(0);
    const good = basic("bob:builder");
    const cases: [string, string][][] = [
      [["authorization", good]],
      [["X-Other", good]],
      [
        ["AUTHORIZATION", good],
        ["Authorization", good],
      ],
    ];
    for (const list of cases) {
      const fromList = await checkAccess(users, { headers: list, clientIp: CLIENT }, limiter, T0);
      const fromHeaders = await checkAccess(users, { headers: new Headers(list), clientIp: CLIENT }, limiter, T0);
      expect(fromHeaders).toEqual(fromList);
    }
    expect(await checkAccess(users, { headers: new Headers([["authorization", good]]), clientIp: CLIENT }, limiter, T0)).toBeNull();
    const repeated = await checkAccess(users, { headers: cases[2]!, clientIp: CLIENT }, limiter, T0);
    expect(repeated?.reason).toBe("malformed Basic credentials");
  });

  it("never puts a presented or configured secret in a denial", async () => {
    const secrets = ["wonder:land", "builder", "pässwörd", "tok-one", "guess-me", "hunter2"];
    const denials = await Promise.all([
      check(both, { authorization: basic("alice:guess-me") }),
      check(both, { authorization: "Bearer guess-me" }),
      check(both, { authorization: "Token hunter2" }),
      check(both, { authorization: "hunter2" }),
      check(users, { authorization: "Basic hunter2" }),
    ]);
    for (const denial of denials) {
      expect(denial?.code).toBe("unauthorized");
      const shown = JSON.stringify(denial);
      for (const secret of secrets) expect(shown).not.toContain(secret);
    }
  });

  it("lets everything through when the tunnel is open", async () => {
    expect(await check({}, { clientIp: "", authorization: "Bearer anything" })).toBeNull();
    expect(await check(parseAccessRules({}), { clientIp: "not an ip" })).toBeNull();
  });
});

describe("timing-safe comparison", () => {
  it("sameDigest compares every byte of two digests", () => {
    const a = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    expect(sameDigest(a, a.slice())).toBe(1);
    for (const at of [0, 1, 16, 31]) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const b = a.slice();
        b[at]! ^= flip;
        expect(sameDigest(a, b)).toBe(0);
      }
    }
  });

  it("sameDigest calls digests of unequal length unequal, even when one is a prefix of the other", () => {
    const a = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(sameDigest(a, a.subarray(0, 31))).toBe(0);
    expect(sameDigest(a.subarray(0, 31), a)).toBe(0);
  });

  it("sameBytes and sameText compare values of any length", async () => {
    const bytes = (...b: number[]) => Uint8Array.from(b);
    expect(await sameBytes(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
    expect(await sameBytes(bytes(1, 2, 3), bytes(1, 2))).toBe(false);
    expect(await sameBytes(bytes(), bytes())).toBe(true);
    expect(await sameText("tok-ü", "tok-ü")).toBe(true);
    for (const other of ["tok-u", "tok-ü ", "", "TOK-ü"]) expect(await sameText("tok-ü", other)).toBe(false);
  });
});

describe("consumesAuthorization and redactCredentials", () => {
  const headers: [string, string][] = [
    ["Host", "demo.localhost"],
    ["authorization", "Basic YWxpY2U6c2VjcmV0"],
    ["X-Trace", "1"],
    ["Authorization", "bearer tok-one"],
    ["AUTHORIZATION", "tok-bare"],
    ["Authorization", "Digest"],
    ["X-Authorization", "Bearer kept"],
  ];

  it("consumes Authorization only when the tunnel has credentials", () => {
    expect(consumesAuthorization(parseAccessRules({ basicAuth: ["a:b"] }))).toBe(true);
    expect(consumesAuthorization(parseAccessRules({ bearer: ["t"] }))).toBe(true);
    expect(consumesAuthorization(parseAccessRules({ allowIp: ["10.0.0.0/8"], rateLimitPerMinute: 5 }))).toBe(false);
    expect(consumesAuthorization({})).toBe(false);
  });

  it("redacts every Authorization value, keeping its scheme word, the order and the other headers", () => {
    const before = structuredClone(headers);
    expect(redactCredentials(headers, parseAccessRules({ bearer: ["tok-one"] }))).toEqual([
      ["Host", "demo.localhost"],
      ["authorization", "Basic [redacted]"],
      ["X-Trace", "1"],
      ["Authorization", "bearer [redacted]"],
      ["AUTHORIZATION", "[redacted]"],
      ["Authorization", "[redacted]"],
      ["X-Authorization", "Bearer kept"],
    ]);
    expect(headers).toEqual(before);
  });

  it("leaves Authorization alone when it belongs to the local app", () => {
    const redacted = redactCredentials(headers, parseAccessRules({ allowIp: ["10.0.0.0/8"] }));
    expect(redacted).toEqual(headers);
    expect(redacted).not.toBe(headers);
  });
});

describe("describeAccess", () => {
  it("summarises each rule in one line", () => {
    const rules = parseAccessRules({ basicAuth: ["alice:x"], allowIp: ["10.0.0.0/8", "2001:db8::/32"], rateLimitPerMinute: 60 });
    expect(describeAccess(rules)).toBe("basic-auth (1 user), allow-ip 10.0.0.0/8 2001:db8::/32, 60/min");
    expect(describeAccess(parseAccessRules({ basicAuth: ["a:1", "a:2", "b:3"], bearer: ["t1", "t2"] }))).toBe(
      "basic-auth (2 users), bearer (2 tokens)",
    );
    expect(describeAccess(parseAccessRules({ bearer: ["t"] }))).toBe("bearer (1 token)");
  });

  it("is empty for an open tunnel", () => {
    expect(describeAccess({})).toBe("");
  });

  it("shows at most five ranges", () => {
    const allowIp = Array.from({ length: 8 }, (_, i) => `10.${i}.0.0/16`);
    expect(describeAccess(parseAccessRules({ allowIp }))).toBe(
      "allow-ip 10.0.0.0/16 10.1.0.0/16 10.2.0.0/16 10.3.0.0/16 10.4.0.0/16 (+3 more)",
    );
  });

  it("never shows a user name, password or token", () => {
    const rules = parseAccessRules({ basicAuth: ["alice:s3cret", "bob:pa:ss"], bearer: ["tok-xyz"], rateLimitPerMinute: 5 });
    const text = describeAccess(rules);
    for (const secret of ["alice", "s3cret", "bob", "pa:ss", "tok-xyz"]) expect(text).not.toContain(secret);
    expect(text).toBe("basic-auth (2 users), bearer (1 token), 5/min");
  });
});
