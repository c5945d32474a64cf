// Server-sent events read back from a captured text/event-stream, the way an EventSource reads them
// (HTML spec, "Interpreting an event stream"): any of CRLF, LF or CR ends a line, comments are skipped,
// and an event without the blank line that ends it is never dispatched.

/** One dispatched event. `event` is "message" unless the stream named another type. */
export type SseEvent = { event: string; data: string; id?: string };

/** The events of a stream, and whether it stopped inside an event (no blank line after it yet). */
export type SseParse = { events: SseEvent[]; unterminated: boolean };

/** Parses the whole text of an event stream; `maxEvents` bounds the work on hostile input. */
export function parseSse(text: string, maxEvents = Number.POSITIVE_INFINITY): SseParse {
  const events: SseEvent[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  // The last piece follows the last line ending: an unfinished line that is not processed.
  const partial = lines.pop() ?? "";
  let data: string[] = [];
  let type = "";
  let lastId: string | undefined;
  let fields = false;
  for (const line of lines) {
    if (line === "") {
      if (data.length > 0) {
        events.push({ event: type || "message", data: data.join("\n"), ...(lastId === undefined ? {} : { id: lastId }) });
        if (events.length >= maxEvents) return { events, unterminated: false };
      }
      data = [];
      type = "";
      fields = false;
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    fields = true;
    if (name === "data") data.push(value);
    else if (name === "event") type = value;
    else if (name === "id" && !value.includes("\0")) lastId = value;
  }
  return { events, unterminated: fields || (partial.trim() !== "" && !partial.startsWith(":")) };
}
