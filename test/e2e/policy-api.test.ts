// A tunnel's policy through the API, end to end (GET/PUT /_porthole/api/tunnels/<name>/policy): set
// while the agent runs or while it is away, in force on the next public request, kept when an agent
// reconnects without options, replaced by one that brings options, and never shown with its secrets.

import { afterAll, beforeAll, expect, it } from "vitest";
import { type AgentProcess, hostUrl, startAgent } from "./harness";
import { call, type PolicyTunnels, startPolicyTunnels } from "./policy-tunnels";
import { githubSignature } from "./signers";
import { tunnelCall } from "./tunnel-api";

const BEARER = "tok-put-0123456789";
const GITHUB = "policy-api github secret";

let t: PolicyTunnels;
const restarted: AgentProcess[] = [];

beforeAll(async () => {
  t = await startPolicyTunnels({ "pa-live": [], "pa-invalid": [], "pa-away": [] });
});

afterAll(async () => {
  await Promise.all(restarted.map((agent) => agent.kill()));
  await t?.stop();
});

const putPolicy = (name: string, input: unknown) => tunnelCall(t.relay, name, "/policy", { method: "PUT", json: input });

/** The policy as the API shows it; the raw text too, to check that no secret is in it. */
async function shownPolicy(name: string): Promise<{ summary: string; text: string }> {
  const res = await tunnelCall(t.relay, name, "/policy");
  expect(res.status, res.text).toBe(200);
  return { ...(JSON.parse(res.text) as { summary: string }), text: res.text };
}

/** Starts another agent for `name` (its previous one must be gone) and returns the policy line of its ready event. */
async function reconnect(name: string, flags: string[] = []): Promise<string> {
  const { agent, ready } = await startAgent(t.relay, t.origin.port, name, flags);
  restarted.push(agent);
  return String((ready as { policy?: unknown }).policy);
}

it("sets a policy on a live tunnel that applies to the next request, and shows it without secrets", async () => {
  const url = (path: string) => hostUrl(t.relay, "pa-live", path);
  expect((await call(url("/before"))).status).toBe(200);
  const put = await putPolicy("pa-live", { access: { bearer: [BEARER] } });
  expect(put.status, put.text).toBe(200);
  expect(put.text).not.toContain(BEARER);
  const shown = await shownPolicy("pa-live");
  expect(shown.summary).toBe("bearer (1 token)");
  expect(shown.text).not.toContain(BEARER);

  expect(await call(url("/after"))).toMatchObject({ status: 401, error: "unauthorized" });
  expect(t.origin.at("/after")).toHaveLength(0);
  expect((await call(url("/after"), { headers: { Authorization: `Bearer ${BEARER}` } })).status).toBe(200);
  expect(t.origin.at("/after")[0]!.headers.authorization).toBeUndefined();
});

it("refuses an invalid policy with 400 naming the cause, and keeps the one in force", async () => {
  expect((await putPolicy("pa-invalid", { access: { rateLimitPerMinute: 100 } })).status).toBe(200);
  const cases: [unknown, string][] = [
    [{ verify: ["nosuch:x"] }, "nosuch"],
    [{ access: { allowIp: ["10.0.0.0/33"] } }, "10.0.0.0/33"],
    [{ verifyMode: "sometimes" }, "verifyMode"],
    [{ acess: {} }, "acess"],
  ];
  for (const [input, named] of cases) {
    const res = await putPolicy("pa-invalid", input);
    expect(res.status, `PUT ${JSON.stringify(input)} answered ${res.text}`).toBe(400);
    expect(res.text).toContain(named);
  }
  expect((await shownPolicy("pa-invalid")).summary).toBe("100/min");
});

it("refuses to read or set a policy without the relay's token", async () => {
  expect((await tunnelCall(t.relay, "pa-live", "/policy", { token: "wrong-token" })).status).toBe(401);
  const put = await tunnelCall(t.relay, "pa-live", "/policy", { method: "PUT", json: {}, token: "wrong-token" });
  expect(put.status).toBe(401);
  expect((await shownPolicy("pa-live")).summary).toBe("bearer (1 token)");
});

it("keeps a policy set while the agent is away when it reconnects without options; an agent with options replaces it", async () => {
  const name = "pa-away";
  await t.agent(name).kill();
  const put = await putPolicy(name, { verify: [`github:${GITHUB}`] });
  expect(put.status, put.text).toBe(200);

  expect(await reconnect(name)).toBe("verify github (enforce)");
  const hook = (headers: Record<string, string>) => call(hostUrl(t.relay, name, "/hook"), { method: "POST", body: "{}", headers });
  expect(await hook({})).toMatchObject({ status: 401, error: "signature-invalid" });
  expect((await hook({ "X-Hub-Signature-256": githubSignature(GITHUB, "{}") })).status).toBe(200);

  await restarted.pop()!.kill();
  expect(await reconnect(name, ["--basic-auth", "ann:pw-away"])).toBe("basic-auth (1 user)");
  expect((await shownPolicy(name)).summary).toBe("basic-auth (1 user)");
  // The whole policy was replaced: no signature is needed any more, only the credential.
  expect((await hook({ Authorization: `Basic ${Buffer.from("ann:pw-away").toString("base64")}` })).status).toBe(200);
});
