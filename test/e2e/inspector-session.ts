// The inspector as a user drives it in Chromium: log in through the form, wait for the live list,
// open a capture's detail. Every page records what went wrong in it, so a test can assert nothing did.

import type { Browser, BrowserContext, Page } from "playwright-core";
import { TOKEN } from "./harness";

/** How long the inspector may take to show something the relay already stored. */
export const INSPECTOR_WAIT = { timeout: 20_000 };

/** A logged-in inspector page and the dialogs, page errors and console errors (CSP violations among them) it produced. */
export type InspectorPage = { context: BrowserContext; page: Page; problems: string[] };

/** A fresh context and page that records dialogs, page errors and console errors, not logged in. */
export async function watchedPage(browser: Browser): Promise<InspectorPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Opens a fresh context, logs in through the form and waits until the list is loaded and the feed is live. */
export async function openInspector(browser: Browser, relayUrl: string, name: string): Promise<InspectorPage> {
  const { context, page, problems } = await watchedPage(browser);
  const url = `${relayUrl}/_porthole/inspect/${name}`;
  await page.goto(url);
  await page.fill('[data-testid="login-token"]', TOKEN);
  await Promise.all([page.waitForURL(url, INSPECTOR_WAIT), page.click('[data-testid="login-submit"]')]);
  await page.waitForSelector('[data-testid="feed-status"][data-state="live"]', INSPECTOR_WAIT);
  return { context, page, problems };
}

/** The list rows whose text contains `text`. */
export function rowFor(page: Page, text: string) {
  return page.locator('[data-testid="capture-row"]', { hasText: text });
}

/** Clicks the row with this capture id and waits until the detail view shows it, finished. */
export async function openDetail(page: Page, id: string): Promise<void> {
  await page.click(`[data-testid="capture-row"][data-id="${id}"]`);
  await page.waitForSelector(`[data-testid="detail"][data-id="${id}"][data-state="done"]`, INSPECTOR_WAIT);
}

/** The text of one element of the page, by data-testid, scoped to `within` when given. */
export async function textOf(page: Page, testid: string, within = "body"): Promise<string> {
  return (await page.locator(`${within} [data-testid="${testid}"]`).first().textContent(INSPECTOR_WAIT)) ?? "";
}
