import { describe, expect, it } from "vitest";
import { clientKey, RATE_LIMIT, RateLimiter, UNKNOWN_CLIENT } from "../../worker/rate-limit";
import { int, prng } from "./prng";

const T0 = 1_700_000_000_000;

/** Takes `n` requests for `ip` at `now` and returns how many were allowed. */
function burst(limiter: RateLimiter, ip: string, n: number, now: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(ip, now) === null) allowed++;
  return allowed;
}

describe("RateLimiter", () => {
  it("allows a burst of perMinute, then refuses with a Retry-After of at least 1 s", () => {
    const limiter = new RateLimiter(60);
    expect(burst(limiter, "203.0.113.9", 60, T0)).toBe(60);
    expect(limiter.take("203.0.113.9", T0)).toBe(1);
    expect(new RateLimiter(1).take("x", T0)).toBeNull();
  });

  it("refills perMinute per 60 s, continuously", () => {
    const limiter = new RateLimiter(60);
    burst(limiter, "a", 60, T0);
    expect(limiter.take("a", T0 + 999)).toBe(1);
    expect(limiter.take("a", T0 + 1000)).toBeNull();
    expect(limiter.take("a", T0 + 1000)).toBe(1);
    expect(burst(limiter, "a", 100, T0 + 31_000)).toBe(30);
  });

  it("never banks more than one burst, however long the client was idle", () => {
    const limiter = new RateLimiter(10);
    burst(limiter, "a", 10, T0);
    expect(burst(limiter, "a", 50, T0 + 3_600_000)).toBe(10);
  });

  it("gives a Retry-After that is enough and not more than a second too long", () => {
    const rand = prng(5);
    for (const perMinute of [1, 2, 3, 7, 59, 60, 61, 1000, RATE_LIMIT.maxPerMinute]) {
      const limiter = new RateLimiter(perMinute);
      let now = T0 + int(rand, 0, 999);
      // Draining a bucket of a million takes a million calls, so the highest rate gets fewer rounds.
      for (let round = 0; round < (perMinute > 1000 ? 3 : 50); round++) {
        // Drain the bucket at a random moment, then wait exactly as long as told.
        now += int(rand, 0, 5000);
        let retryAfter = limiter.take("192.0.2.1", now);
        while (retryAfter === null) retryAfter = limiter.take("192.0.2.1", now);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(Number.isInteger(retryAfter)).toBe(true);
        if (retryAfter > 1) expect(limiter.take("192.0.2.1", now + (retryAfter - 1) * 1000)).not.toBeNull();
        now += retryAfter * 1000;
        expect(limiter.take("192.0.2.1", now)).toBeNull();
      }
    }
  });

  it("counts whole milliseconds, so a fractional clock still gets a sufficient Retry-After", () => {
    const limiter = new RateLimiter(7);
    let now = T0 + 0.6;
    burst(limiter, "192.0.2.1", 7, now);
    for (let i = 0; i < 20; i++) {
      const retryAfter = limiter.take("192.0.2.1", now)!;
      now += retryAfter * 1000 + 0.3;
      expect(limiter.take("192.0.2.1", now)).toBeNull();
    }
  });

  it("adds nothing when the clock steps back", () => {
    const limiter = new RateLimiter(60);
    burst(limiter, "a", 60, T0);
    expect(limiter.take("a", T0 - 60_000)).not.toBeNull();
    expect(limiter.take("a", T0 + 999)).not.toBeNull();
    expect(limiter.take("a", T0 + 1000)).toBeNull();
  });

  it("keeps one bucket per client, shared by every spelling of its address", () => {
    const limiter = new RateLimiter(2);
    burst(limiter, "1.2.3.4", 2, T0);
    expect(limiter.take("::ffff:1.2.3.4", T0)).not.toBeNull();
    expect(limiter.take("1.2.3.5", T0)).toBeNull();
    burst(limiter, "2001:db8::1", 2, T0);
    expect(limiter.take("2001:DB8:0:0::0001", T0)).not.toBeNull();
    expect(limiter.size).toBe(3);
  });

  it("keys IPv6 by its /64, so rotating addresses within it shares one bucket", () => {
    const limiter = new RateLimiter(3);
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:a:b:c:d"]) {
      expect(limiter.take(ip, T0)).toBeNull();
    }
    expect(limiter.take("2001:db8:1:2:dead:beef:0:1", T0)).not.toBeNull();
    // The neighbouring /64s are other clients.
    expect(limiter.take("2001:db8:1:3::1", T0)).toBeNull();
    expect(limiter.take("2001:db8:1:1:ffff:ffff:ffff:ffff", T0)).toBeNull();
    expect(limiter.size).toBe(3);
  });

  it.each([
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002::", "2001:db8:1:2::/64"],
    ["::1", "::/64"],
    ["fe80::1:2:3:4", "fe80::/64"],
    ["2001:db8::", "2001:db8::/64"],
    ["1.2.3.4", "1.2.3.4"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::ffff:102:304", "1.2.3.4"],
  ])("keys %s as %s", (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it("keeps IPv4 and IPv4-mapped clients apart down to the full address", () => {
    const limiter = new RateLimiter(1);
    expect(limiter.take("198.51.100.1", T0)).toBeNull();
    expect(limiter.take("::ffff:198.51.100.2", T0)).toBeNull();
    expect(limiter.take("198.51.100.2", T0)).not.toBeNull();
    expect(limiter.size).toBe(2);
  });

  it('keys a request without a client address as "unknown"', () => {
    expect(clientKey("")).toBe(UNKNOWN_CLIENT);
    expect(clientKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(clientKey("not an ip")).toBe("not an ip");
    const limiter = new RateLimiter(1);
    expect(limiter.take("", T0)).toBeNull();
    expect(limiter.take("", T0)).toBe(60);
    expect(limiter.take("10.0.0.1", T0)).toBeNull();
  });

  it(`tracks at most RATE_LIMIT.maxTrackedIps (${RATE_LIMIT.maxTrackedIps}) clients, forgetting the least recently seen`, () => {
    const limiter = new RateLimiter(1);
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < RATE_LIMIT.maxTrackedIps; i++) limiter.take(ip(i), T0);
    expect(limiter.size).toBe(RATE_LIMIT.maxTrackedIps);
    // Seeing client 0 again makes client 1 the oldest.
    expect(limiter.take(ip(0), T0)).not.toBeNull();
    limiter.take(ip(RATE_LIMIT.maxTrackedIps), T0);
    expect(limiter.size).toBe(RATE_LIMIT.maxTrackedIps);
    expect(limiter.take(ip(0), T0)).not.toBeNull();
    // Client 1 was forgotten, so it starts again with a full bucket.
    expect(limiter.take(ip(1), T0)).toBeNull();
    expect(limiter.size).toBe(RATE_LIMIT.maxTrackedIps);
    expect(limiter.take(ip(2), T0)).toBeNull();
  });

  it("treats 0 per minute as no limit and tracks nothing", () => {
    const limiter = new RateLimiter(0);
    expect(burst(limiter, "a", 1000, T0)).toBe(1000);
    expect(limiter.size).toBe(0);
  });

  it(`refuses rates that are negative, fractional or over RATE_LIMIT.maxPerMinute (${RATE_LIMIT.maxPerMinute})`, () => {
    for (const bad of [-1, 1.5, Number.NaN, RATE_LIMIT.maxPerMinute + 1]) {
      expect(() => new RateLimiter(bad)).toThrow(RangeError);
    }
    expect(() => new RateLimiter(-1)).toThrow("Cannot create a rate limiter of -1 per minute");
    expect(burst(new RateLimiter(RATE_LIMIT.maxPerMinute), "a", 5000, T0)).toBe(5000);
  });
});
