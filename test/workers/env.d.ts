// Types of the worker under test, as the Workers vitest integration exposes it.
declare namespace Cloudflare {
  interface Exports {
    default: Fetcher;
  }
  interface Env {
    TUNNEL: DurableObjectNamespace<import("../../worker/tunnel").Tunnel>;
    AGENT_TOKEN: string;
  }
}
