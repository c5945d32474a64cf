// What a public request must pass before anything of it reaches the agent: the tunnel's access
// rules, then its webhook signature. A refusal is a RelayError the caller records and answers.

import { checkAccess, consumesAuthorization, RateLimiter } from "./access";
import { concatBytes } from "./batcher";
import type { Verification } from "./capture-model";
import { RelayError } from "./errors";
import { type Policy, PolicyError } from "./policy";
import type { HeaderList, Notice } from "./protocol";
import type { Recorder } from "./recorder";
import type { TunnelRecords } from "./records";
import { missingReason, resign, signatureHeaders, verifyWebhook } from "./webhooks/verify";

/** Signature checks read the whole body first; a webhook larger than this is not verified. */
export const VERIFY_BODY_BYTES = 8 * 1024 * 1024;

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
      const admitted = await admit(policy, this.rateLimiter(policy), request);
      if (admitted.verification) recorder.verified(admitted.verification);
      return admitted;
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      const { error } = err;
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
export async function admit(policy: Policy, limiter: RateLimiter, r: GateRequest, now = Date.now()): Promise<Admitted> {
  if (!r.replay) {
    const denial = await checkAccess(policy.access, { headers: r.headers, clientIp: r.clientIp }, limiter, now);
    if (denial) {
      const error = new RelayError(denial.code, `Tunnel "${r.tunnel}" refused "${r.label}": ${denial.reason}.`, denial.headers);
      throw new Refused(error, denial.reason, null, null);
    }
  }
  const headers = consumesAuthorization(policy.access) ? r.headers.filter(([k]) => k.toLowerCase() !== "authorization") : r.headers;
  if (policy.specs.length === 0 || r.upgrade) return { headers, body: r.body, verification: null };

  const mode = r.replay ? "log" : policy.input.verifyMode;
  const { bytes, rest } = await readUpTo(r.body, VERIFY_BODY_BYTES);
  let verdict: Omit<Verification, "mode">;
  if (rest) {
    verdict = { provider: providers(policy), ok: false, reason: `body over ${VERIFY_BODY_BYTES / 1024 / 1024} MiB was not verified` };
  } else {
    const checked = await verifyWebhook(policy.specs, { method: r.method, url: r.url, headers: r.headers, body: bytes }, now);
    verdict = checked ?? { provider: providers(policy), ok: false, reason: missingReason(policy.specs) };
  }
  const verification: Verification = { ...verdict, mode };
  if (!verification.ok && mode === "enforce") {
    const message = `Tunnel "${r.tunnel}" rejected "${r.label}": ${verification.provider} signature check failed: ${verification.reason}.`;
    throw new Refused(new RelayError(rest ? "body-too-large" : "signature-invalid", message), verification.reason, verification, bytes);
  }
  return { headers, body: r.body === null ? null : prepend(bytes, rest), verification };
}

function providers(policy: Policy): string {
  return [...new Set(policy.specs.map((s) => s.provider))].join("|");
}

/** Reads a body up to `limit` bytes; `rest` is the unread remainder when it is longer. */
async function readUpTo(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ bytes: Uint8Array; rest: ReadableStreamDefaultReader<Uint8Array> | null }> {
  if (!body) return { bytes: new Uint8Array(0), rest: null };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: concatBytes(parts, size), rest: null };
    parts.push(value);
    size += value.byteLength;
    if (size > limit) return { bytes: concatBytes(parts, size), rest: reader };
  }
}

/** A stream of the bytes already read, then the rest of the original body. */
function prepend(bytes: Uint8Array, rest: ReadableStreamDefaultReader<Uint8Array> | null): ReadableStream<Uint8Array> {
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        first = false;
        if (bytes.byteLength > 0) return controller.enqueue(bytes);
      }
      const next = rest ? await rest.read() : { done: true as const, value: undefined };
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return rest?.cancel(reason);
    },
  });
}

/**
 * The request a re-signed replay sends: signed again at `now` with the tunnel's secret for the provider
 * the original was verified against (else the one whose signature headers it carries).
 */
export async function resigned(policy: Policy, request: Request, provider: string | undefined, now = Date.now()): Promise<Request> {
  const headers: HeaderList = [...request.headers];
  const carried = (spec: Policy["specs"][number]) => signatureHeaders(spec).some((h) => request.headers.has(h));
  const spec = policy.specs.find((s) => (provider ? s.provider === provider : carried(s)));
  const what = `Cannot re-sign the replay of "${request.method} ${new URL(request.url).pathname}"`;
  if (!spec) throw new RelayError("bad-request", `${what}: the tunnel verifies no provider it was signed for (--verify).`);
  const body = new Uint8Array(await request.clone().arrayBuffer());
  const signed = await resign(spec, { method: request.method, url: request.url, headers, body }, now);
  if (!signed)
    throw new RelayError("bad-request", `${what}: ${spec.provider} cannot be re-signed (the relay holds no signing secret for it).`);
  return new Request(request.url, { method: request.method, headers: signed, body: request.body === null ? null : body });
}
