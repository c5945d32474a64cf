// Providers whose credential does not cover the raw body: Mailgun signs only a timestamp and a token
// carried inside the body, and GitLab sends its shared secret itself. A passing verdict proves the
// sender knows the secret, not that the body is intact. Mailgun cannot be re-signed (its fields are in
// the body); GitLab's "re-signing" puts the configured token back, since captures redact it.

import { sameText } from "../timing-safe";
import { utf8 } from "./encoding";
import { hmac, matchesAny } from "./hmac";
import { bodyJson, field, formFields, header, missing, withHeader } from "./request";
import { fail, PASS, type Provider, type SignedRequest } from "./types";

type MailgunFields = { timestamp: string; token: string; signature: string };

/**
 * Mailgun's signature fields: `signature: {timestamp, token, signature}` in a JSON body (current
 * webhooks), or top-level `timestamp`, `token`, `signature` form fields (legacy webhooks).
 */
async function mailgunFields(req: SignedRequest): Promise<MailgunFields | undefined> {
  const json = field(bodyJson(req), "signature");
  const form = json === undefined ? await formFields(req) : undefined;
  const pick = (key: keyof MailgunFields) => (form ? form.find(([k]) => k === key)?.[1] : field(json, key));
  const timestamp = pick("timestamp");
  const token = pick("token");
  const signature = pick("signature");
  if (typeof timestamp !== "string" || typeof token !== "string" || typeof signature !== "string") return undefined;
  return { timestamp, token, signature };
}

/** Where Mailgun's signature lives, for "missing …" reasons: it has no signature header. */
export const MAILGUN_FIELDS = "signature fields (timestamp, token, signature) in the body";

/** Mailgun: HMAC-SHA256 hex of `<timestamp><token>` under the HTTP webhook signing key. */
export const mailgun: Provider = {
  headers: () => [],
  carries: async (req) => (await mailgunFields(req)) !== undefined,
  async verify(spec, req) {
    const fields = await mailgunFields(req);
    if (!fields) return fail(`missing ${MAILGUN_FIELDS}`);
    const expected = await hmac("SHA-256", utf8(spec.secret), utf8(fields.timestamp + fields.token));
    return (await matchesAny(expected, [fields.signature], "hex")) ? PASS : fail("signature mismatch");
  },
};

const GITLAB_HEADER = "X-Gitlab-Token";

/**
 * GitLab: `X-Gitlab-Token` must equal the configured secret token, compared in constant time.
 * Re-signing sets the header to that token, so a replay of a capture whose token was redacted still passes.
 */
export const gitlab: Provider = {
  headers: () => [GITLAB_HEADER],
  secretHeaders: [GITLAB_HEADER],
  credential: "token",
  async verify(spec, req) {
    const token = header(req, GITLAB_HEADER);
    if (token === undefined) return missing(GITLAB_HEADER);
    return (await sameText(token, spec.secret)) ? PASS : fail("token mismatch");
  },
  resign: async (spec, req) => withHeader(req.headers, GITLAB_HEADER, spec.secret),
};
