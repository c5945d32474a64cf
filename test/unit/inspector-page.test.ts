import { describe, expect, it } from "vitest";
import { escapeHtml, inspectorPage, loginPage, scriptJson } from "../../worker/inspector-page";

const PAYLOADS = [
  `<img src=x onerror="window.__xss=1">`,
  "<script>window.__xss=1</script>",
  `"><svg onload=window.__xss=1>`,
  "'><iframe src=javascript:alert(1)>",
  "</script><script>alert(1)</script>",
  "<!-- \u2028\u2029",
];

/** Every attribute name of every tag outside scripts; quoted values are skipped, as a parser would. */
function attributeNames(html: string): string[] {
  const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, "<script>");
  return [...markup.matchAll(/<[a-z][^>]*>/gi)].flatMap((tag) =>
    [...tag[0].replace(/"[^"]*"/g, '""').matchAll(/\s([^\s=>"]+)/g)].map((m) => (m[1] ?? "").toLowerCase()),
  );
}

/** The inline scripts of a page, in order. */
function scripts(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
}

describe("escapeHtml and scriptJson", () => {
  it("escape every character that can leave a text node, an attribute or a script", () => {
    for (const p of PAYLOADS) {
      expect(escapeHtml(p)).not.toMatch(/[<>"']/);
      const json = scriptJson(p);
      expect(json).not.toMatch(/[<>\u2028\u2029]/);
      expect(JSON.parse(json)).toBe(p);
    }
    expect(escapeHtml(`a&b<c>"d'`)).toBe("a&#38;b&#60;c&#62;&#34;d&#39;");
  });
});

describe("inspectorPage", () => {
  const page = inspectorPage("my-app");

  it("is one self-contained document with the tunnel name", () => {
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page).toContain("porthole · my-app");
    expect(page).toContain('const NAME = "my-app";');
    // No external assets: nothing loads from anywhere but inline code (the icon is an empty data: URL).
    expect(page).not.toMatch(/\b(?:src|href)=(?!["']?data:)/i);
    expect(page.match(/<style>([\s\S]*?)<\/style>/)?.[1]).not.toMatch(/@import|url\(/i);
    expect(page.match(/<script\b/g)).toHaveLength(1);
    expect(page.match(/<style\b/g)).toHaveLength(1);
    expect(page).toContain("<script data-inspector>");
  });

  it("stays within its size budget", () => {
    expect(new TextEncoder().encode(page).length).toBeLessThan(36 * 1024);
  });

  it("uses no inline event handlers, javascript: URLs or style attributes (strict CSP)", () => {
    expect(page).not.toMatch(/<[^>]*\son\w+\s*=/i);
    expect(page).not.toMatch(/javascript:/i);
    expect(page).not.toMatch(/\sstyle\s*=/i);
    expect(attributeNames(page)).toContain("data-testid");
    expect(attributeNames(page).filter((a) => a.startsWith("on") || a === "style")).toEqual([]);
  });

  it("never hands data to an HTML parser or an evaluator in its script", () => {
    const [script] = scripts(page);
    expect(script).toBeDefined();
    for (const sink of [
      "innerHTML",
      "outerHTML",
      "insertAdjacentHTML",
      "document.write",
      "eval(",
      "new Function",
      'setAttribute("href',
      "srcdoc",
    ]) {
      expect(script).not.toContain(sink);
    }
    // Only apiLink sets an href, and only to API + a fixed path.
    expect(script?.match(/\.href\s*=/g)).toHaveLength(1);
    expect(script).toContain("a.href = API + path;");
  });

  it("contains a script that parses as JavaScript", () => {
    const [script] = scripts(page);
    // Function() only parses here (it is never called); a syntax error would break the whole inspector.
    expect(() => new Function(script ?? "")).not.toThrow();
  });

  it("embeds a hostile name only as escaped text and JSON", () => {
    for (const p of PAYLOADS) {
      const html = inspectorPage(p);
      expect(html).not.toContain(p);
      expect(html).toContain(`const NAME = ${scriptJson(p)};`);
      expect(html).toContain(escapeHtml(p));
      // The script element still ends where it should: exactly one closing tag.
      expect(html.match(/<\/script>/g)).toHaveLength(1);
      expect(html).not.toMatch(/<(?:img|svg|iframe)\b/i);
      expect(attributeNames(html).filter((a) => a.startsWith("on"))).toEqual([]);
    }
  });
});

describe("loginPage", () => {
  it("posts token and next to the login endpoint", () => {
    const html = loginPage({ next: "/_porthole/inspect/my-app" });
    expect(html).toContain('<form method="post" action="/_porthole/login"');
    expect(html).toMatch(/<input[^>]*name="token"[^>]*type="password"/);
    expect(html).toContain('name="next" value="/_porthole/inspect/my-app"');
    expect(html).toContain('data-testid="login-token"');
    expect(html).toContain('data-testid="login-submit"');
    expect(html).not.toContain("login-error");
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/<[^>]*\son\w+\s*=/i);
    expect(new TextEncoder().encode(html).length).toBeLessThan(4 * 1024);
  });

  it("escapes next and error", () => {
    for (const p of PAYLOADS) {
      const html = loginPage({ next: p, error: p });
      expect(html).not.toContain(p);
      expect(html).toContain(`name="next" value="${escapeHtml(p)}"`);
      expect(html).toContain(`role="alert">${escapeHtml(p)}</p>`);
      expect(html).not.toMatch(/<(?:img|svg|iframe|script)\b/i);
      expect(attributeNames(html).filter((a) => a.startsWith("on"))).toEqual([]);
    }
  });

  it("shows the error when there is one", () => {
    expect(loginPage({ next: "/", error: "Wrong token." })).toContain('data-testid="login-error" role="alert">Wrong token.</p>');
  });
});

describe("Replay re-signed", () => {
  it("is offered only for providers the relay can sign for: the served script names the others", () => {
    const set = /const CANNOT_RESIGN = new Set\((\[[^\]]*\])\);/.exec(inspectorPage("my-app"))?.[1];
    const ids = JSON.parse(set ?? "null") as string[];
    expect(ids).toEqual(expect.arrayContaining(["discord", "sendgrid", "mailgun"]));
    for (const signable of ["github", "stripe", "slack", "gitlab", "hmac"]) expect(ids).not.toContain(signable);
  });
});
