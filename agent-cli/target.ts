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
  let url: URL;
  if (/^\d+$/.test(text)) url = new URL(`http://localhost:${text}`);
  else if (/^https?:\/\//i.test(text)) url = new URL(text);
  else if (/^[\w.-]+:\d+$/.test(text) || /^\[[\da-f:]+\]:\d+$/i.test(text)) url = new URL(`http://${text}`);
  else
    throw new Error(`Cannot use "${input}" as a target: give a port (3000), host:port (localhost:3000) or a URL (http://localhost:3000).`);
  const protocol = url.protocol as "http:" | "https:";
  const port = Number(url.port || (protocol === "https:" ? 443 : 80));
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`Cannot use "${input}" as a target: port ${port} is out of range.`);
  if (url.pathname !== "/" || url.search) throw new Error(`Cannot use "${input}" as a target: give an origin without a path.`);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  return { protocol, hostname, port, host: url.host, origin: url.origin };
}
