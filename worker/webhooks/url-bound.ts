// Providers whose signature covers the URL they called, so it is checked against the public URL of the
// tunnel (req.url), never the rewritten local one: Square (URL + body) and Twilio (URL + form fields,
// or URL with a bodySHA256 parameter for JSON bodies).

import type { HeaderList } from "../protocol";
import { sameText, sha256 } from "../timing-safe";
import { concat, toBase64, toHex, utf8 } from "./encoding";
import { hmac, matchesAny } from "./hmac";
import { headerScheme, hmacProvider } from "./hmac-scheme";
import { formFields, header, missing, withHeader } from "./request";
import { fail, PASS, type Provider, type SignedRequest } from "./types";

/** Square: `x-square-hmacsha256-signature: <base64>` over `<notification URL><body>` (legacy `x-square-signature`, SHA-1). */
export const square: Provider = hmacProvider([
  headerScheme({ header: "x-square-hmacsha256-signature", algorithm: "SHA-256", encoding: "base64", signed: (req) => req.url }),
  headerScheme({ header: "x-square-signature", algorithm: "SHA-1", encoding: "base64", signed: (req) => req.url }),
]);

const TWILIO_HEADER = "X-Twilio-Signature";
const DEFAULT_PORT: Record<string, string> = { "https:": "443", "http:": "80" };

/**
 * The URL spellings Twilio may have signed: twilio-node tries the URL with and without its port, because
 * "signature generation on the back end is inconsistent" about the default port (:443 / :80).
 */
function urlVariants(url: URL): string[] {
  const withoutPort = new URL(url);
  withoutPort.port = "";
  const auth = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  const port = url.port || DEFAULT_PORT[url.protocol] || "";
  const withPort = `${url.protocol}//${auth}${url.hostname}${port ? `:${port}` : ""}${url.pathname}${url.search}${url.hash}`;
  return [...new Set([url.toString(), withoutPort.toString(), withPort])];
}

/** Form fields as Twilio signs them: names sorted, each name followed by its value; repeated names once per distinct value, sorted. */
function sortedParams(fields: [string, string][]): string {
  const byName = new Map<string, string[]>();
  for (const [k, v] of fields) byName.set(k, [...(byName.get(k) ?? []), v]);
  return [...byName.keys()]
    .sort()
    .map((k) => {
      const values = byName.get(k)!;
      return (values.length > 1 ? [...new Set(values)].sort() : values).map((v) => k + v).join("");
    })
    .join("");
}

/** The URL and what Twilio appends to it: nothing for JSON bodies (they carry bodySHA256), the form fields otherwise. */
async function twilioInput(req: SignedRequest): Promise<{ url: URL; params: string; bodyHash: string | null } | undefined> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return undefined;
  }
  const bodyHash = url.searchParams.get("bodySHA256");
  return { url, bodyHash, params: bodyHash === null ? sortedParams((await formFields(req)) ?? []) : "" };
}

async function twilioSign(token: string, text: string): Promise<Uint8Array> {
  return hmac("SHA-1", utf8(token), utf8(text));
}

/** Twilio: `X-Twilio-Signature: <base64>`, HMAC-SHA1 under the account auth token. */
export const twilio: Provider = {
  headers: () => [TWILIO_HEADER],
  async verify(spec, req) {
    const signature = header(req, TWILIO_HEADER);
    if (signature === undefined) return missing(TWILIO_HEADER);
    const input = await twilioInput(req);
    if (!input) return fail(`request URL ${JSON.stringify(req.url.slice(0, 80))} is not absolute`);
    let found = false;
    for (const variant of urlVariants(input.url)) {
      if (await matchesAny(await twilioSign(spec.secret, variant + input.params), [signature], "base64")) found = true;
    }
    if (!found) return fail("signature mismatch");
    if (input.bodyHash !== null && !(await sameText(toHex(await sha256(concat(req.body))), input.bodyHash.toLowerCase()))) {
      return fail("body SHA-256 does not match the bodySHA256 URL parameter");
    }
    return PASS;
  },
  async resign(spec, req): Promise<HeaderList | null> {
    const input = await twilioInput(req);
    if (!input) return null;
    const signature = toBase64(await twilioSign(spec.secret, input.url.toString() + input.params));
    return withHeader(req.headers, TWILIO_HEADER, signature);
  },
};
