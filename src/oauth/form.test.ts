import { describe, expect, test } from "bun:test";
import { OAuthError } from "../errors";
import { parseForm } from "./form";
import { narrowScope, parseScope } from "./token-scope";
import { decodeBasic } from "./client-auth";
import { buildMetadata, metadataPaths } from "./discovery";

const FORM = "application/x-www-form-urlencoded";
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as OAuthError).code;
  }
  return undefined;
};

describe("form bodies (RFC 6749 §3.1, Appendix B)", () => {
  test("decodes + and percent escapes; an empty value counts as omitted", () => {
    const f = parseForm(`${FORM}; charset=UTF-8`, "a=x+y%2Bz&b=&c=%C3%A9");
    expect(f.get("a")).toBe("x y+z");
    expect(f.get("b")).toBeUndefined();
    expect(f.get("c")).toBe("é");
    expect(f.get("unknown")).toBeUndefined();
  });
  test("a repeated parameter is invalid_request, even when one is empty", () => {
    expect(codeOf(() => parseForm(FORM, "a=1&a=2"))).toBe("invalid_request");
    expect(codeOf(() => parseForm(FORM, "a=&a=2"))).toBe("invalid_request");
  });
  test("other content types are invalid_request", () => {
    expect(codeOf(() => parseForm("application/json", "{}"))).toBe("invalid_request");
    expect(codeOf(() => parseForm(null, "a=1"))).toBe("invalid_request");
    expect(codeOf(() => parseForm("multipart/form-data; boundary=x", "a=1"))).toBe("invalid_request");
  });
});

describe("scope (RFC 6749 §3.3)", () => {
  test("parses, de-duplicates and rejects invalid characters", () => {
    expect(parseScope("a  b a")).toEqual(["a", "b"]);
    expect(codeOf(() => parseScope('a "b"'))).toBe("invalid_scope");
  });
  test("narrows but never widens", () => {
    expect(narrowScope("b", ["a", "b"])).toEqual(["b"]);
    expect(narrowScope(undefined, ["a", "b"])).toEqual(["a", "b"]);
    expect(codeOf(() => narrowScope("a c", ["a", "b"]))).toBe("invalid_scope");
  });
});

describe("HTTP Basic client credentials (RFC 6749 §2.3.1)", () => {
  test("form-decodes id and secret; splits at the first colon", () => {
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
    const header = `Basic ${btoa(`${enc("my client")}:${enc("s:e+c%")}`)}`;
    expect(decodeBasic(header)).toEqual({ id: "my client", secret: "s:e+c%" });
  });
  test("malformed credentials are undefined", () => {
    expect(decodeBasic("Basic ***")).toBeUndefined();
    expect(decodeBasic(`Basic ${btoa("no-colon")}`)).toBeUndefined();
    expect(decodeBasic(`Basic ${btoa(":secret")}`)).toBeUndefined();
    expect(decodeBasic(`Basic ${btoa("id:%E0%A4%A")}`)).toBeUndefined();
  });
});

describe("metadata builder (RFC 8414)", () => {
  test("never advertises the password grant or plain PKCE", () => {
    const m = buildMetadata({ issuer: "https://id.example.com", idTokenAlg: "RS256" });
    expect(m.grant_types_supported).not.toContain("password");
    expect(m.code_challenge_methods_supported).toEqual(["S256"]);
    expect(m.token_endpoint).toBe("https://id.example.com/oauth/token");
  });
  test("an issuer with a path gets the RFC 8414 §3.1 well-known forms too", () => {
    expect(metadataPaths("https://example.com/tenant")).toEqual([
      "/.well-known/oauth-authorization-server",
      "/.well-known/openid-configuration",
      "/.well-known/oauth-authorization-server/tenant",
      "/tenant/.well-known/openid-configuration",
    ]);
    const m = buildMetadata({ issuer: "https://example.com/tenant", idTokenAlg: "ES256" });
    expect(m.jwks_uri).toBe("https://example.com/tenant/.well-known/jwks.json");
    expect((m.id_token_signing_alg_values_supported as string[])[0]).toBe("ES256");
  });
});
