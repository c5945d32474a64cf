// Byte encodings the signature headers use, with only the globals both workerd and Node have
// (TextEncoder, atob, btoa). Decoders return undefined on malformed input: a signature that does
// not decode is a mismatch, never an exception.

import { concatBytes } from "../bytes";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  // Always backed by a fresh ArrayBuffer; workers-types just declares the wider type.
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** A string from UTF-8 bytes; invalid sequences become U+FFFD, as a provider's JSON parser would see them. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Bytes from hex (either case), or undefined when it is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Standard base64 (with padding) of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Bytes from standard base64, or undefined when atob rejects it. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Bytes from a signature in the named encoding, or undefined when malformed. */
export function decode(text: string, encoding: "hex" | "base64"): Uint8Array<ArrayBuffer> | undefined {
  return encoding === "hex" ? fromHex(text) : fromBase64(text);
}

/** A signature's bytes in the named encoding. */
export function encode(bytes: Uint8Array, encoding: "hex" | "base64"): string {
  return encoding === "hex" ? toHex(bytes) : toBase64(bytes);
}

/** The parts joined in order, strings taken as UTF-8, as Web Crypto input. */
export function concat(...parts: (string | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const chunks = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const size = chunks.reduce((n, c) => n + c.byteLength, 0);
  // concatBytes hands a single part back as is; every body the relay or a test builds is ArrayBuffer-backed.
  return concatBytes(chunks, size) as Uint8Array<ArrayBuffer>;
}
