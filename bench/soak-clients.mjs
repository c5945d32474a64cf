// The four kinds of request the soak sends through the tunnel, each checked end to end. Every
// function resolves when its exchange is over on the client's side and throws on anything wrong.
import { createHash } from "node:crypto";
import WebSocket from "ws";

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
/** Events per SSE stream and messages per WebSocket. */
export const SSE_EVENTS = 3;
const WS_MESSAGES = 3;

/** Deterministic bytes of a size that varies with `i` (0 to 16 KiB), so POST bodies differ in length. */
function bodyFor(i) {
  const size = (i * 7919) % (16 * 1024 + 1);
  const out = Buffer.allocUnsafe(size);
  for (let k = 0; k < size; k++) out[k] = (i + k * 31) & 0xff;
  return out;
}

/** GET /small: 200 and exactly 1 KiB. */
async function get(t) {
  const { statusCode, body } = await t.pool.request({ path: "/small", method: "GET", headers: { host: t.host }, signal: t.signal() });
  const buf = Buffer.from(await body.arrayBuffer());
  if (statusCode !== 200 || buf.length !== 1024) throw new Error(`GET /small answered ${statusCode} with ${buf.length} bytes`);
}

/** POST /echo: the answer's sha256 must equal the body's. */
async function post(t, i) {
  const sent = bodyFor(i);
  const { statusCode, body } = await t.pool.request({
    path: "/echo",
    method: "POST",
    headers: { host: t.host, "content-type": "application/octet-stream" },
    body: sent,
    signal: t.signal(),
  });
  const got = Buffer.from(await body.arrayBuffer());
  if (statusCode !== 200) throw new Error(`POST /echo answered ${statusCode}`);
  if (sha256(got) !== sha256(sent)) throw new Error(`POST /echo digest differs (${got.length}/${sent.length} bytes)`);
}

/** GET /sse: exactly SSE_EVENTS events, in order, then the end of the stream. */
async function sse(t) {
  const { statusCode, headers, body } = await t.pool.request({
    path: `/sse?n=${SSE_EVENTS}`,
    method: "GET",
    headers: { host: t.host, accept: "text/event-stream" },
    signal: t.signal(),
  });
  const text = await body.text();
  if (statusCode !== 200 || !String(headers["content-type"]).startsWith("text/event-stream")) {
    throw new Error(`GET /sse answered ${statusCode} ${headers["content-type"]}`);
  }
  const seen = [...text.matchAll(/^data: \{"i":(\d+)\}$/gm)].map((m) => Number(m[1]));
  if (seen.join(",") !== [...Array(SSE_EVENTS).keys()].join(",")) throw new Error(`GET /sse delivered events [${seen}]`);
}

/** WebSocket /ws: WS_MESSAGES echo round trips (text and binary), then a clean close. */
function ws(t, i) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${t.address}/ws`, { headers: { host: t.host }, perMessageDeflate: false });
    const timer = setTimeout(() => fail(new Error("WebSocket timed out")), t.timeoutMs);
    let round = 0;
    let expected;
    const fail = (err) => {
      clearTimeout(timer);
      socket.terminate();
      reject(err);
    };
    const next = () => {
      const binary = round % 2 === 1;
      expected = binary ? bodyFor(i + round).subarray(0, 512) : Buffer.from(`soak ${i} message ${round}`);
      socket.send(expected, { binary });
    };
    socket.on("open", next);
    socket.on("message", (data, isBinary) => {
      if (isBinary !== (round % 2 === 1) || !Buffer.from(data).equals(expected)) {
        return fail(new Error(`WebSocket echo ${round} differs`));
      }
      round += 1;
      if (round < WS_MESSAGES) next();
      else socket.close(1000, "done");
    });
    socket.on("close", (code) => {
      clearTimeout(timer);
      if (round === WS_MESSAGES && code === 1000) resolve();
      else reject(new Error(`WebSocket closed ${code} after ${round}/${WS_MESSAGES} echoes`));
    });
    socket.on("error", (err) => fail(new Error(`WebSocket failed: ${err.message}`)));
  });
}

/** The mix, repeated: request i is of kind MIX[i % MIX.length] (30% GET, 30% POST, 20% SSE, 20% WebSocket). */
export const MIX = ["get", "post", "sse", "ws", "get", "post", "get", "post", "sse", "ws"];
/** One request of each kind, by name. */
export const CLIENTS = { get, post, sse, ws };
