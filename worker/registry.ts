// The index of tunnel names, for GET /_porthole/api/tunnels. Durable Objects cannot be listed,
// so each tunnel adds its name here when an agent connects. One small object for the relay.

import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";

/** Names of every tunnel that has had an agent, oldest first. */
export class TunnelIndex extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tunnels (name TEXT PRIMARY KEY, added_at INTEGER NOT NULL)");
  }

  add(name: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO tunnels (name, added_at) VALUES (?, ?)", name, Date.now());
  }

  names(): string[] {
    return this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM tunnels ORDER BY added_at")
      .toArray()
      .map((r) => r.name);
  }
}

/** The relay's one index. */
export function registry(env: Env): DurableObjectStub<TunnelIndex> {
  return env.INDEX.get(env.INDEX.idFromName("tunnels"));
}
