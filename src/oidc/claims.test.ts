import { describe, expect, test } from "bun:test";
import type { UserRecord } from "../accounts/model";
import { claimsAllowedForScopes, idTokenUserClaimNames, individuallyRequestedClaims, limitClaimsRequest, parseClaimsParameter, userClaims, userinfoClaims } from "./claims";

const ALL = claimsAllowedForScopes(["openid", "profile", "email", "address", "phone"]);

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

/** The ID token's user claims, as oidc/id-token.ts computes them. */
const idTokenUserClaims = (...args: Parameters<typeof idTokenUserClaimNames>) => userClaims(user, idTokenUserClaimNames(...args));

describe("claims (OIDC Core §5.4, §5.5)", () => {
  test("UserInfo: sub plus the granted scopes' claims; absent values left out", () => {
    expect(userinfoClaims(user, ["openid", "email"], null, ALL)).toEqual({ sub: user.id, email: "ada@example.com", email_verified: true });
    const profile = userinfoClaims(user, ["openid", "profile"], null, ALL);
    expect(profile).toMatchObject({ name: "Ada Lovelace", given_name: "Ada", preferred_username: "ada", updated_at: 1767225600 });
    expect("family_name" in profile).toBe(false);
    expect(userinfoClaims(user, ["openid", "phone"], null, ALL)).toEqual({ sub: user.id });
  });
  test("claims.userinfo adds claims beyond the scopes", () => {
    expect(userinfoClaims(user, ["openid"], { userinfo: { name: { essential: true } } }, ALL)).toEqual({ sub: user.id, name: "Ada Lovelace" });
  });
  test("ID token: only claims.id_token members while an access token is issued; scope claims otherwise", () => {
    expect(idTokenUserClaims(["openid", "email"], null, true, ALL)).toEqual({});
    expect(idTokenUserClaims(["openid"], { id_token: { email: null } }, true, ALL)).toEqual({ email: "ada@example.com" });
    expect(idTokenUserClaims(["openid", "email"], null, false, ALL)).toEqual({ email: "ada@example.com", email_verified: true });
  });
  test("unknown claim names and password hashes are never released", () => {
    expect(userinfoClaims({ ...user, password_hash: "x" } as UserRecord, ["openid"], { userinfo: { password_hash: null, is_admin: null } }, ALL)).toEqual({ sub: user.id });
  });
  test("claims the client may not receive are not released, even when stored in an older request", () => {
    const openidOnly = claimsAllowedForScopes(["openid"]);
    expect(userinfoClaims(user, ["openid"], { userinfo: { email: null, name: null } }, openidOnly)).toEqual({ sub: user.id });
    expect(idTokenUserClaims(["openid"], { id_token: { email: null } }, true, openidOnly)).toEqual({});
  });
  test("a claims request is limited to the client's claims; protocol claims are kept (§5.5)", () => {
    const allowed = claimsAllowedForScopes(["openid", "email"]);
    expect(limitClaimsRequest({ userinfo: { phone_number: null, email: null }, id_token: { address: null, acr: { essential: true } } }, allowed)).toEqual({ userinfo: { email: null }, id_token: { acr: { essential: true } } });
    expect(limitClaimsRequest({ userinfo: { phone_number: null } }, allowed)).toBeNull();
    expect(limitClaimsRequest(null, allowed)).toBeNull();
  });
  test("individually requested claims are those beyond the scopes' claims, without sub and protocol claims", () => {
    expect(individuallyRequestedClaims({ userinfo: { email: null, name: null, sub: null }, id_token: { phone_number: null, acr: null } }, ["openid", "email"])).toEqual(["name", "phone_number"]);
    expect(individuallyRequestedClaims(null, ["openid"])).toEqual([]);
  });
  test("the claims parameter must be JSON of the §5.5 shape", () => {
    expect(parseClaimsParameter("[]").ok).toBe(false);
    expect(parseClaimsParameter("{").ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": 3}').ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": {"name": true}}').ok).toBe(false);
    expect(parseClaimsParameter('{"userinfo": {"name": null}, "other": 1}')).toEqual({ ok: true, claims: { userinfo: { name: null } } });
  });
});
