// The one local target an agent forwards to, parsed from `<port|host:port|url>`.

/** Where the agent forwards; it never forwards anywhere else. */
export type Target = {
  protocol: "http:" | "https:";
  hostname: string;
  port: number;
  /** host:port, used as the rewritten Host header. */
  host: string;
  /** e.g. http://localhost:3000, for messages. */
  origin: string;
};

/** Parses `3000`, `localhost:3000`, `127.0.0.1:8080` or `http(s)://host[:port]`. Throws with a clear message otherwise. */
export function parseTarget(input: string): Target {
  const text = input.trim();
  const fail = (why: string) => new Error(`Cannot use "${input}" as a target: ${why}.`);
  let candidate: string;
  if (/^\d+$/.test(text)) candidate = `http://localhost:${text}`;
  else if (/^https?:\/\//i.test(text)) candidate = text;
  else if (/^[\w.-]+:\d+$/.test(text) || /^\[[\da-f:]+\]:\d+$/i.test(text)) candidate = `http://${text}`;
  else throw fail("give a port (3000), host:port (localhost:3000) or a URL (http://localhost:3000)");
  // Checked before URL parsing, which rejects a big port with a vaguer message.
  const explicitPort = /^[^/]*:(\d+)(?:\/|$)/.exec(candidate.replace(/^https?:\/\//i, ""))?.[1];
  if (explicitPort !== undefined && (Number(explicitPort) < 1 || Number(explicitPort) > 65535)) {
    throw fail(`port ${explicitPort} is out of range (1-65535)`);
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw fail("it is not a valid URL");
  }
  if (!url.hostname) throw fail("it names no host");
  if (url.pathname !== "/" || url.search || url.hash) throw fail("give an origin without a path");
  if (url.username || url.password) throw fail("credentials in the URL are not supported");
  const protocol = url.protocol as "http:" | "https:";
  const port = Number(url.port || (protocol === "https:" ? 443 : 80));
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  return { protocol, hostname, port, host: url.host, origin: url.origin };
}
