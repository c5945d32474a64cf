// The inspector in a real Chromium: login, the live list, the detail view, replay, curl, clear, and
// that hostile captured data (paths, headers, bodies, SSE events, WebSocket messages) stays inert text.

import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import {
  type AgentProcess,
  fetchUrl,
  hostUrl,
  launchChromium,
  once,
  openWebSocket,
  type RelayProcess,
  startAgent,
  startRelay,
  TOKEN,
} from "./harness";
import { type InspectorPage, openInspector as openLoggedIn, watchedPage } from "./inspector-session";
import { type Origin, startOrigin } from "./origin";

const NAME = "inspector-e2e";
/** A second tunnel whose origin records every request and serves hostile content. */
const REC = "inspector-rec";
const WAIT = { timeout: 20_000 };

const XSS = [
  `<img src=x onerror="window.__xss=1">`,
  "<script>window.__xss=1</script>",
  `"><svg onload=window.__xss=1>`,
  "javascript:window.__xss=1",
];

type Recorded = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

/** An origin that records requests, echoes bodies, and serves XSS payloads as HTML, SSE, binary and WebSocket messages. */
async function startRecordingOrigin() {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: body.toString() });
      const path = new URL(`http://origin${req.url ?? "/"}`).pathname;
      if (path === "/xss-sse") {
        res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Evil-Response": XSS[0] });
        for (const [i, p] of XSS.entries()) res.write(`id: ${i}\nevent: ${p}\ndata: ${p}\n\n`);
        return void res.end();
      }
      if (path === "/xss-html") {
        res.writeHead(200, { "Content-Type": "text/html", "X-Evil-Response": XSS[1] });
        return void res.end(`<!doctype html><html><body>${XSS.join("\n")}</body></html>`);
      }
      if (path === "/xss-bin") {
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        return void res.end(Buffer.concat([Buffer.from([0, 1, 0xfe, 0xff]), Buffer.from(XSS[1] ?? "")]));
      }
      res.writeHead(200, { "Content-Type": req.headers["content-type"] ?? "text/plain" });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ server, path: "/ws" });
  wss.on("connection", (ws) => {
    ws.send(XSS[2] ?? "");
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let relay: RelayProcess;
let origin: Origin;
let rec: Awaited<ReturnType<typeof startRecordingOrigin>>;
let agents: AgentProcess[] = [];
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [relay, origin, rec, browser] = await Promise.all([startRelay(), startOrigin(), startRecordingOrigin(), launchChromium()]);
  agents = await Promise.all([startAgent(relay, origin.port, NAME), startAgent(relay, rec.port, REC)]).then((r) => r.map((a) => a.agent));
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(agents.map((a) => a.kill()));
  await relay?.stop();
  await origin?.close();
  await rec?.close();
});

const inspectUrl = (name: string) => `${relay.url}/_porthole/inspect/${name}`;
const apiUrl = (name: string, path = "") => `${relay.url}/_porthole/api/tunnels/${name}${path}`;
const bearer = { Authorization: `Bearer ${TOKEN}` };

/** A fresh watched page (see inspector-session.ts), closed with the others at the end. */
async function newPage(): Promise<InspectorPage> {
  const watched = await watchedPage(browser);
  contexts.push(watched.context);
  return watched;
}

/** Logs in through the form and waits until the list is loaded and the feed is live. */
async function openInspector(name: string): Promise<InspectorPage> {
  const watched = await openLoggedIn(browser, relay.url, name);
  contexts.push(watched.context);
  return watched;
}

const rowFor = (page: Page, text: string) => page.locator('[data-testid="capture-row"]', { hasText: text });

/** Clicks the newest row matching `text` and waits until the detail view shows that capture, finished. */
async function openDetail(page: Page, text: string): Promise<string> {
  const row = rowFor(page, text).first();
  await row.waitFor(WAIT);
  const id = (await row.getAttribute("data-id")) ?? "";
  await row.click();
  // An open capture's detail reloads by itself when its "end" arrives.
  await page.waitForSelector(`[data-testid="detail"][data-id="${id}"][data-state="done"]`, WAIT);
  return id;
}

const detailText = async (page: Page) => (await page.locator('[data-testid="detail"]').textContent()) ?? "";

/** The [name, value] rows of a headers table, names lowercased. */
const headerRows = (page: Page, testid: string) =>
  page.$$eval(`[data-testid="${testid}"] tr`, (trs) =>
    trs.map((tr) => [tr.children[0]?.textContent?.toLowerCase() ?? "", tr.children[1]?.textContent ?? ""]),
  );

async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === "porthole_session");
  expect(cookie).toBeDefined();
  return `porthole_session=${cookie?.value}`;
}

async function totalCaptures(name: string): Promise<number> {
  const res = await fetchUrl(apiUrl(name, "/captures?limit=1"), { headers: bearer });
  return ((await res.json()) as { total: number }).total;
}

describe("login", () => {
  it("shows the login form without a session, refuses a wrong token and logs in with the right one", async () => {
    const { context, page, problems } = await newPage();
    const res = await page.goto(inspectUrl(NAME));
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await page.waitForSelector('[data-testid="login-token"]', WAIT);
    expect(await page.locator('[data-testid="capture-list"]').count()).toBe(0);

    await page.fill('[data-testid="login-token"]', "not-the-token");
    await Promise.all([page.waitForURL("**/_porthole/login", WAIT), page.click('[data-testid="login-submit"]')]);
    await page.waitForSelector('[data-testid="login-error"]', WAIT);
    expect((await context.cookies()).map((c) => c.name)).not.toContain("porthole_session");

    await page.fill('[data-testid="login-token"]', TOKEN);
    await Promise.all([page.waitForURL(inspectUrl(NAME), WAIT), page.click('[data-testid="login-submit"]')]);
    await page.waitForSelector('[data-testid="capture-list"]', WAIT);
    await page.waitForSelector('[data-testid="feed-status"][data-state="live"]', WAIT);
    const cookie = (await context.cookies()).find((c) => c.name === "porthole_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/_porthole" });
    expect(await page.textContent('[data-testid="tunnel-name"]')).toBe(NAME);
    // The refused login answers 401, which Chromium reports as a failed resource; nothing else may go wrong.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});

describe("session end", () => {
  it("goes back to the login form when the session is gone (401) and after logging out", async () => {
    await (await fetchUrl(hostUrl(relay, NAME, "/echo?session=1"))).text();
    const { context, page } = await openInspector(NAME);
    await rowFor(page, "/echo?session=1").waitFor(WAIT);
    await context.clearCookies();
    await rowFor(page, "/echo?session=1").click();
    await page.waitForSelector('[data-testid="login-token"]', WAIT);

    await page.fill('[data-testid="login-token"]', TOKEN);
    await Promise.all([page.waitForURL(inspectUrl(NAME), WAIT), page.click('[data-testid="login-submit"]')]);
    await page.waitForSelector('[data-testid="feed-status"][data-state="live"]', WAIT);
    await page.click('[data-testid="logout"]');
    await page.waitForSelector('[data-testid="login-token"]', WAIT);
    expect((await context.cookies()).map((c) => c.name)).not.toContain("porthole_session");
  });
});

describe("list and detail", () => {
  it("shows a request made through the tunnel live, without a reload", async () => {
    const { page, problems } = await openInspector(NAME);
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo?live=1"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ live: true }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const row = rowFor(page, "/echo?live=1");
    await row.waitFor(WAIT);
    expect(await row.textContent()).toContain("POST");
    await expect.poll(() => row.locator("td").nth(3).textContent(), WAIT).toBe("200");
    expect(problems).toEqual([]);
  });

  it("shows headers and pretty-printed JSON in the detail view, with HAR links", async () => {
    const sent = { hello: "world", nested: { list: [1, 2] } };
    const res = await fetchUrl(hostUrl(relay, NAME, "/echo?detail=1"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-detail": "shown" },
      body: JSON.stringify(sent),
    });
    await res.text();
    const { page, problems } = await openInspector(NAME);
    const id = await openDetail(page, "/echo?detail=1");

    const requestHeaders = await headerRows(page, "request-headers");
    expect(requestHeaders).toContainEqual(["x-detail", "shown"]);
    expect(requestHeaders).toContainEqual(["content-type", "application/json"]);
    expect(await headerRows(page, "response-headers")).toContainEqual(["content-type", "application/json"]);
    expect(await page.locator('[data-testid="request-body-json"]').textContent()).toBe(JSON.stringify(sent, null, 2));
    const echoed = (await page.locator('[data-testid="response-body-json"]').textContent()) ?? "";
    expect(echoed).toContain('"method": "POST"');
    expect(echoed).toContain('"url": "/echo?detail=1"');
    expect(echoed.split("\n").length).toBeGreaterThan(3);
    expect(await page.locator('[data-testid="detail-status"]').textContent()).toBe("200");
    // Nothing rendered as a stringified value.
    expect(await detailText(page)).not.toMatch(/\[object |undefined|\bnull\b/);

    const harOne = await page.getAttribute('[data-testid="har-one"]', "href");
    expect(harOne).toBe(`/_porthole/api/tunnels/${NAME}/captures/${encodeURIComponent(id)}/har`);
    expect(await page.getAttribute('[data-testid="har-all"]', "href")).toBe(`/_porthole/api/tunnels/${NAME}/har`);
    const har = await page.evaluate(async (href) => (await fetch(href, { credentials: "same-origin" })).json(), harOne ?? "");
    expect(har.log.version).toBe("1.2");
    expect(har.log.entries).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it("filters by method and status class and searches free text", async () => {
    await (await fetchUrl(hostUrl(relay, NAME, "/status/404?filter=1"))).text();
    await (await fetchUrl(hostUrl(relay, NAME, "/echo?filter=2"), { method: "PUT", body: "needle-in-body" })).text();
    const { page } = await openInspector(NAME);
    await rowFor(page, "/status/404?filter=1").waitFor(WAIT);
    await rowFor(page, "/echo?filter=2").waitFor(WAIT);
    const visible = page.locator('[data-testid="capture-row"]:visible');

    await page.selectOption('[data-testid="filter-status"]', "4");
    await expect.poll(() => visible.allTextContents(), WAIT).toEqual([expect.stringContaining("/status/404?filter=1")]);
    await page.selectOption('[data-testid="filter-status"]', "");
    await page.selectOption('[data-testid="filter-method"]', "PUT");
    await expect.poll(() => visible.allTextContents(), WAIT).toEqual([expect.stringContaining("/echo?filter=2")]);
    await page.selectOption('[data-testid="filter-method"]', "");
    await page.fill('[data-testid="search"]', "filter=1");
    await expect.poll(() => visible.count(), WAIT).toBe(1);
    await page.fill('[data-testid="search"]', "");
    expect(await visible.count()).toBeGreaterThanOrEqual(2);
  });
});

describe("actions", () => {
  const BODY = `it's a "replay" body`;

  it("replays a capture: a new row, marked as a replay of the original, and a second request at the origin", async () => {
    await (
      await fetchUrl(hostUrl(relay, REC, "/replay-me?n=1"), {
        method: "POST",
        headers: { "content-type": "text/plain", "x-custom": "kept" },
        body: BODY,
      })
    ).text();
    const { page, problems } = await openInspector(REC);
    const originalId = await openDetail(page, "/replay-me?n=1");
    await page.click('[data-testid="replay"]');
    const replayOf = page.locator('[data-testid="detail-replay-of"]');
    await replayOf.waitFor(WAIT);
    expect(await replayOf.textContent()).toContain(originalId);
    expect(await page.getAttribute('[data-testid="detail"]', "data-id")).not.toBe(originalId);
    await expect.poll(() => rowFor(page, "/replay-me?n=1").count(), WAIT).toBe(2);

    const hits = rec.requests.filter((r) => r.url === "/replay-me?n=1");
    expect(hits.map((h) => [h.method, h.body, h.headers["x-custom"]])).toEqual([
      ["POST", BODY, "kept"],
      ["POST", BODY, "kept"],
    ]);
    expect(problems).toEqual([]);
  });

  it("replays with an edited method, path, headers and body", async () => {
    await (
      await fetchUrl(hostUrl(relay, REC, "/replay-me?n=2"), {
        method: "POST",
        headers: { "content-type": "text/plain", "x-custom": "kept" },
        body: BODY,
      })
    ).text();
    const { page, problems } = await openInspector(REC);
    const originalId = await openDetail(page, "/replay-me?n=2");
    await page.click('[data-testid="replay-edit"]');
    expect(await page.inputValue('[data-testid="edit-method"]')).toBe("POST");
    expect(await page.inputValue('[data-testid="edit-path"]')).toBe("/replay-me?n=2");
    expect(await page.inputValue('[data-testid="edit-body"]')).toBe(BODY);
    const headers = await page.inputValue('[data-testid="edit-headers"]');
    expect(headers).toMatch(/^x-custom: kept$/im);
    await page.fill('[data-testid="edit-method"]', "PUT");
    await page.fill('[data-testid="edit-path"]', "/replay-me?edited=1");
    await page.fill('[data-testid="edit-headers"]', `${headers}\nX-Edited: yes`);
    await page.fill('[data-testid="edit-body"]', "edited body, longer than the original one");
    await page.click('[data-testid="replay-send"]');
    await page.locator('[data-testid="detail-replay-of"]', { hasText: originalId }).waitFor(WAIT);
    await rowFor(page, "/replay-me?edited=1").waitFor(WAIT);

    const edited = rec.requests.filter((r) => r.url === "/replay-me?edited=1");
    expect(edited.map((h) => [h.method, h.body, h.headers["x-custom"], h.headers["x-edited"]])).toEqual([
      ["PUT", "edited body, longer than the original one", "kept", "yes"],
    ]);
    expect(problems).toEqual([]);
  });

  it("copies a capture as a curl command that, run in a shell, sends the same request", async () => {
    const body = `{"quote":"it's","dollar":"$HOME","tick":"\`id\`","at":"@/etc/passwd"}`;
    await (
      await fetchUrl(hostUrl(relay, REC, "/curl-me?a=1&b=[x]"), {
        method: "PATCH",
        headers: { "content-type": "application/json", "x-quote": "it's $(id)" },
        body,
      })
    ).text();
    const { page } = await openInspector(REC);
    await openDetail(page, "/curl-me?a=1");
    await page.click('[data-testid="copy-curl"]');
    const command = await page.inputValue('[data-testid="curl-text"]');
    expect(await page.locator('[data-testid="curl-text"]').isVisible()).toBe(true);
    expect(command).toMatch(/^curl -X 'PATCH' --globoff --url 'http:\/\/inspector-rec\.localhost:\d+\/curl-me\?a=1&b=\[x\]'/);
    expect(command).toContain(`-H 'x-quote: it'\\''s $(id)'`);
    // Whether or not headless Chromium grants the clipboard, the page settles on a message.
    await expect.poll(() => page.locator('[data-testid="curl-status"]').textContent(), WAIT).toMatch(/clipboard/);

    const before = rec.requests.length;
    await promisify(execFile)("bash", ["-c", `${command} --noproxy '*' --silent --show-error --output /dev/null`], { timeout: 20_000 });
    const again = rec.requests.slice(before).find((r) => r.url.startsWith("/curl-me"));
    expect(again).toMatchObject({ method: "PATCH", url: "/curl-me?a=1&b=[x]", body });
    expect(again?.headers["x-quote"]).toBe("it's $(id)");
    expect(again?.headers["content-type"]).toBe("application/json");
  });

  it("clears the list for every open inspector", async () => {
    await (await fetchUrl(hostUrl(relay, NAME, "/echo?clear=1"))).text();
    const [a, b] = await Promise.all([openInspector(NAME), openInspector(NAME)]);
    await rowFor(b.page, "/echo?clear=1").waitFor(WAIT);
    // Two clicks: the first arms the button, so one stray click cannot wipe the captures.
    await a.page.click('[data-testid="clear"]');
    await a.page.click('[data-testid="clear"]');
    // The other inspector hears of it on the feed, which can beat the clicking one's own answer.
    await expect.poll(() => b.page.locator('[data-testid="capture-row"]').count(), WAIT).toBe(0);
    await expect.poll(() => a.page.locator('[data-testid="capture-row"]').count(), WAIT).toBe(0);
    expect(await totalCaptures(NAME)).toBe(0);
    expect([...a.problems, ...b.problems]).toEqual([]);
  });
});

describe("hostile captured data stays text", () => {
  const evilPath = `/xss/${encodeURIComponent(XSS[0] ?? "")}/${encodeURIComponent(XSS[2] ?? "")}/javascript:window.__xss=1?q=${encodeURIComponent(XSS[1] ?? "")}`;

  it("renders XSS payloads in paths, headers, bodies, SSE events and WebSocket messages as text only", async () => {
    const send = async (path: string, init: Parameters<typeof fetchUrl>[1] = {}) => {
      const res = await fetchUrl(hostUrl(relay, REC, path), init);
      await res.arrayBuffer();
    };
    await send(evilPath, { headers: { "X-Evil": "<img src=x onerror=window.__xss=1>", "X-Evil-2": XSS[2] ?? "" } });
    const json = Object.fromEntries(XSS.map((p, i) => [p, [p, { [`k${i}`]: p }]]));
    await send("/xss-json", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) });
    await send("/xss-text", { method: "POST", headers: { "content-type": "text/plain" }, body: XSS.join("\n") });
    await send("/xss-form", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(XSS.map((p) => [p, p])).toString(),
    });
    await send("/xss-sse");
    await send("/xss-html");
    await send("/xss-bin");
    const ws = openWebSocket(hostUrl(relay, REC, "/ws?xss=1").replace("http:", "ws:"));
    await once(ws, "message");
    for (const p of XSS) ws.send(p);
    let echoes = 0;
    await new Promise<void>((resolve) => ws.on("message", () => ++echoes === XSS.length && resolve()));
    ws.close();
    await once(ws, "close");

    const { page, problems } = await openInspector(REC);
    const elementsBefore = await page.evaluate(() => document.querySelectorAll("img,svg,iframe,object,embed,script").length);
    const expectText = async (row: string, texts: string[]) => {
      await openDetail(page, row);
      // Event captures may finish after the row appears: wait until every payload shows.
      await expect
        .poll(async () => {
          const d = await detailText(page);
          return texts.filter((t) => !d.includes(t));
        }, WAIT)
        .toEqual([]);
    };
    await expectText("/xss/", ["<img src=x onerror=window.__xss=1>", XSS[2] ?? "", XSS[0] ?? "", XSS[1] ?? ""]);
    expect(await page.locator('[data-testid="decoded-path"]').textContent()).toContain(XSS[0]);
    // Pretty-printed JSON shows strings JSON-escaped (a quote as \").
    await expectText(
      "/xss-json",
      XSS.map((p) => JSON.stringify(p).slice(1, -1)),
    );
    expect(await page.locator('[data-testid="request-body-json"]').textContent()).toBe(JSON.stringify(json, null, 2));
    await expectText("/xss-text", XSS);
    await expectText("/xss-form", XSS);
    expect(await page.locator('[data-testid="request-body-form"]').textContent()).toContain(XSS[2]);
    await expectText("/xss-sse", [...XSS, XSS[0] ?? ""]);
    expect(await page.locator('[data-testid="events"] [data-testid="event"]').count()).toBeGreaterThanOrEqual(1);
    await expectText("/xss-html", [...XSS, XSS[1] ?? ""]);
    await expectText("/xss-bin", ["00 01 fe ff", "<script>wind"]);
    await expectText("/ws?xss=1", XSS);
    expect(await page.locator('[data-testid="events"] [data-testid="event"]').count()).toBeGreaterThanOrEqual(XSS.length);

    // Opening every row and using the actions injects nothing either.
    await page.click('[data-testid="copy-curl"]');
    await page.click('[data-testid="replay-edit"]');
    await page.fill('[data-testid="search"]', "<img");
    await page.fill('[data-testid="search"]', "");
    const state = await page.evaluate(() => ({
      xss: (window as unknown as { __xss?: unknown }).__xss,
      injected: document.querySelectorAll("img,svg,iframe,object,embed,script:not([data-inspector])").length,
      scripts: document.querySelectorAll("script").length,
      hrefs: [...document.querySelectorAll("a[href]")].map((a) => (a as HTMLAnchorElement).href),
      handlers: [...document.querySelectorAll("*")].flatMap((el) =>
        [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name),
      ),
    }));
    expect(state.xss).toBeUndefined();
    expect({ injected: state.injected, scripts: state.scripts, handlers: state.handlers }).toEqual({
      injected: 0,
      scripts: 1,
      handlers: [],
    });
    expect(elementsBefore).toBe(1);
    for (const href of state.hrefs) expect(href.startsWith(`${relay.url}/_porthole/api/tunnels/${REC}/`)).toBe(true);
    expect(problems).toEqual([]);
  });
});

describe("the API's own defences", () => {
  it("refuses the API without a token or session", async () => {
    const res = await fetchUrl(apiUrl(NAME, "/captures"));
    expect(res.status).toBe(401);
    expect(res.headers.get("x-porthole-error")).toBe("unauthorized");
    await res.text();
    const wrong = await fetchUrl(apiUrl(NAME, "/captures"), { headers: { Authorization: "Bearer wrong" } });
    expect(wrong.status).toBe(401);
    await wrong.text();
    const del = await fetchUrl(apiUrl(NAME, "/captures"), { method: "DELETE" });
    expect(del.status).toBe(401);
    await del.text();
  });

  it("refuses cookie requests that change state without the CSRF header or from another origin", async () => {
    await (await fetchUrl(hostUrl(relay, NAME, "/echo?csrf=1"))).text();
    const { context, page } = await openInspector(NAME);
    const cookie = await sessionCookie(context);
    const before = await totalCaptures(NAME);
    expect(before).toBeGreaterThan(0);

    const noHeader = await fetchUrl(apiUrl(NAME, "/captures"), { method: "DELETE", headers: { cookie } });
    expect([401, 403]).toContain(noHeader.status);
    await noHeader.text();
    const foreign = await fetchUrl(apiUrl(NAME, "/captures"), {
      method: "DELETE",
      headers: { cookie, "x-porthole-csrf": "1", origin: "http://evil.example" },
    });
    expect([401, 403]).toContain(foreign.status);
    await foreign.text();
    const inBrowser = await page.evaluate(
      async (url) => (await fetch(url, { method: "DELETE", credentials: "same-origin" })).status,
      apiUrl(NAME, "/captures"),
    );
    expect([401, 403]).toContain(inBrowser);
    expect(await totalCaptures(NAME)).toBe(before);

    // The cookie alone still reads (GET is safe), and the feed refuses a foreign Origin.
    const read = await fetchUrl(apiUrl(NAME, "/captures?limit=1"), { headers: { cookie } });
    expect(read.status).toBe(200);
    await read.text();
    const feedUrl = apiUrl(NAME, "/feed").replace("http:", "ws:");
    const hijack = openWebSocket(feedUrl, [], { headers: { cookie, origin: "http://evil.example" } });
    const refused = await Promise.race([
      once(hijack, "unexpected-response").then(([, response]) => (response as http.IncomingMessage).statusCode),
      once(hijack, "open").then(() => "opened"),
    ]);
    expect([401, 403]).toContain(refused);
    hijack.terminate();
  });
});

describe("feed reconnect", () => {
  it("reconnects the feed with backoff after the relay restarts, and shows new requests live again", async () => {
    const { page } = await openInspector(NAME);
    const agent = agents[0] as AgentProcess;
    const readies = () => agent.events.filter((e) => e.event === "ready").length;
    const before = readies();
    const port = Number(new URL(relay.url).port);
    await relay.stop();
    await page.waitForSelector('[data-testid="feed-status"][data-state="offline"]', WAIT);
    relay = await startRelay({ port });
    await page.waitForSelector('[data-testid="feed-status"][data-state="live"]', { timeout: 40_000 });
    await expect.poll(readies, { timeout: 40_000 }).toBeGreaterThan(before);
    await (await fetchUrl(hostUrl(relay, NAME, "/echo?after-restart=1"))).text();
    await rowFor(page, "/echo?after-restart=1").waitFor(WAIT);
  });
});
