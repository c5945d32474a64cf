// What a public request must pass before anything of it reaches the agent: the tunnel's access
// rules, then its webhook signature. A refusal is a RelayError the caller records and answers.

import { checkAccess, consumesAuthorization, RateLimiter } from "./access";
import { concatBytes } from "./bytes";
import type { Verification } from "./capture-model";
import { RelayError } from "./errors";
import { type Policy, PolicyError } from "./policy";
import type { HeaderList, Notice } from "./protocol";
import type { Recorder } from "./recorder";
import { RecordingBudget } from "./recorder";
import type { TunnelRecords } from "./records";
import { missingReason, verifyWebhook } from "./webhooks/verify";

/** Limits of the gate. */
export const GATE_LIMITS = {
  /** Signature checks read the whole body first; a webhook larger than this is not verified. */
  verifyBodyBytes: 8 * 1024 * 1024,
  /** What the bodies being verified at once on one tunnel may hold together (an object has 128 MB). */
  verifyLiveBytes: 24 * 1024 * 1024,
  /** A client over the rate limit gets a capture of its 429 at most this often, so a flood cannot evict the rest. */
  rateLimitedCaptureMs: 60_000,
  rateLimitedClients: 1000,
} as const;

/** What the relay learned about a request it let through. */
export type Admitted = {
  /** Headers for the agent: the tunnel's own credential is not the local server's business. */
  headers: HeaderList;
  /** The body to forward: the bytes already read for verification, then whatever was left. */
  body: ReadableStream<Uint8Array> | null;
  verification: Verification | null;
};

/**
 * One tunnel's gate: its stored policy, its rate limiter (in memory: a hibernation forgets recent
 * counts, which only errs towards letting requests in), and the record of what it refuses.
 */
export class TunnelGate {
  private limiter?: { perMinute: number; limiter: RateLimiter };
  private readonly verifying = new RecordingBudget(GATE_LIMITS.verifyLiveBytes);
  /** When each rate-limited client last had its 429 captured. */
  private readonly limitedCaptured = new Map<string, number>();

  constructor(
    private readonly records: TunnelRecords,
    /** Tells the agent about a request it will never see. */
    private readonly notify: (notice: Notice) => void,
  ) {}

  /** The tunnel's policy; one stored by an older relay that no longer validates refuses every request. */
  policy(name: string): Policy {
    try {
      return this.records.policy();
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      const message = `Tunnel "${name}" refuses requests: its stored policy is invalid (${err.message}); set it again.`;
      throw new RelayError("policy-invalid", message);
    }
  }

  /** Lets a request through, noting its verdict; or records the refusal, tells the agent and throws its RelayError. */
  async pass(policy: Policy, recorder: Recorder, request: GateRequest): Promise<Admitted> {
    try {
      const admitted = await admit(policy, this.rateLimiter(policy), request, this.verifying);
      if (admitted.verification) recorder.verified(admitted.verification);
      return admitted;
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      const { error } = err;
      if (error.code === "rate-limited" && !this.captureLimited(request.clientIp)) throw error;
      if (err.verification) recorder.verified(err.verification);
      if (err.body) recorder.requestChunk(err.body);
      recorder.relayAnswer(error.status, error.code, error.message);
      recorder.end("denied", err.reason);
      this.records.save(recorder);
      console.log(`tunnel=${request.tunnel} refused ${request.label}: ${error.code}: ${err.reason}`);
      this.notify({ type: "notice", method: request.method, path: request.path, status: error.status, reason: err.reason });
      throw error;
    }
  }

  /** Whether this rate-limited client's 429 is captured (and shown to the agent) now: once a minute at most. */
  private captureLimited(clientIp: string, now = Date.now()): boolean {
    const last = this.limitedCaptured.get(clientIp);
    if (last !== undefined && now - last < GATE_LIMITS.rateLimitedCaptureMs) return false;
    if (this.limitedCaptured.size >= GATE_LIMITS.rateLimitedClients) this.limitedCaptured.clear();
    this.limitedCaptured.set(clientIp, now);
    return true;
  }

  /** The rate limiter for the policy's limit, kept while the limit stays the same. */
  private rateLimiter(policy: Policy): RateLimiter {
    const perMinute = policy.access.rateLimitPerMinute ?? 0;
    const current = this.limiter;
    if (current && current.perMinute === perMinute) return current.limiter;
    const limiter = new RateLimiter(perMinute);
    this.limiter = { perMinute, limiter };
    return limiter;
  }
}

/** The verdict as the agent's console shows it. */
export function verdictLine(v: Verification): string {
  const failed = `signature failed: ${v.reason}${v.mode === "log" ? " (log mode)" : ""}`;
  return `${v.provider} ${v.ok ? "signature valid" : failed}${v.handshake ? `, ${v.handshake}` : ""}`;
}

/** A refusal, with what the capture should keep of it. */
export class Refused extends Error {
  constructor(
    readonly error: RelayError,
    readonly reason: string,
    readonly verification: Verification | null,
    /** The body bytes read before refusing, for the capture. */
    readonly body: Uint8Array | null,
  ) {
    super(error.message);
  }
}

export type GateRequest = {
  tunnel: string;
  label: string;
  method: string;
  /** The path the local server would get. */
  path: string;
  url: string;
  clientIp: string;
  headers: HeaderList;
  body: ReadableStream<Uint8Array> | null;
  /** Replays come from the authenticated API: access rules do not apply and a failed signature is only logged. */
  replay: boolean;
  upgrade: boolean;
};

/** Applies the policy to one request; throws Refused when the relay must answer it instead. */
export async function admit(
  policy: Policy,
  limiter: RateLimiter,
  r: GateRequest,
  budget: RecordingBudget,
  now = Date.now(),
): Promise<Admitted> {
  if (!r.replay) {
    const denial = await checkAccess(policy.access, { headers: r.headers, clientIp: r.clientIp }, limiter, now);
    if (denial) {
      const error = new RelayError(denial.code, `Tunnel "${r.tunnel}" refused "${r.label}": ${denial.reason}.`, denial.headers);
      throw new Refused(error, denial.reason, null, null);
    }
  }
  const headers = consumesAuthorization(policy.access) ? r.headers.filter(([k]) => k.toLowerCase() !== "authorization") : r.headers;
  // A WebSocket upgrade is checked too: it carries no body, so it passes only with a signature over nothing.
  if (policy.specs.length === 0) return { headers, body: r.body, verification: null };

  const mode = r.replay ? "log" : policy.input.verifyMode;
  const limit = GATE_LIMITS.verifyBodyBytes;
  const declared = Number(r.headers.find(([k]) => k.toLowerCase() === "content-length")?.[1] ?? Number.NaN);
  const tooLarge = `body over ${limit / 1024 / 1024} MiB was not verified`;
  const refuse = (v: Verification, code: "signature-invalid" | "body-too-large", body: Uint8Array | null) => {
    const message = `Tunnel "${r.tunnel}" rejected "${r.label}": ${v.provider} signature check failed: ${v.reason}.`;
    return new Refused(new RelayError(code, message), v.reason, v, body);
  };
  if (mode === "enforce" && declared > limit) {
    await r.body?.cancel().catch(() => {});
    throw refuse({ provider: providers(policy), ok: false, reason: tooLarge, mode }, "body-too-large", null);
  }
  const read = await readUpTo(r.body, limit, budget, r.tunnel);
  try {
    const checked = read.rest
      ? null
      : await verifyWebhook(policy.specs, { method: r.method, url: r.url, headers: r.headers, body: read.bytes }, now);
    const reason = read.rest ? tooLarge : missingReason(policy.specs);
    const verification: Verification = { ...(checked ?? { provider: providers(policy), ok: false, reason }), mode };
    if (!verification.ok && mode === "enforce") {
      await read.rest?.cancel().catch(() => {});
      throw refuse(verification, read.rest ? "body-too-large" : "signature-invalid", read.bytes);
    }
    return { headers, body: r.body === null ? null : prepend(read), verification };
  } catch (err) {
    read.release();
    throw err;
  }
}

function providers(policy: Policy): string {
  return [...new Set(policy.specs.map((s) => s.provider))].join("|");
}

/** A body read for verification: its first bytes, what was left unread, and the budget they hold. */
type Read = { bytes: Uint8Array; rest: ReadableStreamDefaultReader<Uint8Array> | null; release: () => void };

/** Reads a body up to `limit` bytes within the tunnel's budget; `rest` is the unread remainder when it is longer. */
async function readUpTo(body: ReadableStream<Uint8Array> | null, limit: number, budget: RecordingBudget, tunnel: string): Promise<Read> {
  let held = 0;
  let released = false;
  const release = () => {
    if (!released) budget.release(held);
    released = true;
  };
  if (!body) return { bytes: new Uint8Array(0), rest: null, release };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: concatBytes(parts, held), rest: null, release };
    const granted = budget.take(value.byteLength);
    held += granted;
    if (granted < value.byteLength) {
      release();
      await reader.cancel().catch(() => {});
      const message = `Tunnel "${tunnel}" is verifying ${budget.limit / 1024 / 1024} MiB of webhooks already; retry shortly.`;
      throw new Refused(
        new RelayError("tunnel-busy", message, { "Retry-After": "1" }),
        "too many webhook bodies being verified at once",
        null,
        null,
      );
    }
    parts.push(value);
    if (held > limit) return { bytes: concatBytes(parts, held), rest: reader, release };
  }
}

/** A stream of the bytes already read, then the rest of the original body; the budget is given back when it ends. */
function prepend(read: Read): ReadableStream<Uint8Array> {
  let first = true;
  const { bytes, rest, release } = read;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        first = false;
        if (bytes.byteLength > 0) return controller.enqueue(bytes);
      }
      const next = rest ? await rest.read() : { done: true as const, value: undefined };
      if (next.done) {
        release();
        controller.close();
      } else controller.enqueue(next.value);
    },
    cancel(reason) {
      release();
      return rest?.cancel(reason);
    },
  });
}
