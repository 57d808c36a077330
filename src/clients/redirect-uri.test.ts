import { describe, expect, test } from "bun:test";
import { redirectUriProblem, webUrlProblem } from "./redirect-uri";

describe("redirect URI registration rules", () => {
  test("accepts https, http on loopback (RFC 8252 §7.3) and private-use schemes (RFC 8252 §7.1)", () => {
    for (const uri of ["https://app.example/cb", "https://app.example:8443/cb?x=1", "http://localhost:3000/callback", "http://127.0.0.1:51234/cb", "http://[::1]:8080/cb", "com.example.app:/oauth2redirect", "myapp://callback"]) {
      expect(redirectUriProblem(uri)).toBeUndefined();
    }
  });

  test("rejects fragments (RFC 6749 §3.1.2), relative URIs, http on other hosts and script schemes", () => {
    expect(redirectUriProblem("https://app.example/cb#x")).toContain("fragment");
    expect(redirectUriProblem("/cb")).toContain("absolute");
    expect(redirectUriProblem("app.example/cb")).toContain("absolute");
    expect(redirectUriProblem("http://app.example/cb")).toContain("loopback");
    expect(redirectUriProblem("http://localhost.evil.example/cb")).toContain("loopback");
    expect(redirectUriProblem("javascript:alert(1)")).toContain("javascript");
    expect(redirectUriProblem("data:text/html,hi")).toContain("data");
    expect(redirectUriProblem("https://app.example/c b")).toContain("whitespace");
    expect(redirectUriProblem("")).toBeDefined();
    expect(redirectUriProblem(`https://app.example/${"a".repeat(2000)}`)).toContain("2000");
  });

  test("metadata URLs are http(s); jwks_uri https except on loopback", () => {
    expect(webUrlProblem("https://app.example/logo.png")).toBeUndefined();
    expect(webUrlProblem("ftp://app.example/logo.png")).toBeDefined();
    expect(webUrlProblem("http://app.example/jwks", { httpsOnly: true })).toBe("must be an https URL");
    expect(webUrlProblem("http://127.0.0.1:9000/jwks", { httpsOnly: true })).toBeUndefined();
  });
});
