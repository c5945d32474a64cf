// HAR 1.2 export of stored captures, for browser devtools and other tools.

import type { StoredCapture } from "./captures";
import { headerValue } from "./headers";
import type { HeaderList } from "./protocol";
import { asText, toBase64 } from "./recorder";

const header = (headers: HeaderList) => headers.map(([name, value]) => ({ name, value }));

function content(bytes: Uint8Array, size: number, mimeType: string) {
  const text = asText(bytes);
  return text === undefined ? { size, mimeType, text: toBase64(bytes), encoding: "base64" } : { size, mimeType, text };
}

function entry(c: StoredCapture) {
  const { summary: s, detail: d } = c;
  const url = new URL(s.url);
  const requestType = headerValue(d.requestHeaders, "content-type") ?? "";
  return {
    startedDateTime: new Date(s.startedAt).toISOString(),
    time: s.durationMs,
    request: {
      method: s.method,
      url: s.url,
      httpVersion: "HTTP/1.1",
      cookies: [],
      headers: header(d.requestHeaders),
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      ...(c.requestBody.byteLength > 0 ? { postData: content(c.requestBody, s.requestSize, requestType) } : {}),
      headersSize: -1,
      bodySize: s.requestSize,
    },
    response: {
      status: s.status,
      statusText: "",
      httpVersion: "HTTP/1.1",
      cookies: [],
      headers: header(d.responseHeaders ?? []),
      content: content(c.responseBody, s.responseSize, s.contentType ?? ""),
      redirectURL: headerValue(d.responseHeaders ?? [], "location") ?? "",
      headersSize: -1,
      bodySize: s.responseSize,
    },
    cache: {},
    timings: { send: 0, wait: s.durationMs, receive: 0 },
    comment: s.replayOf ? `replay of ${s.replayOf}; outcome ${s.outcome}` : `outcome ${s.outcome}`,
  };
}

/** A HAR document for the given captures, oldest first as HAR expects. */
export function toHar(captures: StoredCapture[]): unknown {
  return {
    log: {
      version: "1.2",
      creator: { name: "porthole", version: "0.1.0" },
      entries: [...captures].sort((a, b) => a.summary.startedAt - b.summary.startedAt).map(entry),
    },
  };
}
