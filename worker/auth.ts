// Constant-time token checks for the control plane.

import { RelayError } from "./errors";
import { sameText } from "./timing-safe";

/** Whether a presented secret equals the expected one, in constant time (the relay's one comparison, timing-safe.ts). */
export const tokensEqual: (given: string, expected: string) => Promise<boolean> = sameText;

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
