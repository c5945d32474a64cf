// Constant-time token checks for the control plane.

import { RelayError } from "./errors";

const encoder = new TextEncoder();

/** Compares two secrets in constant time by comparing their SHA-256 digests (equal length by construction). */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Throws `unauthorized` unless the request carries `Authorization: Bearer <expected>`. */
export async function requireToken(request: Request, expected: string | undefined, action: string): Promise<void> {
  if (!expected) {
    throw new RelayError("unauthorized", `Cannot ${action}: the relay has no AGENT_TOKEN configured.`);
  }
  const header = request.headers.get("Authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match || !(await tokensEqual(match[1] ?? "", expected))) {
    throw new RelayError("unauthorized", `Cannot ${action}: the bearer token is missing or wrong.`, {
      "WWW-Authenticate": 'Bearer realm="porthole"',
    });
  }
}
