// What a receiver must do with one fuzzed message, decided by the pure decoder: either every frame
// decodes and re-encodes to the same frames, or decoding fails with a ProtocolError whose close code
// the README documents (1002 malformed or unknown, 1009 oversized). Anything else is a finding.

import { CloseCode, decodeAgentMessage, decodeRelayMessage, encodeFrame, type Frame, ProtocolError } from "../../worker/protocol";
import { concat } from "../unit/prng";
import { describeCase, type FuzzCase, type Side } from "./generate";

/** The documented outcome of a message: its frames, or the close code that must end the socket. */
export type Outcome = { frames: Frame[] } | { closeCode: number; reason: string };

const DOCUMENTED = new Set<number>([CloseCode.protocolError, CloseCode.tooLarge]);

/** Decodes `c` as `side` would receive it; throws, naming the case, on any undocumented behaviour. */
export function outcome(c: FuzzCase, side: Side): Outcome {
  const decode = side === "agent" ? decodeAgentMessage : decodeRelayMessage;
  let frames: Frame[];
  try {
    frames = decode(c.message);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw new Error(`${describeCase(c, side)} threw ${String(err)}`, { cause: err });
    if (!DOCUMENTED.has(err.closeCode)) throw new Error(`${describeCase(c, side)} closes with undocumented ${err.closeCode}`);
    if (err.message === "") throw new Error(`${describeCase(c, side)} threw a ProtocolError without a message`);
    return { closeCode: err.closeCode, reason: err.message };
  }
  // Re-encoding is a fixpoint: decoding the encoded frames and encoding them again gives the same bytes.
  const encoded = concat(frames.map(encodeFrame));
  if (!sameBytes(concat(decode(encoded).map(encodeFrame)), encoded)) {
    throw new Error(`${describeCase(c, side)} decoded to frames that do not survive re-encoding: ${JSON.stringify(frames)}`);
  }
  return { frames };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
