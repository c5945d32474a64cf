// Signature verdicts and denials as the user sees them: in the inspector in a real Chromium (badges in the
// list, the verdict in the detail, "Replay re-signed") and in `porthole captures`. The relay, the agents
// (started with --verify, --verify-mode log and --basic-auth) and the local server are real.

import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hostUrl, launchChromium, once, spawnCli, TOKEN } from "./harness";
import { INSPECTOR_WAIT, type InspectorPage, openDetail, openInspector, rowFor, textOf } from "./inspector-session";
import { call, type PolicyTunnels, startPolicyTunnels } from "./policy-tunnels";
import { githubSignature } from "./signers";
import { type Capture, captureOf, captureWhere } from "./tunnel-api";

const SECRET = "inspector-verdict github secret";
const GITHUB = "iv-github";
const LOGGED = "iv-log";
const GUARDED = "iv-basic";
const EVIL = "<img src=x onerror=window.__pwned=1>";

let t: PolicyTunnels;
let browser: Browser;
const pages: InspectorPage[] = [];

beforeAll(async () => {
  [t, browser] = await Promise.all([
    startPolicyTunnels({
      [GITHUB]: ["--verify", `github:${SECRET}`],
      [LOGGED]: ["--verify", `github:${SECRET}`, "--verify-mode", "log"],
      [GUARDED]: ["--basic-auth", "ann:correct-horse"],
    }),
    launchChromium(),
  ]);
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.context.close()));
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function inspect(name: string): Promise<InspectorPage> {
  const opened = await openInspector(browser, t.relay.url, name);
  pages.push(opened);
  return opened;
}

/** POSTs a GitHub delivery: signed over `signed`, carrying `sent` (the same bytes, unless tampered with on the way). */
async function deliver(name: string, path: string, signed: string, sent = signed) {
  return call(hostUrl(t.relay, name, path), {
    method: "POST",
    body: sent,
    headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": githubSignature(SECRET, signed) },
  });
}

/** A valid and a tampered delivery to `<prefix>/valid` and `<prefix>/tampered`, with their captures. */
async function validAndTampered(name: string, prefix: string): Promise<{ valid: Capture; tampered: Capture; tamperedBody: string }> {
  const body = `{"ref":"refs/heads/main","n":1,"at":"${prefix}"}`;
  const tamperedBody = body.replace('"n":1', '"n":2');
  expect((await deliver(name, `${prefix}/valid`, body)).status).toBe(200);
  await deliver(name, `${prefix}/tampered`, body, tamperedBody);
  const [valid, tampered] = await Promise.all([
    captureOf(t.relay, name, `${prefix}/valid`),
    captureOf(t.relay, name, `${prefix}/tampered`),
  ]);
  return { valid, tampered, tamperedBody };
}

const row = (id: string) => `[data-testid="capture-row"][data-id="${id}"]`;

describe("the inspector", () => {
  it("badges verdicts in the list, explains them in the detail, and re-signs a tampered delivery on replay", async () => {
    const { valid, tampered, tamperedBody } = await validAndTampered(GITHUB, "/ui");
    expect(tampered).toMatchObject({ outcome: "denied", status: 401, error: "signature mismatch" });
    expect(t.origin.at("/ui/tampered")).toHaveLength(0);

    const opened = await inspect(GITHUB);
    const { page } = opened;
    await page.waitForSelector(row(tampered.id), INSPECTOR_WAIT);
    expect(await textOf(page, "verdict", row(valid.id))).toBe("✓ github");
    expect(await textOf(page, "verdict", row(tampered.id))).toBe("✗ github");
    expect(await textOf(page, "denied-reason", row(tampered.id))).toContain("signature mismatch");
    expect(await page.locator(`${row(valid.id)} [data-testid="denied-reason"]`).count()).toBe(0);
    expect(await page.locator(row(tampered.id)).getAttribute("class")).toContain("denied");

    await openDetail(page, valid.id);
    expect(await fields(opened)).toEqual([
      ["provider", "github"],
      ["ok", "true"],
      ["reason", "valid github signature"],
      ["mode", "enforce"],
    ]);
    expect(await page.locator('[data-testid="detail-denied"]').count()).toBe(0);

    await openDetail(page, tampered.id);
    expect(await fields(opened)).toEqual([
      ["provider", "github"],
      ["ok", "false"],
      ["reason", "signature mismatch"],
      ["mode", "enforce"],
    ]);
    expect(await textOf(page, "detail-denied")).toBe("Denied by the relay: signature mismatch. The local server never saw this request.");
    expect(await textOf(page, "verdict", '[data-testid="verification"]')).toBe("✗ github");

    // Re-signing signs the bytes captured, tampered or not: the replay passes the relay and reaches the local server.
    await page.click('[data-testid="replay-resign"]');
    const replayRow = page.locator('[data-testid="capture-row"]', { hasText: "/ui/tampered", has: page.locator('[title="replay"]') });
    await replayRow.waitFor(INSPECTOR_WAIT);
    expect(await replayRow.locator('[data-testid="verdict"]').textContent()).toBe("✓ github");
    const replayed = await captureWhere(t.relay, GITHUB, (c) => c.replayOf === tampered.id);
    expect(replayed).toMatchObject({ outcome: "ok", status: 200, verification: { provider: "github", ok: true, mode: "log" } });
    const [seen] = t.origin.at("/ui/tampered");
    expect(seen?.body.toString()).toBe(tamperedBody);
    expect(seen?.headers["x-hub-signature-256"]).toBe(githubSignature(SECRET, tamperedBody));

    await openDetail(page, replayed.id);
    expect(await textOf(page, "detail-replay-of")).toContain(tampered.id);
    expect(await fields(opened)).toContainEqual(["mode", "log"]);
    expect(opened.problems).toEqual([]);
  });

  it("marks a failed signature the relay only logged, and filters the list down to bad signatures", async () => {
    const { tampered } = await validAndTampered(LOGGED, "/logged");
    expect(tampered).toMatchObject({ outcome: "ok", status: 200, verification: { ok: false, mode: "log", reason: "signature mismatch" } });
    const opened = await inspect(LOGGED);
    const { page } = opened;
    await page.waitForSelector(row(tampered.id), INSPECTOR_WAIT);
    expect(await textOf(page, "verdict", row(tampered.id))).toBe("✗ github (log)");
    await page.selectOption('[data-testid="filter-status"]', "bad-signature");
    await expect.poll(() => rowFor(page, "/logged/").filter({ visible: true }).count(), INSPECTOR_WAIT).toBe(1);
    expect(await rowFor(page, "/logged/tampered").isVisible()).toBe(true);
    await page.selectOption('[data-testid="filter-status"]', "");
    await openDetail(page, tampered.id);
    expect(await page.locator('[data-testid="replay-resign"]').count()).toBe(1);
    expect(await page.locator('[data-testid="detail-denied"]').count()).toBe(0);
    expect(await fields(opened)).toContainEqual(["mode", "log"]);
    expect(opened.problems).toEqual([]);
  });

  it("shows a denied request's hostile path and headers as text, with the relay's reason", async () => {
    const evilPath = `/denied/${encodeURIComponent(EVIL)}?q=${encodeURIComponent(EVIL)}`;
    const res = await call(hostUrl(t.relay, GUARDED, evilPath), { headers: { "X-Evil": EVIL, Authorization: `Basic ${btoa(EVIL)}` } });
    expect(res).toMatchObject({ status: 401, error: "unauthorized" });
    const denied = await captureOf(t.relay, GUARDED, evilPath);
    expect(denied.outcome).toBe("denied");
    expect(denied.verification).toBeNull();

    const opened = await inspect(GUARDED);
    const { page } = opened;
    await page.waitForSelector(row(denied.id), INSPECTOR_WAIT);
    expect(await textOf(page, "denied-reason", row(denied.id))).toContain(String(denied.error));
    expect(await page.locator(`${row(denied.id)} [data-testid="verdict"]`).count()).toBe(0);
    await openDetail(page, denied.id);
    expect(await textOf(page, "detail-denied")).toContain(String(denied.error));
    expect(await textOf(page, "decoded-path")).toContain(EVIL);
    expect(await textOf(page, "query")).toContain(EVIL);
    expect(await textOf(page, "request-headers")).toContain(EVIL);
    expect(await page.locator('[data-testid="replay-resign"]').count()).toBe(0);
    const state = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
      injected: document.querySelectorAll("img,svg,iframe,object,embed,script:not([data-inspector])").length,
    }));
    expect(state).toEqual({ pwned: undefined, injected: 0 });
    expect(opened.problems).toEqual([]);
  });
});

/** The rows of the detail's verification table. */
function fields({ page }: InspectorPage): Promise<string[][]> {
  return page.$$eval('[data-testid="verification-fields"] tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? "")));
}

describe("porthole captures", () => {
  /** Runs the CLI against the test relay; resolves once its output is fully read. */
  async function captures(name: string, extra: string[] = []) {
    const cli = spawnCli(["captures", name, "--relay", t.relay.url, "--token", TOKEN, ...extra]);
    const [code] = (await once(cli.child, "close")) as [number | null];
    return { code, lines: cli.output, events: cli.events };
  }

  it("appends the verdict to each line, and says why the relay denied a request", async () => {
    const { valid, tampered } = await validAndTampered(GITHUB, "/cli");
    const { code, lines } = await captures(GITHUB);
    expect(code).toBe(0);
    const line = (id: string) => lines.find((l) => l.includes(id)) ?? `no line for ${id} in:\n${lines.join("\n")}`;
    expect(line(valid.id)).toMatch(/POST \/cli\/valid → 200 .* ✓ github$/);
    expect(line(tampered.id)).toMatch(/POST \/cli\/tampered → 401 ✗ denied .* ✗ github: signature mismatch$/);

    const json = await captures(GITHUB, ["--json"]);
    expect(json.events.find((e) => e.id === tampered.id)).toMatchObject({
      outcome: "denied",
      error: "signature mismatch",
      verification: { provider: "github", ok: false, reason: "signature mismatch", mode: "enforce" },
    });
    expect(json.events.find((e) => e.id === valid.id)?.verification).toMatchObject({ ok: true });
  });

  it("prints an access denial with its reason", async () => {
    await call(hostUrl(t.relay, GUARDED, "/cli/no-credentials"));
    const denied = await captureOf(t.relay, GUARDED, "/cli/no-credentials");
    const { lines } = await captures(GUARDED);
    expect(lines.find((l) => l.includes(denied.id))).toContain(`GET /cli/no-credentials → 401 ✗ denied: ${denied.error}  `);
  });
});
