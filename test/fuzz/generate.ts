// Seeded fuzz inputs for the wire protocol: valid frames of either direction, then mutations of their
// encoded bytes (bit flips, corrupted lengths, truncation, splicing, oversized payloads, wrong streams,
// broken JSON heads, unknown types) and pure noise. Case `i` of seed `s` is the same bytes everywhere,
// so a failure printed as "seed s case i" replays with FUZZ_SEED=s and that index.

import {
  type AgentFrame,
  encodeFrame,
  FrameType,
  frame,
  HEADER_BYTES,
  HEARTBEAT_MS,
  LIMITS,
  PROTOCOL_VERSION,
  type RelayFrame,
} from "../../worker/protocol";
import { bytes, concat, int, prng } from "../unit/prng";

/** Which decoder a case targets: frames the agent sends, or frames the relay sends. */
export type Side = "agent" | "relay";

/** One fuzz input: the message bytes and the recipe that made them, for the failure message. */
export type FuzzCase = { seed: number; index: number; recipe: string; message: Uint8Array };

type Rand = () => number;

const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, 0, items.length - 1)] as T;
const text = (rand: Rand, max = 24) => String.fromCharCode(...Array.from({ length: int(rand, 0, max) }, () => int(rand, 0x20, 0x2fff)));
const stream = (rand: Rand) => (rand() < 0.8 ? int(rand, 1, 8) : int(rand, 1, 0xffffffff));
const headers = (rand: Rand): [string, string][] => Array.from({ length: int(rand, 0, 3) }, () => [text(rand, 8), text(rand)]);
const chunk = (rand: Rand) => bytes(rand, rand() < 0.9 ? int(rand, 0, 64) : int(rand, 0, LIMITS.maxChunkBytes));

/** A random well-formed frame the agent may send. */
export function agentFrame(rand: Rand): AgentFrame {
  const s = stream(rand);
  switch (int(rand, 0, 9)) {
    case 0: {
      const heartbeatMs = int(rand, HEARTBEAT_MS.min, HEARTBEAT_MS.max);
      return { type: "hello", version: PROTOCOL_VERSION, agentId: text(rand), client: text(rand), force: false, heartbeatMs };
    }
    case 1:
      return { type: "error", code: text(rand), message: text(rand) };
    case 2:
      return {
        type: "response-head",
        stream: s,
        status: int(rand, 101, 599),
        statusText: text(rand),
        headers: headers(rand),
        body: rand() < 0.5,
      };
    case 3:
      return { type: "ws-accept", stream: s, protocol: text(rand) };
    default:
      return sharedFrame(rand, s);
  }
}

/** A random well-formed frame the relay may send. */
export function relayFrame(rand: Rand): RelayFrame {
  const s = stream(rand);
  switch (int(rand, 0, 10)) {
    case 0:
      return { type: "ready", version: PROTOCOL_VERSION, name: text(rand), url: text(rand), pathUrl: text(rand), policy: "" };
    case 1:
      return { type: "error", code: text(rand), message: text(rand) };
    case 2:
      return { type: "goaway", code: text(rand), message: text(rand) };
    case 3:
      return { type: "notice", method: text(rand, 6), path: text(rand), status: int(rand, 100, 599), reason: text(rand) };
    case 4:
      return {
        type: "request-head",
        stream: s,
        method: pick(rand, ["GET", "POST"]),
        path: `/${text(rand)}`,
        headers: headers(rand),
        body: false,
      };
    case 5:
      return { type: "ws-open", stream: s, path: `/${text(rand)}`, headers: headers(rand), protocols: [text(rand, 6)] };
    default:
      return sharedFrame(rand, s);
  }
}

function sharedFrame(rand: Rand, s: number): AgentFrame & RelayFrame {
  switch (int(rand, 0, 5)) {
    case 0:
      return { type: "data", stream: s, chunk: chunk(rand) };
    case 1:
      return { type: "end", stream: s };
    case 2:
      return { type: "reset", stream: s, code: "local-error", message: text(rand) };
    case 3:
      return { type: "credit", stream: s, bytes: int(rand, 1, 0xffffffff) };
    case 4:
      return { type: "ws-message", stream: s, binary: rand() < 0.5, fin: rand() < 0.5, chunk: chunk(rand) };
    default:
      return { type: "ws-close", stream: s, code: int(rand, 1000, 4999), reason: text(rand) };
  }
}

const TYPES = Object.values(FrameType);
const JSON_TYPES = [1, 2, 3, 4, 5, 10, 11, 14, 20, 21, 23];
/** Values a JSON head field may be swapped for: wrong types, edge numbers, odd strings. */
const ODD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e308,
  2 ** 53,
  4294967296,
  "",
  "\u0000",
  "\ud800",
  "x".repeat(300),
  [],
  {},
  [["a", "b"]],
  [1],
];
const BAD_JSON = ["{", "[]", "null", '"x"', "{not json", '{"a":1}{', "\u{1F600}", '{"status":"200"}', '{"headers":[["a"]]}'];

/** A valid message of 1-3 frames from `side`. */
export function validMessage(rand: Rand, side: Side): Uint8Array {
  const make = side === "agent" ? agentFrame : relayFrame;
  return concat(Array.from({ length: int(rand, 1, 3) }, () => encodeFrame(make(rand))));
}

type Mutation = (rand: Rand, m: Uint8Array, side: Side) => Uint8Array;

/** Mutations of a valid message; each returns new bytes and never writes into its input. */
const MUTATIONS: Record<string, Mutation> = {
  "bit flips": (rand, m) => {
    const out = m.slice();
    for (let n = int(rand, 1, 4); n > 0; n--) {
      const at = int(rand, 0, out.length - 1);
      out[at] = (out[at] ?? 0) ^ (1 << int(rand, 0, 7));
    }
    return out;
  },
  "length field": (rand, m) => {
    const out = m.slice();
    const len = pick(rand, [0, 1, m.length - HEADER_BYTES + 1, m.length, 0x7fffffff, 0xffffffff, int(rand, 0, 0xffffffff)]);
    new DataView(out.buffer).setUint32(5, len >>> 0);
    return out;
  },
  truncation: (rand, m) => m.slice(0, int(rand, 0, m.length - 1)),
  splicing: (rand, m, side) => {
    const other = validMessage(rand, side);
    return concat([m.subarray(0, int(rand, 0, m.length)), other.subarray(int(rand, 0, other.length))]);
  },
  "trailing bytes": (rand, m) => concat([m, bytes(rand, int(rand, 1, HEADER_BYTES + 2))]),
  "oversized payload": (rand) => {
    const type = pick(rand, [FrameType.data, FrameType.wsMessage, FrameType.error]);
    const size = pick(rand, [LIMITS.maxChunkBytes + 1, LIMITS.maxChunkBytes + 2, LIMITS.maxMessageBytes - HEADER_BYTES + 1]);
    return frame(type, int(rand, 0, 3), new Uint8Array(size).fill(0x61));
  },
  "wrong stream": (rand, m) => {
    const out = m.slice();
    new DataView(out.buffer).setUint32(1, pick(rand, [0, 0xffffffff, int(rand, 0, 0xffffffff)]));
    return out;
  },
  "invalid JSON": (rand) => frame(pick(rand, JSON_TYPES), int(rand, 0, 2), new TextEncoder().encode(pick(rand, BAD_JSON))),
  "invalid UTF-8": (rand) => frame(pick(rand, JSON_TYPES), int(rand, 0, 2), new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])),
  "unknown type": (rand, m) => {
    const out = m.slice();
    let type = int(rand, 0, 255);
    while (TYPES.includes(type as never)) type = int(rand, 0, 255);
    out[0] = type;
    return out;
  },
  "random bytes": (rand) => bytes(rand, int(rand, 0, 64)),
  "field values": (rand, m) => {
    // Only the first frame is rewritten; a binary frame has no fields, so it gets a bit flip instead.
    const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const type = view.getUint8(0);
    if (!JSON_TYPES.includes(type)) return (MUTATIONS["bit flips"] as Mutation)(rand, m, "agent");
    const end = HEADER_BYTES + view.getUint32(5);
    const head = JSON.parse(new TextDecoder().decode(m.subarray(HEADER_BYTES, end))) as Record<string, unknown>;
    const key = pick(rand, [...Object.keys(head), "extra"]);
    if (rand() < 0.2) delete head[key];
    else head[key] = pick(rand, ODD_VALUES);
    return concat([frame(type, view.getUint32(1), new TextEncoder().encode(JSON.stringify(head))), m.subarray(end)]);
  },
};

/** Names of the mutations, so a test can check every one occurred. */
export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Case `index` of `seed`: a valid message (with probability `validShare`) or a mutated one. */
export function fuzzCase(seed: number, index: number, side: Side, validShare = 0.25): FuzzCase {
  // Each case has its own stream, so one case replays without generating the ones before it.
  const rand = prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const base = validMessage(rand, side);
  if (rand() < validShare) return { seed, index, recipe: "valid", message: base };
  const recipe = pick(rand, MUTATION_NAMES);
  return { seed, index, recipe, message: (MUTATIONS[recipe] as Mutation)(rand, base, side) };
}

/** How to replay a case, for assertion messages. */
export function describeCase(c: FuzzCase, side: Side): string {
  const hex = Array.from(c.message.subarray(0, 48), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${side} fuzz seed ${c.seed} case ${c.index} (${c.recipe}, ${c.message.length} bytes: ${hex}${c.message.length > 48 ? "..." : ""})`;
}

/** The seed from FUZZ_SEED, else a fixed one so CI is reproducible (`npm run fuzz` passes a fresh seed). */
export function fuzzSeed(env: Record<string, string | undefined>): number {
  const given = env.FUZZ_SEED;
  return given !== undefined && given !== "" ? Number(given) >>> 0 : 20261124;
}

/** FUZZ_CASES when set (e.g. 1e6 for `npm run fuzz`), else `ciDefault`. */
export function fuzzCases(env: Record<string, string | undefined>, ciDefault: number): number {
  const given = Number(env.FUZZ_CASES);
  return Number.isFinite(given) && given > 0 ? Math.floor(given) : ciDefault;
}
