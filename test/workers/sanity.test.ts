import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers health", async () => {
  const res = await exports.default.fetch("http://relay.test/_porthole/health");
  expect(await res.json()).toMatchObject({ ok: true });
});
