// Capture retention in a real Durable Object's SQLite: the count bound (enforced in batches), the byte bound,
// replacement of a capture saved twice, and body parts leaving with their capture.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CaptureRecord } from "../../worker/capture-model";
import { CaptureStore } from "../../worker/captures";
import { uniqueName } from "./helpers";

/** A capture whose id sorts by `n`, with a response body of `bodyBytes`. */
function record(n: number, bodyBytes = 0): CaptureRecord {
  const id = `${String(n).padStart(12, "0")}-000000`;
  return {
    summary: {
      id,
      replayOf: null,
      startedAt: n,
      durationMs: 1,
      method: "GET",
      url: `http://x.localhost/${n}`,
      path: `/${n}`,
      status: 200,
      outcome: "ok",
      error: null,
      kind: "http",
      requestSize: 0,
      responseSize: bodyBytes,
      contentType: null,
      state: "done",
      verification: null,
    },
    detail: {
      clientIp: "127.0.0.1",
      requestHeaders: [],
      responseHeaders: [],
      requestTruncated: false,
      responseTruncated: false,
      events: [],
      eventsTruncated: false,
    },
    requestBody: new Uint8Array(0),
    responseBody: new Uint8Array(bodyBytes).fill(n % 256),
  };
}

/** Runs `fn` with a fresh store over a tunnel object's SQLite. */
function withStore<T>(limits: { maxCaptures: number; maxStoredBytes: number }, fn: (store: CaptureStore, sql: SqlStorage) => T) {
  const stub = env.TUNNEL.get(env.TUNNEL.idFromName(uniqueName()));
  return runInDurableObject(stub, (_, state) => fn(new CaptureStore(state.storage.sql, limits), state.storage.sql));
}

const bodyRows = (sql: SqlStorage) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM capture_bodies").one().n;

describe("capture retention", () => {
  it("keeps at least the newest maxCaptures, evicting the oldest in batches of a twentieth", async () => {
    const result = await withStore({ maxCaptures: 40, maxStoredBytes: 1e9 }, (store, sql) => {
      const counts: number[] = [];
      for (let n = 1; n <= 100; n++) {
        store.save(record(n, 10), false);
        counts.push(store.count());
      }
      return { counts, ids: store.list(1000).map((s) => s.id), evicted: store.evicted(), bodies: bodyRows(sql) };
    });
    // Batch of 2: the count climbs to 41, then drops back to 40 at 42.
    expect(Math.min(...result.counts.slice(40))).toBe(40);
    expect(Math.max(...result.counts)).toBe(41);
    expect(result.ids.length).toBeGreaterThanOrEqual(40);
    expect(result.ids[0]).toBe(record(100).summary.id);
    expect(result.ids.at(-1)! > record(100 - result.ids.length).summary.id).toBe(true);
    expect(result.evicted + result.ids.length).toBe(100);
    expect(result.bodies).toBe(result.ids.length);
  });

  it("drops the oldest until under the byte bound, but never the newest capture", async () => {
    const result = await withStore({ maxCaptures: 1000, maxStoredBytes: 5000 }, (store, sql) => {
      for (let n = 1; n <= 10; n++) store.save(record(n, 1000), false);
      const afterTen = { count: store.count(), newest: store.list(1)[0]?.id };
      store.save(record(11, 20_000), false);
      return { afterTen, afterHuge: store.count(), kept: store.list(10).map((s) => s.id), evicted: store.evicted(), bodies: bodyRows(sql) };
    });
    // Each capture is its 1000-byte body plus its detail JSON: at most four fit under 5000 bytes.
    expect(result.afterTen.count).toBeLessThanOrEqual(4);
    expect(result.afterTen.newest).toBe(record(10).summary.id);
    expect(result.afterHuge).toBe(1);
    expect(result.kept).toEqual([record(11).summary.id]);
    expect(result.evicted).toBe(10);
    expect(result.bodies).toBe(1);
  });

  it("replaces a capture saved again, counting it once, and reads the totals back after a restart", async () => {
    const result = await withStore({ maxCaptures: 1000, maxStoredBytes: 1e9 }, (store, sql) => {
      store.save(record(1, 600_000), false);
      store.save(record(1, 10), true);
      const reopened = new CaptureStore(sql, { maxCaptures: 1000, maxStoredBytes: 1e9 });
      return {
        count: store.count(),
        reopened: reopened.count(),
        body: reopened.get(record(1).summary.id)?.responseBody.byteLength,
        bodies: bodyRows(sql),
      };
    });
    expect(result).toEqual({ count: 1, reopened: 1, body: 10, bodies: 1 });
  });
});
