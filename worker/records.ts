// A tunnel's durable state in its SQLite: whether an agent ever connected, its capture settings,
// and its captures. Everything else about a tunnel lives in memory or in socket attachments.

import { CAPTURE_DEFAULTS, CaptureStore } from "./captures";
import { broadcast } from "./feed";
import { OPEN_POLICY, type Policy, restorePolicy } from "./policy";
import { type Hello, SSE_KEEPALIVE_MS } from "./protocol";
import { type Recorder, RecordingBudget } from "./recorder";

export class TunnelRecords {
  private captures?: CaptureStore;
  /** Exchanges written before (a WebSocket saved when it went quiet): their next write replaces the row. */
  private readonly saved = new WeakSet<Recorder>();
  private queue: { recorder: Recorder; final: boolean }[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private cachedPolicy?: Policy;
  /**
   * The meta table, read once: only this object writes it, and every public request reads it, so a query per
   * read would be most of a small request's cost. Undefined until read, and while no agent ever connected.
   */
  private metaRows?: Map<string, string>;
  /** What all of this tunnel's live recordings may hold in memory together. */
  readonly budget = new RecordingBudget(CAPTURE_DEFAULTS.liveBytes);

  constructor(private readonly ctx: DurableObjectState) {}

  /** True once an agent has connected to this name; until then nothing is stored for it. */
  known(): boolean {
    return this.metaTable() !== null;
  }

  /** Notes an agent's arrival and the settings it asked for; a policy it sent replaces the stored one. */
  connected(name: string, hello: Hello, policy: Policy | undefined): void {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.setMeta({
      name,
      connected_at: String(Date.now()),
      capture_bytes: String(hello.captureBytes ?? CAPTURE_DEFAULTS.bodyBytes),
      sse_keepalive_ms: String(hello.sseKeepaliveMs ?? SSE_KEEPALIVE_MS.default),
    });
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
    this.setMeta({ policy: JSON.stringify(policy.input) });
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

  /** The capture store, with every exchange that has ended written to it. */
  store(): CaptureStore {
    this.flush();
    return this.captureStore();
  }

  /**
   * Queues an exchange for writing. `final` is its last write, when it ends, which also tells the feed; a
   * long-lived WebSocket is also written when it goes quiet, so a hibernation loses nothing.
   *
   * Not written in this event: a write holds the object's outgoing messages until it commits (the output gate),
   * so a save in the event that ends an exchange delayed that response and every frame queued behind it.
   * Queued saves go together in a task of their own, and reads of the store write the queue first.
   */
  save(recorder: Recorder, final = true): void {
    this.queue.push({ recorder, final });
    this.flushTimer ??= setTimeout(() => this.flush(), 0);
  }

  /** Writes the queued exchanges, in the order they were queued. */
  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const queue = this.queue;
    this.queue = [];
    for (const { recorder, final } of queue) this.write(recorder, final);
  }

  private write(recorder: Recorder, final: boolean): void {
    const record = recorder.record();
    try {
      this.captureStore().save(record, this.saved.has(recorder));
      this.saved.add(recorder);
    } catch (err) {
      console.error(`capture=${record.summary.id} url=${record.summary.url} not stored: ${String(err)}`);
    }
    if (!final) return;
    recorder.release();
    broadcast(this.ctx, { type: "end", capture: record.summary });
  }

  private captureStore(): CaptureStore {
    this.captures ??= new CaptureStore(this.ctx.storage.sql);
    return this.captures;
  }

  private meta(key: string): string | undefined {
    return this.metaTable()?.get(key);
  }

  private metaTable(): Map<string, string> | null {
    if (this.metaRows !== undefined) return this.metaRows;
    const sql = this.ctx.storage.sql;
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
    // Not cached while unknown: a name that never had an agent stays one query per probe, and connected() fills it.
    if (!exists) return null;
    const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
    this.metaRows = new Map(rows.map((r) => [r.key, r.value]));
    return this.metaRows;
  }

  /** Writes meta rows, in the table and in memory; the table must exist. */
  private setMeta(values: Record<string, string>): void {
    const rows = this.metaTable();
    if (!rows) throw new Error("setMeta before the meta table exists");
    for (const [key, value] of Object.entries(values)) {
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
      rows.set(key, value);
    }
  }
}
