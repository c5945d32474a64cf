// The capture store: the tunnel's SQLite, written once per exchange, with bounded retention.
// SQLite rows hold at most 2 MB, so bodies are split into parts.

import { concatBytes } from "./bytes";
import type { CaptureDetail, CaptureEvent, CaptureRecord, CaptureSummary } from "./capture-model";
import type { HeaderList } from "./protocol";
import { asText, toBase64 } from "./recorder";

/** Retention and size defaults for captures. */
export const CAPTURE_DEFAULTS = {
  /** Bytes kept per direction per exchange (agent flag --capture-bytes). */
  bodyBytes: 1024 * 1024,
  /** The most an agent may ask for per direction. */
  maxBodyBytes: 4 * 1024 * 1024,
  /** What all live recordings of one tunnel may hold in memory at once; beyond it bodies are truncated. */
  liveBytes: 24 * 1024 * 1024,
  maxCaptures: 1000,
  maxStoredBytes: 100 * 1024 * 1024,
  /** A SQLite value may not exceed 2 MB. */
  partBytes: 512 * 1024,
} as const;

/** A body as the API returns it. */
export type BodyView = { size: number; truncated: boolean; base64: string; text?: string };

/** A full capture as the API returns it. */
export type CaptureView = CaptureSummary & {
  clientIp: string;
  request: { headers: HeaderList; body: BodyView };
  response: { headers: HeaderList; body: BodyView } | null;
  events: CaptureEvent[];
  eventsTruncated: boolean;
};

/** Raw pieces of a stored capture, for replay and HAR. */
export type StoredCapture = { summary: CaptureSummary; detail: CaptureDetail; requestBody: Uint8Array; responseBody: Uint8Array };

export class CaptureStore {
  /** What the table holds, kept in memory so a save does not count the table. */
  private totals: { count: number; bytes: number };

  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: { maxCaptures: number; maxStoredBytes: number } = CAPTURE_DEFAULTS,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS captures (
      id TEXT PRIMARY KEY, summary TEXT NOT NULL, detail TEXT NOT NULL, bytes INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS capture_bodies (
      id TEXT NOT NULL, dir TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (id, dir, part))`);
    sql.exec("CREATE TABLE IF NOT EXISTS capture_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const { n, total } = sql.exec<{ n: number; total: number | null }>("SELECT COUNT(*) AS n, SUM(bytes) AS total FROM captures").one();
    this.totals = { count: n, bytes: total ?? 0 };
  }

  /**
   * Stores one exchange, then evicts the oldest beyond the retention bounds. `replaces` says the exchange was
   * saved before (a WebSocket written when it went quiet), so its old row and body parts go first.
   */
  save(record: CaptureRecord, replaces: boolean): void {
    const { summary, detail } = record;
    const detailJson = JSON.stringify(detail);
    const bytes = record.requestBody.byteLength + record.responseBody.byteLength + detailJson.length;
    if (replaces) {
      const old = this.sql.exec<{ bytes: number }>("DELETE FROM captures WHERE id = ? RETURNING bytes", summary.id).toArray()[0];
      if (old) this.totals = { count: this.totals.count - 1, bytes: this.totals.bytes - old.bytes };
      this.sql.exec("DELETE FROM capture_bodies WHERE id = ?", summary.id);
    }
    this.sql.exec(
      "INSERT INTO captures (id, summary, detail, bytes) VALUES (?, ?, ?, ?)",
      summary.id,
      JSON.stringify(summary),
      detailJson,
      bytes,
    );
    this.totals = { count: this.totals.count + 1, bytes: this.totals.bytes + bytes };
    this.saveBody(summary.id, "req", record.requestBody);
    this.saveBody(summary.id, "res", record.responseBody);
    this.evict();
  }

  /** Summaries, newest first, older than `before` when given. */
  list(limit: number, before?: string): CaptureSummary[] {
    const rows = before
      ? this.sql.exec<{ summary: string }>("SELECT summary FROM captures WHERE id < ? ORDER BY id DESC LIMIT ?", before, limit)
      : this.sql.exec<{ summary: string }>("SELECT summary FROM captures ORDER BY id DESC LIMIT ?", limit);
    return rows.toArray().map((r) => JSON.parse(r.summary) as CaptureSummary);
  }

  count(): number {
    return this.totals.count;
  }

  /** How many captures retention has dropped so far. */
  evicted(): number {
    return this.sql.exec<{ value: number }>("SELECT value FROM capture_meta WHERE key = 'evicted'").toArray()[0]?.value ?? 0;
  }

  get(id: string): StoredCapture | undefined {
    const row = this.sql.exec<{ summary: string; detail: string }>("SELECT summary, detail FROM captures WHERE id = ?", id).toArray()[0];
    if (!row) return undefined;
    return {
      summary: JSON.parse(row.summary) as CaptureSummary,
      detail: JSON.parse(row.detail) as CaptureDetail,
      requestBody: this.body(id, "req"),
      responseBody: this.body(id, "res"),
    };
  }

  /** Deletes every capture; returns how many there were. */
  clear(): number {
    const n = this.totals.count;
    this.sql.exec("DELETE FROM captures");
    this.sql.exec("DELETE FROM capture_bodies");
    this.totals = { count: 0, bytes: 0 };
    return n;
  }

  private saveBody(id: string, dir: "req" | "res", bytes: Uint8Array): void {
    for (let part = 0; part * CAPTURE_DEFAULTS.partBytes < bytes.byteLength; part++) {
      const slice = bytes.subarray(part * CAPTURE_DEFAULTS.partBytes, (part + 1) * CAPTURE_DEFAULTS.partBytes);
      this.sql.exec("INSERT INTO capture_bodies (id, dir, part, data) VALUES (?, ?, ?, ?)", id, dir, part, slice);
    }
  }

  private body(id: string, dir: "req" | "res"): Uint8Array {
    const parts = this.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM capture_bodies WHERE id = ? AND dir = ? ORDER BY part", id, dir)
      .toArray()
      .map((r) => new Uint8Array(r.data));
    return parts.length === 0
      ? new Uint8Array(0)
      : concatBytes(
          parts,
          parts.reduce((n, p) => n + p.byteLength, 0),
        );
  }

  /**
   * Drops the oldest captures while over a bound, always keeping the newest one. The count bound is enforced in
   * batches: eviction waits until a twentieth more than the bound has piled up, then drops back to the bound in
   * one statement, so a busy tunnel does not pay three more statements on every request.
   */
  private evict(): void {
    const { maxCaptures, maxStoredBytes } = this.limits;
    const batch = Math.max(1, Math.floor(maxCaptures / 20));
    if (this.totals.count < maxCaptures + batch && this.totals.bytes <= maxStoredBytes) return;
    let dropped = 0;
    let newestDropped = "";
    while (this.totals.count > 1 && (this.totals.count > maxCaptures || this.totals.bytes > maxStoredBytes)) {
      // Over the count, the surplus goes in one statement; over the bytes, one at a time until under.
      const surplus = Math.max(1, this.totals.count - maxCaptures);
      const gone = this.sql
        .exec<{ id: string; bytes: number }>(
          "DELETE FROM captures WHERE id IN (SELECT id FROM captures ORDER BY id LIMIT ?) RETURNING id, bytes",
          Math.min(surplus, this.totals.count - 1),
        )
        .toArray();
      for (const g of gone) {
        this.totals = { count: this.totals.count - 1, bytes: this.totals.bytes - g.bytes };
        if (g.id > newestDropped) newestDropped = g.id;
      }
      dropped += gone.length;
    }
    if (dropped === 0) return;
    // Ids sort by age, and the oldest went first: no capture left has an id at or below the newest dropped.
    this.sql.exec("DELETE FROM capture_bodies WHERE id <= ?", newestDropped);
    this.sql.exec(
      "INSERT INTO capture_meta (key, value) VALUES ('evicted', ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
      dropped,
    );
  }
}

function bodyView(bytes: Uint8Array, size: number, truncated: boolean): BodyView {
  const text = asText(bytes);
  return { size, truncated, base64: toBase64(bytes), ...(text === undefined ? {} : { text }) };
}

/** The API's view of a stored capture. */
export function captureView(c: StoredCapture): CaptureView {
  const { summary, detail } = c;
  return {
    ...summary,
    clientIp: detail.clientIp,
    request: { headers: detail.requestHeaders, body: bodyView(c.requestBody, summary.requestSize, detail.requestTruncated) },
    response: detail.responseHeaders
      ? { headers: detail.responseHeaders, body: bodyView(c.responseBody, summary.responseSize, detail.responseTruncated) }
      : null,
    events: detail.events,
    eventsTruncated: detail.eventsTruncated,
  };
}
