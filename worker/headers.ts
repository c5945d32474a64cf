// Header rules for both legs of the tunnel. Platform-neutral: the relay uses it on
// requests, the agent on responses and on the local request.

import type { HeaderList } from "./protocol";

/**
 * The request header block the relay accepts: Cloudflare's edge refuses over 128 KB before a Worker runs,
 * and a local relay (workerd alone takes about 400 KiB) refuses the same, plus a flood of more than 1,000 lines.
 */
export const HEADER_LIMITS = { bytes: 128 * 1024, count: 1000 } as const;

/** Why a request's headers are over HEADER_LIMITS, or null. Bytes count as on the wire: name, ": ", value, CRLF. */
export function oversizedHeaders(headers: Iterable<[string, string]>): string | null {
  let count = 0;
  let bytes = 0;
  for (const [k, v] of headers) {
    count += 1;
    bytes += k.length + v.length + 4;
  }
  if (count > HEADER_LIMITS.count) return `its ${count} header lines exceed the relay's limit of ${HEADER_LIMITS.count}`;
  if (bytes > HEADER_LIMITS.bytes) return `its ${bytes} bytes of headers exceed the relay's limit of ${HEADER_LIMITS.bytes / 1024} KiB`;
  return null;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
]);

/** Headers a WebSocket client library sets itself; forwarding them would corrupt its handshake. */
const WS_HANDSHAKE = new Set([
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-accept",
]);

/** Drops hop-by-hop headers, including any named by Connection, and keeps the rest in order with repeats. */
export function stripHopByHop(headers: HeaderList): HeaderList {
  const named = new Set<string>();
  for (const [k, v] of headers) {
    if (k.toLowerCase() === "connection") for (const t of v.split(",")) named.add(t.trim().toLowerCase());
  }
  return headers.filter(([k]) => {
    const lower = k.toLowerCase();
    return !HOP_BY_HOP.has(lower) && !named.has(lower) && !lower.startsWith("proxy-");
  });
}

/** Like stripHopByHop, and also drops the WebSocket handshake headers the local client regenerates. */
export function stripForWebSocket(headers: HeaderList): HeaderList {
  return stripHopByHop(headers).filter(([k]) => !WS_HANDSHAKE.has(k.toLowerCase()));
}

/** Appends X-Forwarded-For/-Proto/-Host for the public client, extending an existing XFF chain. */
export function addForwarded(headers: HeaderList, opts: { clientIp: string; proto: string; host: string }): HeaderList {
  const out: HeaderList = [];
  let xff: string | undefined;
  for (const h of headers) {
    const lower = h[0].toLowerCase();
    if (lower === "x-forwarded-for") xff = xff ? `${xff}, ${h[1]}` : h[1];
    else if (lower !== "x-forwarded-proto" && lower !== "x-forwarded-host") out.push(h);
  }
  if (opts.clientIp) out.push(["X-Forwarded-For", xff ? `${xff}, ${opts.clientIp}` : opts.clientIp]);
  else if (xff) out.push(["X-Forwarded-For", xff]);
  out.push(["X-Forwarded-Proto", opts.proto], ["X-Forwarded-Host", opts.host]);
  return out;
}

/** How the agent sets Host on the local request: the target's, the public one, or a fixed value. */
export type HostHeaderMode = "rewrite" | "preserve" | { value: string };

/** Applies the Host mode, keeping Host in its original position. */
export function applyHost(headers: HeaderList, mode: HostHeaderMode, targetHost: string): HeaderList {
  if (mode === "preserve") return headers;
  const value = mode === "rewrite" ? targetHost : mode.value;
  let seen = false;
  const out: HeaderList = headers.map(([k, v]) => {
    if (k.toLowerCase() !== "host") return [k, v];
    seen = true;
    return [k, value];
  });
  return seen ? out : [["Host", value], ...out];
}

/** First value of a header, case-insensitive. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}
