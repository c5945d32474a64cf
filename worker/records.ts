// A tunnel's durable state in its SQLite: whether an agent ever connected, its capture settings,
// and its captures. Everything else about a tunnel lives in memory or in socket attachments.

import { CAPTURE_DEFAULTS, CaptureStore } from "./captures";
import { broadcast } from "./feed";
import { type Recorder, RecordingBudget } from "./recorder";

export class TunnelRecords {
  private captures?: CaptureStore;
  /** What all of this tunnel's live recordings may hold in memory together. */
  readonly budget = new RecordingBudget(CAPTURE_DEFAULTS.liveBytes);

  constructor(private readonly ctx: DurableObjectState) {}

  /** True once an agent has connected to this name; until then nothing is stored for it. */
  known(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
  }

  /** Notes an agent's arrival and the capture size it asked for. */
  connected(name: string, captureBytes: number | undefined): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?), ('connected_at', ?), ('capture_bytes', ?)",
      name,
      String(Date.now()),
      String(captureBytes ?? CAPTURE_DEFAULTS.bodyBytes),
    );
  }

  /** Bytes of each body to keep in a capture, as the agent asked, within the relay's maximum. */
  captureBytes(): number {
    const asked = Number(this.meta("capture_bytes") ?? CAPTURE_DEFAULTS.bodyBytes);
    return Number.isFinite(asked) ? Math.min(Math.max(0, asked), CAPTURE_DEFAULTS.maxBodyBytes) : CAPTURE_DEFAULTS.bodyBytes;
  }

  /** When an agent last connected. */
  connectedAt(): number | null {
    const value = this.meta("connected_at");
    return value === undefined ? null : Number(value);
  }

  store(): CaptureStore {
    this.captures ??= new CaptureStore(this.ctx.storage.sql);
    return this.captures;
  }

  /**
   * Writes an exchange. `final` is its one write when it ends, which also tells the feed; a
   * long-lived WebSocket is also written when it goes quiet, so a hibernation loses nothing.
   */
  save(recorder: Recorder, final = true): void {
    const record = recorder.record();
    try {
      this.store().save(record);
    } catch (err) {
      console.error(`capture=${record.summary.id} url=${record.summary.url} not stored: ${String(err)}`);
    }
    if (!final) return;
    recorder.release();
    broadcast(this.ctx, { type: "end", capture: record.summary });
  }

  private meta(key: string): string | undefined {
    if (!this.known()) return undefined;
    return this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }
}
