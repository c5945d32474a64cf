// Parsing `--verify PROVIDER:SECRET`. Errors name the option and the cause in one sentence and never
// quote the secret: the message may end up in a terminal, a log or a close frame.

import { parseRecipe, recipeAlgorithm } from "./recipe";
import { ALIASES, isProviderId, PROVIDERS } from "./registry";
import type { VerifySpec } from "./types";

/** A `--verify` option that cannot be used; the message is one sentence for the user. */
export class VerifySpecError extends Error {
  override name = "VerifySpecError";
}

const KNOWN = [...Object.keys(PROVIDERS).filter((id) => id !== "hmac"), ...Object.keys(ALIASES), "hmac-sha1", "hmac-sha256", "hmac-sha512"];

function invalid(word: string, cause: string): VerifySpecError {
  return new VerifySpecError(`Invalid --verify ${word}: ${cause}.`);
}

/** The secret, unless it is empty or carries whitespace a copy-paste brought along (then it throws). */
function checkSecret(word: string, secret: string): string {
  if (secret === "") throw invalid(word, "the secret after the provider is empty");
  if (secret.trim() !== secret) throw invalid(word, "the secret has leading or trailing whitespace");
  return secret;
}

/**
 * Parses "PROVIDER:SECRET" (everything after the first ":" is the secret; `svix` is an alias of
 * standard-webhooks), or a generic recipe "hmac-sha256:PARAMS:SECRET" (grammar in recipe.ts).
 * Throws VerifySpecError naming the option and the cause.
 */
export function parseVerifySpec(text: string): VerifySpec {
  const colon = text.indexOf(":");
  if (colon < 0) throw new VerifySpecError("Invalid --verify: expected PROVIDER:SECRET, for example stripe:whsec_….");
  const word = text.slice(0, colon).trim().toLowerCase();
  const rest = text.slice(colon + 1);
  const algorithm = recipeAlgorithm(word);
  if (algorithm !== null) {
    const end = rest.indexOf(":");
    if (end < 0) throw invalid(word, "a recipe is PARAMS:SECRET, for example header=X-Signature,prefix=sha256=:SECRET");
    const recipe = parseRecipe(algorithm, rest.slice(0, end));
    if (typeof recipe === "string") throw invalid(word, recipe);
    return { provider: "hmac", secret: checkSecret(word, rest.slice(end + 1)), recipe };
  }
  if (word.startsWith("hmac-")) throw invalid(word, "a recipe's hash is sha1, sha256 or sha512");
  const provider = ALIASES[word] ?? (isProviderId(word) ? word : undefined);
  if (!provider) throw invalid(JSON.stringify(word.slice(0, 40)), `unknown provider (known: ${KNOWN.join(", ")})`);
  const secret = checkSecret(word, rest);
  const cause = PROVIDERS[provider].checkSecret?.(secret);
  if (cause) throw invalid(word, cause);
  return { provider, secret };
}
