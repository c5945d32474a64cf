// The user-defined HMAC verifier, for providers we do not list. Grammar of the option:
//
//   --verify hmac-sha256:PARAMS:SECRET        (also hmac-sha1, hmac-sha512)
//   --verify hmac:algo=sha256,PARAMS:SECRET   (algo= sha1 | sha256 | sha512, default sha256)
//
// PARAMS is `name=value` pairs separated by ","; it ends at the first ":", so the secret may hold any
// character. A value is everything after its first "=", percent-decoded: write "," ":" "%" as %2C %3A %25.
//   header=NAME        required; the header carrying the signature
//   encoding=hex|base64  default hex
//   prefix=TEXT        text before the signature in the header, e.g. prefix=sha256=
//   timestamp=NAME     a header holding a Unix-seconds timestamp; makes the recipe timestamped
//   template=TEXT      the signed text: literal text, {timestamp}, ending with {body}.
//                      Default {body}, or {timestamp}.{body} with timestamp=
//   tolerance=SECONDS  replay window either way with timestamp=, default 300
// Example: hmac-sha256:header=X-Sig,prefix=v0=,timestamp=X-Ts,template=v0%3A{timestamp}%3A{body}:SECRET

import { type HmacScheme, hmacProvider, prefixed } from "./hmac-scheme";
import { header, withHeader } from "./request";
import type { HmacAlgorithm, HmacRecipe, Provider } from "./types";

const ALGORITHMS: Record<string, HmacAlgorithm> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };
const PARAMS = new Set(["header", "encoding", "prefix", "algo", "timestamp", "template", "tolerance"]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BODY = "{body}";

/** The recipe's algorithm from its provider word (`hmac-sha256`), undefined for plain `hmac`, or null when the word is not a recipe. */
export function recipeAlgorithm(word: string): HmacAlgorithm | undefined | null {
  if (word === "hmac") return undefined;
  return word.startsWith("hmac-") ? (ALGORITHMS[word.slice(5)] ?? null) : null;
}

/** Parses PARAMS (see the grammar above) into a recipe, or returns the cause as a clause. */
export function parseRecipe(fixed: HmacAlgorithm | undefined, text: string): HmacRecipe | string {
  const params = new Map<string, string>();
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    // A pair without "=" may be part of the secret (hmac:abc:def puts "abc" here), so it is never quoted.
    if (eq < 0) return `recipe parameters are name=value pairs (known names: ${[...PARAMS].join(", ")})`;
    const name = pair.slice(0, eq);
    if (!PARAMS.has(name)) return `unknown recipe parameter ${JSON.stringify(name)} (known: ${[...PARAMS].join(", ")})`;
    if (params.has(name)) return `recipe parameter ${name} given twice`;
    try {
      params.set(name, decodeURIComponent(pair.slice(eq + 1)));
    } catch {
      return `recipe parameter ${name} has a malformed %-escape`;
    }
  }
  const headerName = params.get("header");
  if (!headerName || !TOKEN.test(headerName)) return "the recipe needs header=NAME with a valid header name";
  const algo = params.get("algo");
  if (algo !== undefined && fixed) return "algo= is only for plain hmac; hmac-sha1/-sha256/-sha512 already name it";
  const algorithm = fixed ?? ALGORITHMS[algo ?? "sha256"];
  if (!algorithm) return "algo= must be sha1, sha256 or sha512";
  const encoding = params.get("encoding") ?? "hex";
  if (encoding !== "hex" && encoding !== "base64") return "encoding= must be hex or base64";
  const timestampHeader = params.get("timestamp");
  if (timestampHeader !== undefined && !TOKEN.test(timestampHeader)) return "timestamp= must be a valid header name";
  const template = params.get("template") ?? (timestampHeader ? `{timestamp}.${BODY}` : BODY);
  const literal = template.slice(0, -BODY.length).replaceAll("{timestamp}", "");
  if (!template.endsWith(BODY) || /[{}]/.test(literal)) return "template= must end with {body} and hold no other token than {timestamp}";
  if (template.includes("{timestamp}") && !timestampHeader) return "template= uses {timestamp} but no timestamp= header is given";
  const tolerance = params.get("tolerance") ?? "300";
  if (!/^[1-9]\d{0,6}$/.test(tolerance)) return "tolerance= must be a whole number of seconds";
  if (params.has("tolerance") && !timestampHeader) return "tolerance= needs a timestamp= header";
  const prefix = params.get("prefix") ?? "";
  return { algorithm, header: headerName, encoding, prefix, timestampHeader, template, toleranceSeconds: Number(tolerance) };
}

/** The HMAC scheme a recipe describes. */
function recipeScheme(recipe: HmacRecipe): HmacScheme {
  const ts = recipe.timestampHeader;
  return {
    header: recipe.header,
    also: ts ? [ts] : [],
    algorithm: recipe.algorithm,
    encoding: recipe.encoding,
    clock: ts ? "unix" : undefined,
    tolerance: ts ? { seconds: recipe.toleranceSeconds, future: true } : undefined,
    read(value, req) {
      const reading = prefixed(value, recipe.prefix);
      if (!ts) return reading;
      const text = header(req, ts);
      return text === undefined ? `missing header ${ts}` : { ...reading, timestamp: { text, where: `header ${ts}` } };
    },
    signed: (_req, timestamp) => recipe.template.slice(0, -BODY.length).replaceAll("{timestamp}", timestamp),
    write(headers, signature, timestamp) {
      const signed = withHeader(headers, recipe.header, recipe.prefix + signature);
      return ts ? withHeader(signed, ts, timestamp) : signed;
    },
  };
}

/** The `hmac` provider: whatever the spec's recipe says. */
export const hmacRecipe: Provider = hmacProvider((spec) => (spec.recipe ? [recipeScheme(spec.recipe)] : []));
