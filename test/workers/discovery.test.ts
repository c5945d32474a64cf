// OAuth discovery through the tunnel: host mode passes /.well-known/* through unchanged; path mode maps
// the documents RFC 9728 and RFC 8414 put outside the /t/<name> prefix onto the local server's own.

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FakeAgent } from "./fake-agent";
import { publicFetch, RELAY, uniqueName } from "./helpers";

/** Sends `url` to the relay and returns the path and headers the agent was asked for, answering with JSON. */
async function seenByAgent(agent: FakeAgent, url: string) {
  const res = exports.default.fetch(url);
  const head = await agent.next("request-head");
  agent.respond(head.stream, { headers: [["Content-Type", "application/json"]], body: '{"resource":"x"}' });
  expect((await res).status).toBe(200);
  return head;
}

describe("OAuth discovery", () => {
  it("passes /.well-known/* through unchanged in host mode", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const res = publicFetch(name, "/.well-known/oauth-protected-resource/mcp");
    const head = await agent.next("request-head");
    expect(head.path).toBe("/.well-known/oauth-protected-resource/mcp");
    agent.respond(head.stream, { body: "{}" });
    expect((await res).status).toBe(200);
  });

  it("maps the path-mode protected-resource and authorization-server documents to the local server's", async () => {
    const name = uniqueName();
    const agent = await FakeAgent.connect(name);
    const resource = await seenByAgent(agent, `${RELAY}/.well-known/oauth-protected-resource/t/${name}/mcp`);
    expect(resource.path).toBe("/.well-known/oauth-protected-resource/mcp");
    expect(resource.headers).toContainEqual(["X-Forwarded-Prefix", `/t/${name}`]);
    const server = await seenByAgent(agent, `${RELAY}/.well-known/oauth-authorization-server/t/${name}`);
    expect(server.path).toBe("/.well-known/oauth-authorization-server");
    const oidc = await seenByAgent(agent, `${RELAY}/.well-known/openid-configuration/t/${name}?x=1`);
    expect(oidc.path).toBe("/.well-known/openid-configuration?x=1");
    // The prefix form of the same documents needs no mapping: it is an ordinary path-mode request.
    const inside = await seenByAgent(agent, `${RELAY}/t/${name}/.well-known/oauth-authorization-server`);
    expect(inside.path).toBe("/.well-known/oauth-authorization-server");
  });

  it("answers tunnel-not-found for other /.well-known paths on the relay's own host", async () => {
    const res = await exports.default.fetch(`${RELAY}/.well-known/security.txt`);
    expect(res.status).toBe(404);
    expect(res.headers.get("X-Porthole-Error")).toBe("tunnel-not-found");
    expect(await res.text()).toMatch(/\/.well-known\/<document>\/t\/<name>/);
  });
});
