// A tunnel's durable state in its SQLite: whether an agent ever connected, its capture settings,
// and its captures. Everything else about a tunnel lives in memory or in socket attachments.

import { CAPTURE_DEFAULTS, CaptureStore } from "./captures";
import { broadcast } from "./feed";
import { OPEN_POLICY, type Policy, restorePolicy } from "./policy";
import { type Hello, SSE_KEEPALIVE_MS } from "./protocol";
import { type Recorder, RecordingBudget } from "./recorder";

export class TunnelRecords {
  private captures?: CaptureStore;
  private cachedPolicy?: Policy;
  /** What all of this tunnel's live recordings may hold in memory together. */
  readonly budget = new RecordingBudget(CAPTURE_DEFAULTS.liveBytes);

  constructor(private readonly ctx: DurableObjectState) {}

  /** True once an agent has connected to this name; until then nothing is stored for it. */
  known(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
  }

  /** Notes an agent's arrival and the settings it asked for; a policy it sent replaces the stored one. */
  connected(name: string, hello: Hello, policy: Policy | undefined): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?), ('connected_at', ?), ('capture_bytes', ?), ('sse_keepalive_ms', ?)",
      name,
      String(Date.now()),
      String(hello.captureBytes ?? CAPTURE_DEFAULTS.bodyBytes),
      String(hello.sseKeepaliveMs ?? SSE_KEEPALIVE_MS.default),
    );
    if (policy) this.setPolicy(policy);
  }

  /** Idle time before a keepalive comment goes into an event stream; 0 for none. */
  sseKeepaliveMs(): number {
    const value = Number(this.meta("sse_keepalive_ms") ?? SSE_KEEPALIVE_MS.default);
    return Number.isFinite(value) ? value : SSE_KEEPALIVE_MS.default;
  }

  /** What the tunnel checks before forwarding: signatures and access rules. */
  policy(): Policy {
    if (this.cachedPolicy) return this.cachedPolicy;
    const stored = this.meta("policy");
    this.cachedPolicy = stored === undefined ? OPEN_POLICY : restorePolicy(stored);
    return this.cachedPolicy;
  }

  /** Replaces the policy; it outlives the agent, so a reconnect without options keeps it. */
  setPolicy(policy: Policy): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('policy', ?)", JSON.stringify(policy.input));
    this.cachedPolicy = policy;
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
