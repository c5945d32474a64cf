// Who may use the control plane: agents and scripts with the bearer token, browsers with a
// session cookie minted from it. Cookie requests that change state must prove they are not
// cross-site (SameSite=Strict, a custom header and, when sent, a matching Origin).

import { tokensEqual } from "./auth";
import { RelayError } from "./errors";

export const SESSION_COOKIE = "porthole_session";
const SESSION_SECONDS = 12 * 60 * 60;
const encoder = new TextEncoder();

async function sign(token: string, expires: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`porthole-session:${expires}`));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A Set-Cookie value for a fresh session; it cannot be forged without the token. */
export async function sessionCookie(token: string, secure: boolean): Promise<string> {
  const expires = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
  const value = `${expires}.${await sign(token, expires)}`;
  return `${SESSION_COOKIE}=${value}; Path=/_porthole; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}${secure ? "; Secure" : ""}`;
}

/** A Set-Cookie value that ends the session. */
export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/_porthole; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** When the request's session ends (ms since the epoch), or undefined when it has no valid session. */
export async function sessionExpiry(request: Request, token: string | undefined): Promise<number | undefined> {
  const value = token ? cookie(request, SESSION_COOKIE) : undefined;
  const [expires, mac] = value?.split(".") ?? [];
  if (!token || !expires || !mac || Number(expires) * 1000 < Date.now()) return undefined;
  return (await tokensEqual(mac, await sign(token, Number(expires)))) ? Number(expires) * 1000 : undefined;
}

/** True when the request carries an unexpired session signed with this token. */
export async function hasSession(request: Request, token: string | undefined): Promise<boolean> {
  return (await sessionExpiry(request, token)) !== undefined;
}

/**
 * Lets a control-plane request through with the bearer token, or with a session cookie plus the
 * cross-site defences; throws `unauthorized` otherwise. Returns when a cookie session ends, so a
 * long-lived connection (the feed) can end with it.
 */
export async function authorizeControl(request: Request, token: string | undefined, action: string): Promise<{ expiresAt?: number }> {
  if (!token) throw new RelayError("unauthorized", `Cannot ${action}: the relay has no AGENT_TOKEN configured.`);
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("Authorization") ?? "")?.[1];
  if (bearer !== undefined) {
    if (await tokensEqual(bearer, token)) return {};
    throw new RelayError("unauthorized", `Cannot ${action}: the bearer token is wrong.`);
  }
  const expiresAt = await sessionExpiry(request, token);
  if (expiresAt === undefined) {
    throw new RelayError("unauthorized", `Cannot ${action}: log in at /_porthole/inspect/<name> or send the bearer token.`);
  }
  const origin = request.headers.get("Origin");
  const sameOrigin = origin === null || origin === new URL(request.url).origin;
  const upgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
  const safe = request.method === "GET" || request.method === "HEAD";
  // A WebSocket upgrade is a GET that browsers send cross-site with cookies: it needs the Origin check too.
  if (!sameOrigin || (upgrade && origin === null) || (!safe && request.headers.get("X-Porthole-CSRF") !== "1")) {
    throw new RelayError(
      "unauthorized",
      `Cannot ${action}: cross-site requests are refused (send X-Porthole-CSRF: 1 from the same origin).`,
    );
  }
  return { expiresAt };
}
