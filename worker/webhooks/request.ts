// Reading a SignedRequest the way providers wrote it: headers case-insensitively, the body as JSON or
// form fields without ever altering the bytes, and header lists rewritten in place for re-signing.

import { headerValue } from "../headers";
import type { HeaderList } from "../protocol";
import { fromUtf8 } from "./encoding";
import { type Check, fail, type SignedRequest } from "./types";

/** First value of a header, case-insensitive. */
export function header(req: SignedRequest, name: string): string | undefined {
  return headerValue(req.headers, name);
}

/** Whether the request carries any of the headers. */
export function hasAny(req: SignedRequest, names: string[]): boolean {
  return names.some((name) => header(req, name) !== undefined);
}

/** The failed Check for an absent header. */
export function missing(name: string): Check {
  return fail(`missing header ${name}`);
}

/** The headers with `name` set to `value`: the first occurrence keeps its place, repeats go, an absent one is appended. */
export function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  const lower = name.toLowerCase();
  let seen = false;
  const out: HeaderList = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== lower) out.push([k, v]);
    else if (!seen) {
      seen = true;
      out.push([k, value]);
    }
  }
  if (!seen) out.push([name, value]);
  return out;
}

/** The body parsed as JSON, or undefined when it is not JSON. */
export function bodyJson(req: SignedRequest): unknown {
  try {
    return JSON.parse(fromUtf8(req.body));
  } catch {
    return undefined;
  }
}

/** A property of a JSON object, or undefined when the value is not an object. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The media type of the request, lowercase, without parameters. */
export function mediaType(req: SignedRequest): string {
  return (header(req, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * The text fields of a url-encoded or multipart body, in order, or undefined for other bodies.
 * Parsed by the platform's own form parser, on a copy: the bytes that are forwarded stay untouched.
 */
export async function formFields(req: SignedRequest): Promise<[string, string][] | undefined> {
  const type = mediaType(req);
  if (type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") return undefined;
  try {
    const form = await new Response(new Uint8Array(req.body), { headers: { "content-type": header(req, "content-type")! } }).formData();
    const out: [string, string][] = [];
    form.forEach((value, key) => {
      if (typeof value === "string") out.push([key, value]);
    });
    return out;
  } catch {
    return undefined;
  }
}
