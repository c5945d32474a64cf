// Which unanswered request a JSON-RPC response answers, found without scanning every request that shares its id.
// Public clients reuse ids freely (every batch may start at id 1), so a linear scan per response made the MCP
// view quadratic in hostile captures. Requests are indexed the ways pairing prefers them (same exchange, same
// session, any allowed session), each index in time order, and answered requests are skipped in amortised
// near-constant time. Platform-neutral.

import type { SeenMessage } from "./mcp-decode";

/** What the index holds: a request as seen (whether it still waits for an answer, the index asks its owner). */
export type Pairable = { seen: SeenMessage };

/** Requests of one id in time order; `nearest` finds the unanswered one a response at a given time pairs with. */
class TimeOrdered<T extends Pairable> {
  private readonly items: T[] = [];
  /** Skip links over answered requests: from index i, the next index to try towards earlier or later requests. */
  private readonly earlier: number[] = [];
  private readonly later: number[] = [];

  constructor(private readonly pending: (item: T) => boolean) {}

  /** Appends a request; requests must come in time order. */
  add(item: T): void {
    const i = this.items.length;
    this.items.push(item);
    this.earlier.push(i - 1);
    this.later.push(i + 1);
  }

  /**
   * The latest unanswered request sent at or before `at`, else the earliest sent after it. Among requests
   * sent at the same time (a batch), the first: a batch's answers pair in order.
   */
  nearest(at: number): T | undefined {
    const cut = this.search(at, true);
    const latest = this.skip(this.earlier, cut - 1);
    const from = latest >= 0 ? this.search((this.items[latest] as T).seen.at, false) : cut;
    return this.items[this.skip(this.later, from)];
  }

  /** The first index whose request was sent after `at` (or, with `inclusive` false, at or after it): a binary search. */
  private search(at: number, inclusive: boolean): number {
    let [lo, hi] = [0, this.items.length];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = (this.items[mid] as T).seen.at;
      if (t < at || (inclusive && t === at)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first unanswered index from `i` along `links` (-1 or the length when none), compressing the path walked. */
  private skip(links: number[], i: number): number {
    const walked: number[] = [];
    let at = i;
    while (at >= 0 && at < this.items.length && !this.pending(this.items[at] as T)) {
      walked.push(at);
      at = links[at] as number;
    }
    // Answered requests never wait again, so the links may jump straight to what was found.
    for (const w of walked) links[w] = at;
    return at;
  }
}

/** The requests of one direction and id, indexed three ways. */
type ById<T extends Pairable> = { all: TimeOrdered<T>; byCapture: Map<string, TimeOrdered<T>>; bySession: Map<string, TimeOrdered<T>> };

/**
 * Unanswered requests by the key of their direction and id. A response pairs with one of its own exchange first,
 * then of its session, then one that names no session (or, for a response without a session, any); within each,
 * the nearest in time as `TimeOrdered.nearest` says. Never with a request of another session.
 */
export class PendingRequests<T extends Pairable> {
  private readonly byKey = new Map<string, ById<T>>();

  /** `pending` says whether a request still waits for its answer; it must turn false once and stay false. */
  constructor(private readonly pending: (item: T) => boolean) {}

  /** Indexes a request under `key`; requests must come in time order. */
  add(key: string, item: T): void {
    let group = this.byKey.get(key);
    if (!group) {
      group = { all: new TimeOrdered(this.pending), byCapture: new Map(), bySession: new Map() };
      this.byKey.set(key, group);
    }
    group.all.add(item);
    this.list(group.byCapture, item.seen.captureId).add(item);
    this.list(group.bySession, item.seen.session).add(item);
  }

  /** The request under `key` that `response` answers, if any is still waiting. */
  match(key: string, response: SeenMessage): T | undefined {
    const group = this.byKey.get(key);
    if (!group) return undefined;
    const { at, captureId, session } = response;
    const sameExchange = group.byCapture.get(captureId)?.nearest(at);
    if (sameExchange) return sameExchange;
    if (!session) return group.all.nearest(at);
    return group.bySession.get(session)?.nearest(at) ?? group.bySession.get("")?.nearest(at);
  }

  private list(map: Map<string, TimeOrdered<T>>, key: string): TimeOrdered<T> {
    let list = map.get(key);
    if (!list) {
      list = new TimeOrdered(this.pending);
      map.set(key, list);
    }
    return list;
  }
}
