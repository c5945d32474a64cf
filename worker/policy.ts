// A tunnel's policy: the webhook signatures it verifies and the access rules of its public URL.
// It arrives in the agent's hello or through the API and is validated there, once; the stored
// form is the input exactly as given, so it can be validated again after a restart.

import { type AccessRules, describeAccess, parseAccessRules } from "./access";
import { parseVerifySpec, type VerifySpec } from "./webhooks/verify";

/** Enforce rejects a request whose signature fails; log forwards it and records the verdict. */
export type VerifyMode = "enforce" | "log";

/** The policy as given; `verify` holds "PROVIDER:SECRET" options exactly as on the command line. */
export type PolicyInput = { verify: string[]; verifyMode: VerifyMode; access: AccessRules };

/** A validated policy, with its verifiers parsed. */
export type Policy = { input: PolicyInput; specs: VerifySpec[]; access: AccessRules };

/** A policy that cannot be used; the message names the option and the cause. */
export class PolicyError extends Error {}

/** No verification, no access rules. */
export const OPEN_POLICY: Policy = { input: { verify: [], verifyMode: "enforce", access: {} }, specs: [], access: {} };

const KEYS = new Set(["verify", "verifyMode", "access"]);

/** Most `verify` entries a policy may hold: a request is checked against each, so the list bounds the work per request. */
export const MAX_VERIFY = 32;

/** Validates a policy from the hello or the API. Throws PolicyError. */
export function parsePolicy(input: unknown): Policy {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new PolicyError("the policy must be a JSON object");
  const o = input as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !KEYS.has(k));
  if (unknown) throw new PolicyError(`the policy has an unknown field "${unknown}" (expected verify, verifyMode, access)`);
  const verify = o.verify ?? [];
  if (!Array.isArray(verify) || !verify.every((v) => typeof v === "string")) {
    throw new PolicyError('"verify" must be a list of "PROVIDER:SECRET" strings');
  }
  if (verify.length > MAX_VERIFY) {
    throw new PolicyError(
      `"verify" has ${verify.length} entries; a tunnel verifies at most ${MAX_VERIFY} (each request is checked against every one)`,
    );
  }
  const verifyMode = o.verifyMode ?? "enforce";
  if (verifyMode !== "enforce" && verifyMode !== "log")
    throw new PolicyError(`"verifyMode" must be "enforce" or "log", not ${JSON.stringify(verifyMode)}`);
  try {
    const specs = verify.map((v) => parseVerifySpec(v));
    const access = parseAccessRules(o.access ?? {});
    return { input: { verify, verifyMode, access }, specs, access };
  } catch (err) {
    throw new PolicyError((err as Error).message);
  }
}

/** Rebuilds a stored policy. Throws PolicyError if it no longer validates: a tunnel never falls open. */
export function restorePolicy(json: string): Policy {
  return parsePolicy(JSON.parse(json));
}

/** One line for the agent and the API, without secrets; empty when the tunnel is open. */
export function describePolicy(policy: Policy): string {
  const parts: string[] = [];
  if (policy.specs.length > 0) parts.push(`verify ${policy.specs.map((s) => s.provider).join(", ")} (${policy.input.verifyMode})`);
  const access = describeAccess(policy.access);
  if (access) parts.push(access);
  return parts.join("; ");
}

/** The policy as the API shows it: providers and rules, never secrets. */
export type PublicPolicy = { verify: string[]; verifyMode: VerifyMode; access: string; summary: string };

/** The policy as the API shows it. */
export function publicPolicy(policy: Policy): PublicPolicy {
  return {
    verify: policy.specs.map((s) => s.provider),
    verifyMode: policy.input.verifyMode,
    access: describeAccess(policy.access),
    summary: describePolicy(policy),
  };
}
