// UserInfo (OIDC Core §5.3) and the claims of scopes (§5.4) and of the `claims` parameter (§5.5),
// in UserInfo and in the ID token; bearer errors per RFC 6750 §3.1.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { exchangeCode, jwtPayload, signIn, type Tokens } from "../support/oidc-flow";

const t: TestApp = await createTestApp();
const client: OidcTestClient = await createOidcClient(t.deps, { require_consent: false });
const user: OidcTestUser = await createOidcUser(t.deps);
const browser = Browser.forApp(t);

async function tokens(extra: Record<string, string | undefined> = {}, c: OidcTestClient = client): Promise<Tokens> {
  const f = await signIn(browser, c, user, extra);
  const tok = await exchangeCode(t, c, f.callback.code!, f.verifier);
  expect(tok.status).toBe(200);
  return tok.body;
}

/** A refresh of the test client's tokens at the token endpoint. */
async function refresh(refreshToken: string): Promise<Response> {
  return t.request("/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }).toString(),
  });
}

async function userinfoGet(token: string): Promise<Response> {
  return t.request("/oidc/userinfo", { headers: { authorization: `Bearer ${token}` } });
}

const PROFILE = ["name", "given_name", "family_name", "nickname", "preferred_username", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"];

describe("UserInfo endpoint", () => {
  test("oidcc-userinfo-get: GET with the bearer header returns sub and the scope's claims as JSON, not cacheable", async () => {
    const tok = await tokens({ scope: "openid email" });
    const r = await userinfoGet(tok.access_token);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(r.headers.get("cache-control")).toContain("no-store");
    expect(await r.json()).toEqual({ sub: user.id, email: user.email, email_verified: true });
  });

  test("oidcc-userinfo-post-header: POST with the bearer header", async () => {
    const tok = await tokens({ scope: "openid email" });
    const r = await t.request("/oidc/userinfo", { method: "POST", headers: { authorization: `Bearer ${tok.access_token}` } });
    expect(r.status).toBe(200);
    expect((await r.json()).sub).toBe(user.id);
  });

  test("oidcc-userinfo-post-body: POST with access_token in the form body (RFC 6750 §2.2)", async () => {
    const tok = await tokens({ scope: "openid email" });
    const r = await t.request("/oidc/userinfo", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${tok.access_token}` });
    expect(r.status).toBe(200);
    expect((await r.json()).email).toBe(user.email);
  });

  test("a token in both header and body is invalid_request (RFC 6750 §2)", async () => {
    const tok = await tokens();
    const r = await t.request("/oidc/userinfo", { method: "POST", headers: { authorization: `Bearer ${tok.access_token}`, "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${tok.access_token}` });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("invalid_request");
  });

  test("no token: 401 with a WWW-Authenticate Bearer challenge", async () => {
    const r = await t.request("/oidc/userinfo");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
  });

  test("an invalid or forged token: 401 with error=\"invalid_token\"", async () => {
    const tok = await tokens();
    const forged = tok.access_token.slice(0, -4) + (tok.access_token.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const bad of ["garbage", forged]) {
      const r = await userinfoGet(bad);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  test("a revoked token: 401 invalid_token", async () => {
    const tok = await tokens();
    expect((await userinfoGet(tok.access_token)).status).toBe(200);
    await t.deps.sql`UPDATE access_tokens SET revoked_at = now() WHERE revoked_at IS NULL`;
    await t.deps.sql`UPDATE grants SET revoked_at = now() WHERE revoked_at IS NULL`;
    const r = await userinfoGet(tok.access_token);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test("a token revoked alone (RFC 7009): 401 invalid_token at once; another token of the user is untouched", async () => {
    const basic = `Basic ${btoa(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret!)}`)}`;
    const revoke = (token: string) =>
      t.request("/oauth/revoke", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic }, body: new URLSearchParams({ token }).toString() });
    const one = await tokens();
    const other = await tokens();
    expect((await revoke(one.access_token)).status).toBe(200);
    expect((await userinfoGet(one.access_token)).status).toBe(401);
    expect((await userinfoGet(other.access_token)).status).toBe(200);
  });

  test("a token without the openid scope: 403 insufficient_scope", async () => {
    const oauthOnly = await createOidcClient(t.deps, { require_consent: false, scopes: ["profile", "email", "openid"] });
    const tok = await tokens({ scope: "email" }, oauthOnly);
    expect(tok.id_token).toBeUndefined();
    const r = await userinfoGet(tok.access_token);
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  test("a client_credentials token (no user) is not accepted", async () => {
    const svc = await createOidcClient(t.deps, { grant_types: ["client_credentials"], scopes: ["openid", "profile"] });
    const r = await t.request("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${svc.client_id}:${svc.client_secret}`)}` },
      body: "grant_type=client_credentials&scope=profile",
    });
    if (r.status !== 200) return; // the token service may refuse user scopes for client_credentials: fine too.
    const at = (await r.json()).access_token as string;
    const u = await userinfoGet(at);
    expect([401, 403]).toContain(u.status);
  });
});

describe("scope claims (OIDC Core §5.4)", () => {
  test("oidcc-scope-profile: profile claims in UserInfo, not in the ID token", async () => {
    const tok = await tokens({ scope: "openid profile" });
    const body = await (await userinfoGet(tok.access_token)).json();
    for (const c of PROFILE) expect(body[c]).toBeDefined();
    expect(body.name).toBe("Ada Lovelace");
    expect(body.email).toBeUndefined();
    expect(jwtPayload(tok.id_token!).name).toBeUndefined();
  });

  test("oidcc-scope-email: email and email_verified", async () => {
    const tok = await tokens({ scope: "openid email" });
    const body = await (await userinfoGet(tok.access_token)).json();
    expect(body).toMatchObject({ email: user.email, email_verified: true });
    expect(body.name).toBeUndefined();
  });

  test("oidcc-scope-address: address as a JSON object", async () => {
    const tok = await tokens({ scope: "openid address" });
    const body = await (await userinfoGet(tok.access_token)).json();
    expect(body.address).toMatchObject({ locality: "London", country: "GB" });
    expect(body.phone_number).toBeUndefined();
  });

  test("oidcc-scope-phone: phone_number and phone_number_verified", async () => {
    const tok = await tokens({ scope: "openid phone" });
    const body = await (await userinfoGet(tok.access_token)).json();
    expect(body).toMatchObject({ phone_number: "+44 20 7946 0000", phone_number_verified: true });
  });

  test("oidcc-scope-all: every standard scope at once", async () => {
    const tok = await tokens({ scope: "openid profile email address phone" });
    const body = await (await userinfoGet(tok.access_token)).json();
    for (const c of [...PROFILE, "email", "email_verified", "address", "phone_number", "phone_number_verified"]) expect(body[c]).toBeDefined();
    expect(body.sub).toBe(user.id);
  });
});

describe("the claims parameter (OIDC Core §5.5)", () => {
  test("oidcc-claims-essential: an essential claim asked for in userinfo is returned without its scope", async () => {
    const tok = await tokens({ scope: "openid", claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
    const body = await (await userinfoGet(tok.access_token)).json();
    expect(body.name).toBe("Ada Lovelace");
    expect(body.email).toBeUndefined();
  });

  test("claims asked for in id_token go into the ID token", async () => {
    const tok = await tokens({ scope: "openid", claims: JSON.stringify({ id_token: { email: { essential: true }, name: null } }) });
    const id = jwtPayload(tok.id_token!);
    expect(id.email).toBe(user.email);
    expect(id.name).toBe("Ada Lovelace");
    expect(id.phone_number).toBeUndefined();
  });

  test("the claims request survives a refresh (ID token and UserInfo of the new access token)", async () => {
    const tok = await tokens({ scope: "openid offline_access", claims: JSON.stringify({ userinfo: { website: null } }) });
    expect(tok.refresh_token).toBeTruthy();
    const r = await refresh(tok.refresh_token!);
    expect(r.status).toBe(200);
    const refreshed = await r.json();
    const body = await (await userinfoGet(refreshed.access_token)).json();
    expect(body.website).toBe("https://example.com");
  });

  test("claims asked for in id_token go into the ID token of every refresh too (OIDC Core §5.5, §12.2)", async () => {
    const tok = await tokens({ scope: "openid offline_access", claims: JSON.stringify({ id_token: { email: null, name: null, updated_at: null } }) });
    const first = jwtPayload(tok.id_token!);
    const r = await refresh(tok.refresh_token!);
    expect(r.status).toBe(200);
    const id = jwtPayload((await r.json()).id_token);
    expect(id.sub).toBe(user.id);
    expect(id.email).toBe(user.email);
    expect(id.name).toBe("Ada Lovelace");
    expect(id.updated_at).toBe(first.updated_at);
    expect(typeof id.updated_at).toBe("number");
    expect(id.phone_number).toBeUndefined();
  });

  test("without a claims request the ID token of a refresh carries no user claims (OIDC Core §5.4: an access token is issued)", async () => {
    const tok = await tokens({ scope: "openid email profile offline_access" });
    const r = await refresh(tok.refresh_token!);
    expect(r.status).toBe(200);
    const id = jwtPayload((await r.json()).id_token);
    expect(id.sub).toBe(user.id);
    expect(id.email).toBeUndefined();
    expect(id.name).toBeUndefined();
  });
});
