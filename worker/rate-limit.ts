// Per-client rate limiting for a tunnel's public requests. Platform-neutral; the clock is injected.
//
// Algorithm: a token bucket per client (an IPv4 address or an IPv6 /64, see clientKey). The bucket
// holds at most `perMinute` requests (the burst) and refills continuously at `perMinute` per 60 s.
// It is kept in integer "units" of 1/60000 of a request, so one millisecond adds exactly `perMinute`
// units and one request costs 60000: no floating-point drift, and the Retry-After computed from the
// deficit is always enough. Chosen over a sliding-window log because it needs O(1) memory per client
// and has no window edge at which a client can fire two bursts back to back.
//
// The table lives in the Durable Object's memory, so hibernation or eviction forgets it: a limit is
// best-effort over short idle gaps, which is fine for abuse control and must not be used for billing.

import { formatCidr, formatIp, type IpAddress, parseIp, unmap } from "./cidr";

/** The rate limiter's named limits. */
export const RATE_LIMIT = {
  /** Clients (addresses or IPv6 /64s) tracked at once; past this the least recently seen one is forgotten. */
  maxTrackedIps: 10_000,
  /** Highest rate a tunnel may set, requests per minute. */
  maxPerMinute: 1_000_000,
} as const;

/** The key for a request whose client address the platform did not give. */
export const UNKNOWN_CLIENT = "unknown";

const UNITS_PER_REQUEST = 60_000;

type Bucket = { units: number; at: number };

const IPV6_SUBNET = 64;
const SUBNET_MASK = ((1n << BigInt(IPV6_SUBNET)) - 1n) << BigInt(128 - IPV6_SUBNET);

/**
 * The key of a client address, in canonical form so every spelling of one client shares a bucket:
 * IPv4 (and IPv4-mapped IPv6) by the full address, other IPv6 by its /64, e.g. "2001:db8:1:2::/64",
 * because a /64 is what one subscriber gets and rotating addresses within it costs nothing.
 */
export function clientKey(ip: string): string {
  if (ip === "") return UNKNOWN_CLIENT;
  let address: IpAddress;
  try {
    address = unmap(parseIp(ip));
  } catch {
    return ip;
  }
  if (address.family === 4) return formatIp(address);
  return formatCidr({ family: 6, value: address.value & SUBNET_MASK, prefix: IPV6_SUBNET });
}

/** A token-bucket limiter keyed by clientKey, bounded to RATE_LIMIT.maxTrackedIps clients; 0 per minute means no limit. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;

  constructor(readonly perMinute: number) {
    if (!Number.isInteger(perMinute) || perMinute < 0 || perMinute > RATE_LIMIT.maxPerMinute) {
      throw new RangeError(
        `Cannot create a rate limiter of ${perMinute} per minute: expected a whole number from 0 (no limit) to ${RATE_LIMIT.maxPerMinute}`,
      );
    }
    this.#capacity = perMinute * UNITS_PER_REQUEST;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one request for this IP at `now` ms; returns null when allowed, else seconds until one is allowed (>= 1). */
  take(ip: string, now: number): number | null {
    if (this.perMinute === 0) return null;
    // Whole milliseconds keep the unit arithmetic exact even for a fractional clock.
    const ms = Math.floor(now);
    const key = clientKey(ip);
    const previous = this.#buckets.get(key);
    const bucket = previous ? this.#refill(previous, ms) : { units: this.#capacity, at: ms };
    // Re-inserting keeps the map in least-recently-seen order, so eviction takes the first key.
    this.#buckets.delete(key);
    if (!previous && this.#buckets.size >= RATE_LIMIT.maxTrackedIps) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, bucket);
    if (bucket.units >= UNITS_PER_REQUEST) {
      bucket.units -= UNITS_PER_REQUEST;
      return null;
    }
    const waitMs = Math.ceil((UNITS_PER_REQUEST - bucket.units) / this.perMinute);
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  /** The bucket topped up for the time since it was last seen; a clock that steps back adds nothing. */
  #refill(bucket: Bucket, now: number): Bucket {
    const elapsed = Math.max(0, now - bucket.at);
    return { units: Math.min(this.#capacity, bucket.units + elapsed * this.perMinute), at: Math.max(now, bucket.at) };
  }
}
