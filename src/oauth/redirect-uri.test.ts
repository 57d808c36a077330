import { describe, expect, test } from "bun:test";
import { appendParams, matchRedirectUri } from "./redirect-uri";

const registered = ["https://app.example.com/cb", "http://127.0.0.1/native", "http://[::1]:8080/native?x=1", "com.example.app:/oauth"];

describe("redirect URI matching (RFC 9700 §4.1.3, RFC 8252 §7.3)", () => {
  test("exact strings match", () => {
    for (const r of registered) expect(matchRedirectUri(registered, r)).toBe(r);
  });
  test("anything else does not, however close", () => {
    for (const r of ["https://app.example.com/cb/", "https://app.example.com/CB", "https://APP.example.com/cb", "https://app.example.com:443/cb", "https://app.example.com/cb?a=1", "https://app.example.com/c%62", "https://app.example.com/cb#x", "com.example.app:/oauth/x", "http://localhost/native"]) {
      expect(matchRedirectUri(registered, r)).toBeUndefined();
    }
  });
  test("loopback IP literals match with any port, the rest must be identical", () => {
    expect(matchRedirectUri(registered, "http://127.0.0.1:51000/native")).toBe("http://127.0.0.1/native");
    expect(matchRedirectUri(registered, "http://[::1]:1234/native?x=1")).toBe("http://[::1]:8080/native?x=1");
    expect(matchRedirectUri(registered, "http://[::1]:1234/native")).toBeUndefined();
    expect(matchRedirectUri(registered, "http://127.0.0.1:99999/native")).toBeUndefined();
    expect(matchRedirectUri(registered, "http://127.0.0.1:080/native")).toBeUndefined();
    expect(matchRedirectUri(registered, "http://127.0.0.1:5000@evil.example/native")).toBeUndefined();
    expect(matchRedirectUri(registered, "https://127.0.0.1:5000/native")).toBeUndefined();
  });
  test("appendParams keeps the registered query (RFC 6749 §3.1.2)", () => {
    expect(appendParams("https://a.example/cb?keep=1", { code: "c", state: undefined })).toBe("https://a.example/cb?keep=1&code=c");
  });
});
