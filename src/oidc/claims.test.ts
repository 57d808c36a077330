import { describe, expect, test } from "bun:test";
import type { UserRecord } from "../accounts/model";
import { idTokenUserClaims, parseClaimsParameter, userinfoClaims } from "./claims";

const user = {
  id: "7b1c6f2e-0000-4000-8000-000000000001",
  username: "ada",
  email: "ada@example.com",
  email_verified: true,
  name: "Ada Lovelace",
  given_name: "Ada",
  family_name: null,
  phone_number: null,
  phone_number_verified: false,
  address: null,
  updated_at: new Date("2026-01-01T00:00:00Z"),
  preferred_username: null,
} as unknown as UserRecord;

describe("claims (OIDC Core §5.4, §5.5)", () => {
  test("UserInfo: sub plus the granted scopes' claims; absent values left out", () => {
    expect(userinfoClaims(user, ["openid", "email"])).toEqual({ sub: user.id, email: "ada@example.com", email_verified: true });
    const profile = userinfoClaims(user, ["openid", "profile"]);
    expect(profile).toMatchObject({ name: "Ada Lovelace", given_name: "Ada", preferred_username: "ada", updated_at: 1767225600 });
    expect("family_name" in profile).toBe(false);
    expect(userinfoClaims(user, ["openid", "phone"])).toEqual({ sub: user.id });
  });
  test("claims.userinfo adds claims beyond the scopes", () => {
    expect(userinfoClaims(user, ["openid"], { userinfo: { name: { essential: true } } })).toEqual({ sub: user.id, name: "Ada Lovelace" });
  });
  test("ID token: only claims.id_token members while an access token is issued; scope claims otherwise", () => {
    expect(idTokenUserClaims(user, ["openid", "email"], null, true)).toEqual({});
    expect(idTokenUserClaims(user, ["openid"], { id_token: { email: null } }, true)).toEqual({ email: "ada@example.com" });
    expect(idTokenUserClaims(user, ["openid", "email"], null, false)).toEqual({ email: "ada@example.com", email_verified: true });
  });
  test("unknown claim names and password hashes are never released", () => {
    expect(userinfoClaims({ ...user, password_hash: "x" } as UserRecord, ["openid"], { userinfo: { password_hash: null, is_admin: null } })).toEqual({ sub: user.id });
  });
  test("the claims parameter must be JSON of the §5.5 shape", () => {
    expect(parseClaimsParameter("[]").ok).toBe(false);
    expect(parseClaimsParameter("{").ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": 3}').ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": {"name": true}}').ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": {"name": null}, "other": 1}')).toEqual({ ok: true, claims: { userinfo: { name: null } } });
  });
});
