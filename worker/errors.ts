// Errors the relay answers itself: one code, one status, one sentence naming the tunnel and the cause.

/** Public error codes, sent in X-Porthole-Error. */
export const ERROR_STATUS = {
  "tunnel-not-found": 404,
  "tunnel-offline": 503,
  "local-unreachable": 502,
  "local-timeout": 504,
  "body-too-large": 413,
  /** More request headers than HEADER_LIMITS allows, refused before anything else. */
  "headers-too-large": 431,
  unauthorized: 401,
  "bad-request": 400,
  "capture-not-found": 404,
  "capture-truncated": 409,
  /** A webhook signature failed in enforce mode. */
  "signature-invalid": 401,
  /** The client address is not in the tunnel's allowed addresses. */
  "ip-denied": 403,
  "rate-limited": 429,
  /** The tunnel is already verifying as many webhook bodies as its memory allows. */
  "tunnel-busy": 503,
  /** The tunnel's stored policy no longer validates: the relay refuses rather than forward unchecked. */
  "policy-invalid": 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error the relay turns into its own response. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "RelayError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The plain-text response: the code in X-Porthole-Error and the sentence as the body. */
  toResponse(): Response {
    return new Response(`${this.message}\n`, {
      status: this.status,
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-store",
        // The sentence may quote a name or id from the request; it must never be sniffed as HTML.
        "X-Content-Type-Options": "nosniff",
        "X-Porthole-Error": this.code,
        ...this.headers,
      },
    });
  }
}
