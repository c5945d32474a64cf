import { describe, expect, it } from "vitest";
import { tunnelFromHost, tunnelFromPath, tunnelUrls } from "../../worker/routing";

describe("tunnelFromHost", () => {
  it("finds the name in <name>.<domain>", () => {
    expect(tunnelFromHost("brave-otter-4k2q.localhost", "localhost")).toBe("brave-otter-4k2q");
    expect(tunnelFromHost("myapp.tunnel.example.com", "tunnel.example.com")).toBe("myapp");
    expect(tunnelFromHost("a.example.com", "example.com")).toBe("a");
    expect(tunnelFromHost(`${"x".repeat(63)}.example.com`, "example.com")).toBe("x".repeat(63));
  });

  it("lower-cases the host before matching", () => {
    expect(tunnelFromHost("MyApp.Example.COM", "example.com")).toBe("myapp");
  });

  it("returns undefined for the relay's own host and for other hosts", () => {
    expect(tunnelFromHost("localhost", "localhost")).toBeUndefined();
    expect(tunnelFromHost("example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("myapp.other.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("myapp.notexample.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("myappexample.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("porthole.workers.dev", "example.com")).toBeUndefined();
    expect(tunnelFromHost("127.0.0.1", "localhost")).toBeUndefined();
  });

  it("rejects labels that are not tunnel names, including nested subdomains", () => {
    expect(tunnelFromHost("a.b.example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("-bad.example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("bad-.example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost("under_score.example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost(".example.com", "example.com")).toBeUndefined();
    expect(tunnelFromHost(`${"x".repeat(64)}.example.com`, "example.com")).toBeUndefined();
  });

  it("is given a hostname, so a port in it is not part of the match (callers pass URL.hostname)", () => {
    const url = new URL("http://brave-otter.localhost:8787/x");
    expect(tunnelFromHost(url.hostname, "localhost")).toBe("brave-otter");
    // Passing a host:port would not match: the caller must strip the port.
    expect(tunnelFromHost("brave-otter.localhost:8787", "localhost")).toBeUndefined();
  });
});

describe("tunnelFromPath", () => {
  const at = (s: string) => tunnelFromPath(new URL(s, "https://relay.example"));

  it("maps /t/name to the local root", () => {
    expect(at("/t/myapp")).toEqual({ name: "myapp", path: "/", prefix: "/t/myapp" });
  });

  it("maps /t/name/ to the local root", () => {
    expect(at("/t/myapp/")).toEqual({ name: "myapp", path: "/", prefix: "/t/myapp" });
  });

  it("forwards the rest of the path and the query", () => {
    expect(at("/t/myapp/a/b?q=1")).toEqual({ name: "myapp", path: "/a/b?q=1", prefix: "/t/myapp" });
    expect(at("/t/myapp?q=1&r=2")).toEqual({ name: "myapp", path: "/?q=1&r=2", prefix: "/t/myapp" });
    expect(at("/t/myapp/a%20b/%2F?x=%26")).toMatchObject({ path: "/a%20b/%2F?x=%26" });
  });

  it("keeps a //host-looking rest as a path, never a new origin", () => {
    const r = at("/t/myapp//evil.example/x");
    expect(r).toEqual({ name: "myapp", path: "//evil.example/x", prefix: "/t/myapp" });
    expect(at("/t/myapp/http://evil.example/x")?.path).toBe("/http://evil.example/x");
  });

  it("drops the fragment (never sent by clients anyway)", () => {
    expect(at("/t/myapp/x#frag")?.path).toBe("/x");
  });

  it("returns undefined for other paths and invalid names", () => {
    expect(at("/")).toBeUndefined();
    expect(at("/t")).toBeUndefined();
    expect(at("/t/")).toBeUndefined();
    expect(at("/x/myapp")).toBeUndefined();
    expect(at("/tt/myapp")).toBeUndefined();
    expect(at("/_porthole/health")).toBeUndefined();
    expect(at("/t/MyApp")).toBeUndefined();
    expect(at("/t/-bad/")).toBeUndefined();
    expect(at("/t/bad-/x")).toBeUndefined();
    expect(at("/t/a_b")).toBeUndefined();
    expect(at(`/t/${"x".repeat(64)}`)).toBeUndefined();
    expect(at("/t/na%6De/")).toBeUndefined();
  });

  it("maps OAuth discovery documents of a path-mode resource to the local server's", () => {
    expect(at("/.well-known/oauth-protected-resource/t/myapp/mcp")).toEqual({
      name: "myapp",
      path: "/.well-known/oauth-protected-resource/mcp",
      prefix: "/t/myapp",
    });
    expect(at("/.well-known/oauth-protected-resource/t/myapp")?.path).toBe("/.well-known/oauth-protected-resource");
    expect(at("/.well-known/oauth-authorization-server/t/myapp")).toEqual({
      name: "myapp",
      path: "/.well-known/oauth-authorization-server",
      prefix: "/t/myapp",
    });
    expect(at("/.well-known/openid-configuration/t/myapp?x=1")?.path).toBe("/.well-known/openid-configuration?x=1");
  });

  it("maps no other /.well-known path, and checks the name there too", () => {
    expect(at("/.well-known/oauth-protected-resource")).toBeUndefined();
    expect(at("/.well-known/oauth-authorization-server/x/myapp")).toBeUndefined();
    expect(at("/.well-known/security.txt/t/myapp")).toBeUndefined();
    expect(at("/.well-known/oauth-protected-resource/t/Bad_Name/mcp")).toBeUndefined();
    expect(at("/.well-known/oauth-protected-resourcex/t/myapp")).toBeUndefined();
  });
});

describe("tunnelUrls", () => {
  it("builds host and path URLs with the relay's port", () => {
    expect(tunnelUrls(new URL("http://localhost:8787"), "brave-otter", "localhost")).toEqual({
      url: "http://brave-otter.localhost:8787",
      pathUrl: "http://localhost:8787/t/brave-otter",
    });
  });

  it("builds host and path URLs without a port", () => {
    expect(tunnelUrls(new URL("https://porthole.example.workers.dev/_porthole/connect"), "myapp", "tunnel.example.com")).toEqual({
      url: "https://myapp.tunnel.example.com",
      pathUrl: "https://porthole.example.workers.dev/t/myapp",
    });
  });

  it("omits a default port and keeps the scheme", () => {
    expect(tunnelUrls(new URL("https://relay.example:443"), "a", "example.com").url).toBe("https://a.example.com");
    expect(tunnelUrls(new URL("http://relay.example:80/"), "a", "example.com").url).toBe("http://a.example.com");
  });

  it("gives a deployed relay without a domain of its own the path URL as its public URL", () => {
    const urls = tunnelUrls(new URL("https://porthole-relay.me.workers.dev"), "app", "localhost");
    expect(urls).toEqual({ url: "https://porthole-relay.me.workers.dev/t/app", pathUrl: "https://porthole-relay.me.workers.dev/t/app" });
    expect(tunnelUrls(new URL("http://relay.test"), "app", "localhost").url).toBe("http://app.localhost");
  });

  it("produces URLs that route back to the same name", () => {
    const { url, pathUrl } = tunnelUrls(new URL("http://localhost:8787"), "round-trip", "localhost");
    expect(tunnelFromHost(new URL(url).hostname, "localhost")).toBe("round-trip");
    expect(tunnelFromPath(new URL(`${pathUrl}/x`))?.name).toBe("round-trip");
  });
});
