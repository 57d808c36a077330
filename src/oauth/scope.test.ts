import { describe, expect, test } from "bun:test";
import { resolveScope } from "./scope";

const known = [
  { name: "openid", is_default: true },
  { name: "email", is_default: false },
  { name: "profile", is_default: true },
  { name: "admin:users:read", is_default: false },
];

describe("scope of an authorization request (RFC 6749 §3.3)", () => {
  test("unknown scopes and scopes the client may not use are dropped; duplicates collapse", () => {
    expect(resolveScope("openid email bogus admin:users:read openid", ["openid", "email"], known)).toEqual({ ok: true, scopes: ["openid", "email"] });
  });
  test("nothing left is an error", () => {
    expect(resolveScope("bogus admin:users:read", ["openid"], known).ok).toBe(false);
  });
  test("no scope: the defaults the client may use", () => {
    expect(resolveScope(undefined, ["openid", "email"], known)).toEqual({ ok: true, scopes: ["openid"] });
    expect(resolveScope("  ", ["email"], known).ok).toBe(false);
  });
  test("a client without registered scopes may use the OIDC standard scopes only", () => {
    expect(resolveScope("openid profile admin:users:read", [], known)).toEqual({ ok: true, scopes: ["openid", "profile"] });
  });
  test("malformed scope tokens are an error", () => {
    expect(resolveScope('openid "x"', ["openid"], known).ok).toBe(false);
    expect(resolveScope("openid\\x", ["openid"], known).ok).toBe(false);
  });
});
