import { afterEach, describe, expect, it, vi } from "vitest";
import { CreditPool, Inbox, MessageAssembler, Outbox, WIDEN } from "../../worker/flow";
import { CloseCode, LIMITS, ProtocolError } from "../../worker/protocol";
import { bytes, concat, int, prng } from "./prng";

type Piece<Tag> = { piece: Uint8Array; last: boolean; tag: Tag };

type Event<Tag> = ({ kind: "piece" } & Piece<Tag>) | { kind: "end" };

/** An outbox that records what it emits, in order, with end as its own event. */
function recorder<Tag = undefined>(window?: number) {
  const log: Event<Tag>[] = [];
  const outbox = new Outbox<Tag>(
    (piece, last, tag) => log.push({ kind: "piece", piece, last, tag }),
    () => log.push({ kind: "end" }),
    window,
  );
  const pieces = () => log.filter((e): e is { kind: "piece" } & Piece<Tag> => e.kind === "piece");
  const sent = () => pieces().reduce((n, p) => n + p.piece.byteLength, 0);
  const ends = () => log.filter((e) => e.kind === "end").length;
  return { outbox, log, pieces, sent, ends };
}

/** True when the promise has settled after the microtask queue ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => {
    done = true;
  });
  // A few turns, so chained resolutions have a chance to run.
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  return done;
}

const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

describe("Outbox", () => {
  it("starts with LIMITS.initialWindow of credit by default", () => {
    const r = recorder();
    r.outbox.push(new Uint8Array(LIMITS.initialWindow + 10), undefined);
    expect(r.sent()).toBe(LIMITS.initialWindow);
    expect(r.outbox.pending).toBe(10);
  });

  it("never emits more than the credit", () => {
    const r = recorder(1000);
    expect(r.outbox.push(seq(5000), undefined)).toBe(false);
    expect(r.sent()).toBe(1000);
    expect(r.outbox.pending).toBe(4000);
    r.outbox.grant(1);
    expect(r.sent()).toBe(1001);
    r.outbox.grant(3998);
    expect(r.sent()).toBe(4999);
    expect(r.outbox.pending).toBe(1);
    // More pushes while blocked emit nothing.
    expect(r.outbox.push(seq(100), undefined)).toBe(false);
    expect(r.sent()).toBe(4999);
    r.outbox.grant(10_000);
    expect(r.sent()).toBe(5100);
    expect(r.outbox.pending).toBe(0);
  });

  it("with zero initial credit emits nothing until a grant", () => {
    const r = recorder(0);
    expect(r.outbox.push(seq(10), undefined)).toBe(false);
    expect(r.sent()).toBe(0);
    r.outbox.grant(4);
    expect(Array.from(concat(r.pieces().map((p) => p.piece)))).toEqual([0, 1, 2, 3]);
  });

  it("splits into pieces of at most LIMITS.maxChunkBytes", () => {
    const r = recorder(10 * 1024 * 1024);
    const input = seq(4 * LIMITS.maxChunkBytes + 1234);
    expect(r.outbox.push(input, undefined)).toBe(true);
    const sizes = r.pieces().map((p) => p.piece.byteLength);
    expect(sizes).toEqual([LIMITS.maxChunkBytes, LIMITS.maxChunkBytes, LIMITS.maxChunkBytes, LIMITS.maxChunkBytes, 1234]);
    expect(r.pieces().map((p) => p.last)).toEqual([false, false, false, false, true]);
    expect(Buffer.from(concat(r.pieces().map((p) => p.piece))).equals(Buffer.from(input))).toBe(true);
  });

  it("splits on the credit boundary too, and marks only the final piece last", () => {
    const r = recorder(100);
    r.outbox.push(seq(250), undefined);
    r.outbox.grant(100);
    r.outbox.grant(100);
    expect(r.pieces().map((p) => [p.piece.byteLength, p.last])).toEqual([
      [100, false],
      [100, false],
      [50, true],
    ]);
  });

  it("preserves byte order and content across arbitrary grant sequences (seeded property)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = prng(seed);
      const window = int(rand, 0, 3) === 0 ? 0 : int(rand, 1, 200_000);
      const r = recorder<number>(window);
      const input: { bytes: Uint8Array; tag: number }[] = [];
      let granted = window;
      for (let step = 0; step < 200; step++) {
        const action = rand();
        if (action < 0.45) {
          const size = rand() < 0.1 ? 0 : int(rand, 1, rand() < 0.2 ? 200_000 : 3000);
          const chunk = { bytes: bytes(rand, size), tag: step };
          input.push(chunk);
          r.outbox.push(chunk.bytes, chunk.tag);
        } else {
          const g = int(rand, 1, rand() < 0.2 ? 150_000 : 5000);
          granted += g;
          r.outbox.grant(g);
        }
        const sent = r.sent();
        expect(sent, `seed ${seed} step ${step}`).toBeLessThanOrEqual(granted);
        const total = input.reduce((n, c) => n + c.bytes.byteLength, 0);
        expect(sent + r.outbox.pending, `seed ${seed} step ${step}`).toBe(total);
      }
      r.outbox.end();
      r.outbox.grant(1 << 30);
      expect(r.ends(), `seed ${seed}`).toBe(1);
      expect(r.log.at(-1)?.kind).toBe("end");
      const pieces = r.pieces();
      for (const p of pieces) expect(p.piece.byteLength).toBeLessThanOrEqual(LIMITS.maxChunkBytes);
      // Reassemble chunks by their last flags: the original chunks and tags come back exactly.
      const rebuilt: { bytes: Uint8Array; tag: number }[] = [];
      let parts: Uint8Array[] = [];
      let tag: number | undefined;
      for (const p of pieces) {
        if (tag !== undefined) expect(p.tag, `seed ${seed}: tag changed inside a chunk`).toBe(tag);
        tag = p.tag;
        parts.push(p.piece);
        if (p.last) {
          rebuilt.push({ bytes: concat(parts), tag: p.tag });
          parts = [];
          tag = undefined;
        }
      }
      expect(parts.length, `seed ${seed}: trailing piece without last`).toBe(0);
      expect(rebuilt.length, `seed ${seed}`).toBe(input.length);
      for (let i = 0; i < input.length; i++) {
        const a = input[i]!;
        const b = rebuilt[i]!;
        expect(b.tag).toBe(a.tag);
        expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes)), `seed ${seed} chunk ${i}`).toBe(true);
      }
    }
  });

  it("push returns true while credit remains, false once blocked", () => {
    const r = recorder(100);
    expect(r.outbox.push(seq(40), undefined)).toBe(true);
    expect(r.outbox.push(seq(40), undefined)).toBe(true);
    expect(r.outbox.push(seq(40), undefined)).toBe(false);
    expect(r.outbox.pending).toBe(20);
  });

  it("push that uses up the credit exactly asks the source to pause", async () => {
    const r = recorder(100);
    expect(r.outbox.push(seq(100), undefined)).toBe(false);
    expect(r.outbox.pending).toBe(0);
    const drained = r.outbox.drained();
    expect(await settled(drained)).toBe(false);
    r.outbox.grant(1);
    expect(await settled(drained)).toBe(true);
  });

  it("drained() resolves immediately when nothing is queued and credit remains", async () => {
    const r = recorder(100);
    expect(await settled(r.outbox.drained())).toBe(true);
    r.outbox.push(seq(10), undefined);
    expect(await settled(r.outbox.drained())).toBe(true);
  });

  it("drained() resolves only after grants cover the queue", async () => {
    const r = recorder(10);
    expect(r.outbox.push(seq(50), undefined)).toBe(false);
    const a = r.outbox.drained();
    const b = r.outbox.drained();
    expect(await settled(a)).toBe(false);
    r.outbox.grant(20);
    expect(await settled(a)).toBe(false);
    r.outbox.grant(20); // exactly the queue: credit is 0 again, so still paused
    expect(r.outbox.pending).toBe(0);
    expect(await settled(a)).toBe(false);
    r.outbox.grant(1);
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
    expect(r.sent()).toBe(50);
  });

  it("end() emits end only after all queued bytes", () => {
    const r = recorder(10);
    r.outbox.push(seq(25), undefined);
    r.outbox.end();
    expect(r.ends()).toBe(0);
    r.outbox.grant(10);
    expect(r.ends()).toBe(0);
    r.outbox.grant(4);
    expect(r.ends()).toBe(0);
    r.outbox.grant(1);
    expect(r.ends()).toBe(1);
    expect(r.log.map((e) => (e.kind === "piece" ? e.piece.byteLength : "end"))).toEqual([10, 10, 4, 1, "end"]);
    r.outbox.grant(100);
    r.outbox.end();
    expect(r.ends()).toBe(1);
  });

  it("end() with nothing queued emits end at once, even with no credit", () => {
    const r = recorder(0);
    r.outbox.end();
    expect(r.log).toEqual([{ kind: "end" }]);
  });

  it("push after end() throws", () => {
    const r = recorder(10);
    r.outbox.end();
    expect(() => r.outbox.push(seq(1), undefined)).toThrow();
  });

  it("tags and last flags mark WebSocket message boundaries across pieces", () => {
    const r = recorder<boolean>(LIMITS.initialWindow);
    const big = seq(LIMITS.maxChunkBytes * 2 + 5, 3);
    r.outbox.push(seq(3), false); // text, small
    r.outbox.push(big, true); // binary, split in three
    r.outbox.push(seq(7, 9), false); // text again
    const p = r.pieces();
    expect(p.map((x) => [x.piece.byteLength, x.last, x.tag])).toEqual([
      [3, true, false],
      [LIMITS.maxChunkBytes, false, true],
      [LIMITS.maxChunkBytes, false, true],
      [5, true, true],
      [7, true, false],
    ]);
    expect(Buffer.from(concat(p.slice(1, 4).map((x) => x.piece))).equals(Buffer.from(big))).toBe(true);
  });

  it("a message split by running out of credit keeps its tag and gets last only at its end", () => {
    const r = recorder<string>(6);
    r.outbox.push(seq(4), "a");
    r.outbox.push(seq(5), "b");
    r.outbox.grant(3);
    expect(r.pieces().map((x) => [x.piece.byteLength, x.last, x.tag])).toEqual([
      [4, true, "a"],
      [2, false, "b"],
      [3, true, "b"],
    ]);
  });

  it("emits zero-length chunks (an empty WebSocket message) without credit", () => {
    const r = recorder<boolean>(0);
    r.outbox.push(new Uint8Array(0), false);
    expect(r.pieces()).toHaveLength(1);
    expect(r.pieces()[0]).toMatchObject({ last: true, tag: false });
    expect(r.pieces()[0]!.piece.byteLength).toBe(0);
    expect(r.outbox.pending).toBe(0);
  });

  it("keeps a zero-length chunk in order behind blocked bytes", () => {
    const r = recorder<string>(2);
    r.outbox.push(seq(5), "x");
    r.outbox.push(new Uint8Array(0), "empty");
    r.outbox.push(seq(1), "y");
    expect(r.pieces().map((p) => p.tag)).toEqual(["x"]);
    r.outbox.grant(3);
    expect(r.pieces().map((p) => [p.tag, p.piece.byteLength, p.last])).toEqual([
      ["x", 2, false],
      ["x", 3, true],
      ["empty", 0, true],
    ]);
    r.outbox.grant(1);
    expect(r.pieces().map((p) => p.tag)).toEqual(["x", "x", "empty", "y"]);
  });

  it("cancel() drops the queue and releases drained() waiters", async () => {
    const r = recorder(10);
    r.outbox.push(seq(100), undefined);
    const waiting = r.outbox.drained();
    expect(await settled(waiting)).toBe(false);
    r.outbox.cancel();
    expect(await settled(waiting)).toBe(true);
    expect(r.outbox.pending).toBe(0);
    r.outbox.grant(1000);
    r.outbox.end();
    expect(r.sent()).toBe(10);
    expect(r.ends()).toBe(0);
  });

  it("drained() called after cancel() resolves (documented: '… or the outbox is cancelled')", async () => {
    // A pump that checks `drained()` after the stream was reset must not hang forever.
    const r = recorder(10);
    r.outbox.push(seq(100), undefined); // credit now 0
    r.outbox.cancel();
    expect(await settled(r.outbox.drained())).toBe(true);
  });
});

describe("Inbox", () => {
  it("accepts up to the window and throws a ProtocolError beyond it", () => {
    const inbox = new Inbox(1000);
    inbox.accept(600);
    inbox.accept(400);
    let err: unknown;
    try {
      inbox.accept(1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).closeCode).toBe(CloseCode.protocolError);
  });

  it("throws when a single chunk exceeds the credit", () => {
    expect(() => new Inbox(100).accept(101)).toThrow(ProtocolError);
    expect(() => new Inbox().accept(LIMITS.initialWindow + 1)).toThrow(ProtocolError);
    expect(() => new Inbox().accept(LIMITS.initialWindow)).not.toThrow();
  });

  it("accepts zero-length chunks even with no credit left", () => {
    const inbox = new Inbox(10);
    inbox.accept(10);
    expect(() => inbox.accept(0)).not.toThrow();
  });

  it("coalesces: returns 0 below window/4, then the whole unreleased amount", () => {
    const inbox = new Inbox(1000); // threshold 250
    inbox.accept(1000);
    expect(inbox.release(100)).toBe(0);
    expect(inbox.release(100)).toBe(0);
    expect(inbox.release(49)).toBe(0);
    expect(inbox.release(1)).toBe(250);
    expect(inbox.release(249)).toBe(0);
    expect(inbox.release(300)).toBe(549);
    expect(inbox.release(0)).toBe(0);
  });

  it("a grant is credit the peer may use again, and no more", () => {
    const inbox = new Inbox(1000);
    inbox.accept(1000);
    expect(inbox.release(400)).toBe(400);
    inbox.accept(400);
    expect(() => inbox.accept(1)).toThrow(ProtocolError);
  });

  it("ungranted releases do not yet count as credit", () => {
    const inbox = new Inbox(1000);
    inbox.accept(1000);
    expect(inbox.release(100)).toBe(0);
    expect(() => inbox.accept(1)).toThrow(ProtocolError);
  });

  it("always grants to a fully blocked sender (no deadlock), for any window and release pattern", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const window = seed <= 20 ? seed : int(rand, 1, 1_000_000);
      const inbox = new Inbox(window);
      // The sender spends the whole window and is blocked; everything is handed downstream in random pieces.
      inbox.accept(window);
      let left = window;
      let granted = 0;
      while (left > 0) {
        const n = Math.min(left, int(rand, 0, Math.max(1, Math.floor(window / 3))));
        left -= n;
        granted += inbox.release(n);
      }
      expect(granted, `seed ${seed} window ${window}`).toBeGreaterThan(0);
      // At most a sub-threshold remainder is still held back for coalescing.
      const threshold = Math.max(1, Math.floor(window / 4));
      expect(window - granted, `seed ${seed} window ${window}`).toBeLessThan(threshold);
    }
  });
});

describe("Inbox widening (WIDEN)", () => {
  const W = LIMITS.initialWindow;
  const extra = WIDEN.toBytes - W;
  afterEach(() => vi.useRealTimers());

  /** Receives and hands on `bytes` in 64 KiB pieces, `msPerPiece` apart; returns the credit granted. */
  function move(inbox: Inbox, bytes: number, msPerPiece = 0): number {
    let granted = 0;
    for (let at = 0; at < bytes; at += LIMITS.maxChunkBytes) {
      const n = Math.min(LIMITS.maxChunkBytes, bytes - at);
      inbox.accept(n);
      vi.advanceTimersByTime(msPerPiece);
      granted += inbox.release(n);
    }
    return granted;
  }

  it("lends a stream that hands on its first window quickly the rest of WIDEN.toBytes, once, and takes it back on close", () => {
    vi.useFakeTimers();
    const pool = new CreditPool(10 * extra);
    const inbox = new Inbox(W, pool);
    expect(move(inbox, W)).toBe(W + extra);
    expect(pool.available).toBe(9 * extra);
    // The peer may now have WIDEN.toBytes in flight, and no more.
    inbox.accept(WIDEN.toBytes);
    expect(() => inbox.accept(1)).toThrow(ProtocolError);
    expect(inbox.release(WIDEN.toBytes)).toBe(WIDEN.toBytes);
    inbox.close();
    expect(pool.available).toBe(10 * extra);
    inbox.close();
    expect(pool.available).toBe(10 * extra);
  });

  it("does not widen a stream whose reader is slow, nor one that never moves a window", () => {
    vi.useFakeTimers();
    const pool = new CreditPool(10 * extra);
    const slowMs = Math.ceil(WIDEN.withinMs / (W / LIMITS.maxChunkBytes)) + 1;
    const slow = new Inbox(W, pool);
    expect(move(slow, 3 * W, slowMs)).toBe(3 * W);
    const small = new Inbox(W, pool);
    expect(move(small, W - 1)).toBeLessThan(W);
    expect(pool.available).toBe(10 * extra);
  });

  it("lends no more than the pool holds, and nothing after close", () => {
    vi.useFakeTimers();
    const pool = new CreditPool(extra + 1000);
    const first = new Inbox(W, pool);
    const second = new Inbox(W, pool);
    const third = new Inbox(W, pool);
    expect(move(first, W)).toBe(W + extra);
    expect(move(second, W)).toBe(W + 1000);
    expect(move(third, W)).toBe(W);
    expect(pool.available).toBe(0);
    first.close();
    const late = new Inbox(W, pool);
    late.close();
    expect(move(late, W)).toBe(W);
    expect(pool.available).toBe(extra);
  });
});

describe("sender ↔ receiver end to end", () => {
  /**
   * Outbox → wire → Inbox → slow downstream → release → credit back to the Outbox.
   * The source pauses whenever push returns false and resumes on drained(), as the real pumps do.
   */
  async function transfer(seed: number, total: number, window: number) {
    const rand = prng(seed);
    const source = bytes(rand, total);
    const received = new Uint8Array(total);
    let receivedBytes = 0;
    const wire: Uint8Array[] = [];
    let emitted = 0;
    let grantedBack = 0;
    let maxInFlight = 0;
    let ended = false;
    let frames = 0;
    const outbox = new Outbox(
      (piece) => {
        emitted += piece.byteLength;
        frames++;
        maxInFlight = Math.max(maxInFlight, emitted - grantedBack);
        wire.push(piece.slice());
      },
      () => {
        ended = true;
      },
      window,
    );
    const inbox = new Inbox(window);

    const producer = (async () => {
      let at = 0;
      while (at < total) {
        const size = Math.min(total - at, rand() < 0.05 ? 0 : int(rand, 1, rand() < 0.3 ? 300_000 : 20_000));
        const ok = outbox.push(source.subarray(at, at + size), undefined);
        at += size;
        if (!ok) await outbox.drained();
      }
      outbox.end();
    })();

    const consumer = (async () => {
      let held = 0; // bytes received but not yet handed on downstream
      let idle = 0;
      while (!(ended && wire.length === 0 && held === 0)) {
        let progressed = false;
        const take = int(rand, 0, 4);
        for (let i = 0; i < take && wire.length > 0; i++) {
          const piece = wire.shift()!;
          inbox.accept(piece.byteLength);
          received.set(piece, receivedBytes);
          receivedBytes += piece.byteLength;
          held += piece.byteLength;
          progressed = true;
        }
        if (held > 0 && rand() < 0.7) {
          const n = rand() < 0.3 ? held : int(rand, 1, held);
          held -= n;
          const grant = inbox.release(n);
          if (grant > 0) {
            grantedBack += grant;
            outbox.grant(grant);
          }
          progressed = true;
        }
        idle = progressed ? 0 : idle + 1;
        if (idle > 1000) throw new Error(`deadlock: seed ${seed}, ${receivedBytes}/${total} bytes, wire ${wire.length}, held ${held}`);
        await new Promise((r) => setImmediate(r));
      }
    })();

    await Promise.all([producer, consumer]);
    return { source, received, receivedBytes, maxInFlight, frames, ended };
  }

  it("moves 10 MiB with random chunk sizes, byte-exact, never exceeding the window in flight", async () => {
    const total = 10 * 1024 * 1024;
    const r = await transfer(42, total, LIMITS.initialWindow);
    expect(r.ended).toBe(true);
    expect(r.receivedBytes).toBe(total);
    expect(Buffer.from(r.received).equals(Buffer.from(r.source))).toBe(true);
    expect(r.maxInFlight).toBeLessThanOrEqual(LIMITS.initialWindow);
    expect(r.maxInFlight).toBeGreaterThan(0);
    expect(r.frames).toBeGreaterThanOrEqual(Math.ceil(total / LIMITS.maxChunkBytes));
  }, 60_000);

  for (const [seed, window] of [
    [7, 1],
    [8, 3],
    [9, 1000],
    [10, 70_000],
    [11, 1024 * 1024],
  ] as const) {
    it(`moves 256 KiB through a window of ${window} bytes (seed ${seed}) without deadlock`, async () => {
      const total = window < 100 ? 4096 : 256 * 1024;
      const r = await transfer(seed, total, window);
      expect(r.receivedBytes).toBe(total);
      expect(Buffer.from(r.received).equals(Buffer.from(r.source))).toBe(true);
      expect(r.maxInFlight).toBeLessThanOrEqual(window);
    }, 60_000);
  }
});

describe("MessageAssembler", () => {
  it("reassembles fragments in order", () => {
    const a = new MessageAssembler();
    expect(a.push(Uint8Array.of(1, 2), false)).toBeUndefined();
    expect(a.push(new Uint8Array(0), false)).toBeUndefined();
    expect(a.push(Uint8Array.of(3), false)).toBeUndefined();
    expect(Array.from(a.push(Uint8Array.of(4, 5), true)!)).toEqual([1, 2, 3, 4, 5]);
  });

  it("returns a single-fragment message as-is", () => {
    const a = new MessageAssembler();
    const chunk = Uint8Array.of(9, 9, 9);
    expect(a.push(chunk, true)).toBe(chunk);
    const empty = new Uint8Array(0);
    expect(a.push(empty, true)).toBe(empty);
  });

  it("starts fresh after each message", () => {
    const a = new MessageAssembler();
    a.push(Uint8Array.of(1), false);
    expect(Array.from(a.push(Uint8Array.of(2), true)!)).toEqual([1, 2]);
    const single = Uint8Array.of(3);
    expect(a.push(single, true)).toBe(single);
    a.push(Uint8Array.of(4), false);
    expect(Array.from(a.push(Uint8Array.of(5), true)!)).toEqual([4, 5]);
  });

  it("does not carry size across messages toward the limit", () => {
    const a = new MessageAssembler();
    const mib = new Uint8Array(1024 * 1024);
    const per = LIMITS.maxWsMessageBytes / mib.byteLength;
    for (let m = 0; m < 3; m++) {
      for (let i = 0; i < per - 1; i++) expect(a.push(mib, false)).toBeUndefined();
      expect(a.push(mib, true)?.byteLength).toBe(LIMITS.maxWsMessageBytes);
    }
  });

  it("accepts exactly LIMITS.maxWsMessageBytes and throws 1009 one byte over", () => {
    const mib = new Uint8Array(1024 * 1024).fill(7);
    const per = LIMITS.maxWsMessageBytes / mib.byteLength;
    const ok = new MessageAssembler();
    for (let i = 0; i < per - 1; i++) ok.push(mib, false);
    expect(ok.push(mib, true)?.byteLength).toBe(LIMITS.maxWsMessageBytes);

    const over = new MessageAssembler();
    for (let i = 0; i < per; i++) over.push(mib, false);
    let err: unknown;
    try {
      over.push(Uint8Array.of(1), true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).closeCode).toBe(CloseCode.tooLarge);
    expect((err as ProtocolError).closeCode).toBe(1009);
  });

  it("throws 1009 while still fragmenting, before fin arrives", () => {
    const a = new MessageAssembler();
    const mib = new Uint8Array(1024 * 1024);
    for (let i = 0; i < LIMITS.maxWsMessageBytes / mib.byteLength; i++) a.push(mib, false);
    expect(() => a.push(Uint8Array.of(1), false)).toThrow(ProtocolError);
  });

  it("throws 1009 for a single oversized fragment", () => {
    const a = new MessageAssembler();
    let err: unknown;
    try {
      a.push(new Uint8Array(LIMITS.maxWsMessageBytes + 1), true);
    } catch (e) {
      err = e;
    }
    expect((err as ProtocolError).closeCode).toBe(1009);
  });
});
