// Revocation (RFC 7009) and introspection (RFC 7662): both need client authentication; a client
// sees and revokes only its own tokens; revoking a refresh token revokes its family.
import { beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createCode, createUser, post, type CreatedClient } from "../support/fixtures";
import type { UserRecord } from "../../src/accounts/model";
import { issueAccessToken, verifyAccessToken } from "../../src/tokens/access-token";
import { insertAccessToken } from "../../src/tokens/store";

const t: TestApp = await createTestApp({ bootstrap: false });
let app: CreatedClient;
let svc: CreatedClient;
let rs: CreatedClient;
let user: UserRecord;

async function call(path: string, init: RequestInit) {
  const r = await t.request(path, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}
const as = (c: CreatedClient) => ({ id: c.clientId, secret: c.secret! });
const introspect = (token: string, c: CreatedClient = app, extra: Record<string, string> = {}) => call("/oauth/introspect", post({ token, ...extra }, as(c)));
const revoke = (token: string, c: CreatedClient = app, extra: Record<string, string> = {}) => call("/oauth/revoke", post({ token, ...extra }, as(c)));

async function codeFlow(scope = "openid offline_access api:read") {
  const c = await createCode(t.deps, { clientId: app.clientId, userId: user.id, scope });
  const r = await call("/oauth/token", post({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri }, as(app)));
  return r.body as { access_token: string; refresh_token: string };
}

beforeAll(async () => {
  app = await createClient(t.deps, { client_id: "web-app" });
  svc = await createClient(t.deps, { client_id: "svc", grant_types: ["client_credentials"], scopes: ["api:read"] });
  rs = await createClient(t.deps, { client_id: "resource-server", grant_types: ["client_credentials"], scopes: [] });
  // The resource server of https://rs.example/api authenticates as "resource-server" (resources/).
  await t.deps.sql`INSERT INTO api_resources (identifier, name, credentials_client_id) VALUES ('https://rs.example/api', 'RS', 'resource-server')`;
  user = await createUser(t.deps, { username: "erin" });
});

describe("introspection (RFC 7662)", () => {
  test("an active access token: scope, client_id, sub, exp, iat, iss, token_type, aud; no-store", async () => {
    const tokens = await codeFlow();
    const r = await introspect(tokens.access_token);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.active).toBe(true);
    expect(r.body.scope).toBe("openid offline_access api:read");
    expect(r.body.client_id).toBe("web-app");
    expect(r.body.sub).toBe(user.id);
    expect(r.body.iss).toBe(t.issuer);
    expect(r.body.aud).toBe(t.issuer);
    expect(r.body.token_type).toBe("Bearer");
    expect(typeof r.body.exp).toBe("number");
    expect(typeof r.body.iat).toBe("number");
  });

  test("an active refresh token, which turns inactive once rotated", async () => {
    const tokens = await codeFlow();
    const r = await introspect(tokens.refresh_token, app, { token_type_hint: "refresh_token" });
    expect(r.body.active).toBe(true);
    expect(r.body.token_type).toBe("refresh_token");
    expect(r.body.sub).toBe(user.id);
    expect(r.body.client_id).toBe("web-app");
    // Without a hint too.
    expect((await introspect(tokens.refresh_token)).body.active).toBe(true);
    await call("/oauth/token", post({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, as(app)));
    expect((await introspect(tokens.refresh_token)).body).toEqual({ active: false });
  });

  test("unknown, malformed and foreign-issuer tokens are active:false", async () => {
    expect((await introspect("nothing-like-a-token")).body).toEqual({ active: false });
    expect((await introspect("a.b.c")).body).toEqual({ active: false });
    const forged = await new SignJWT({ client_id: "web-app", scope: "x" }).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: "x" }).setIssuer(t.issuer).setSubject("s").setJti("j").setExpirationTime("1h").sign(new Uint8Array(32));
    expect((await introspect(forged)).body).toEqual({ active: false });
  });

  test("an expired token is active:false", async () => {
    const key = await t.deps.keys.signingKey(t.deps.config.accessTokenAlg);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ client_id: "web-app", scope: "api:read" })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" }).setIssuer(t.issuer).setSubject(user.id).setAudience(t.issuer)
      .setIssuedAt(now - 7200).setExpirationTime(now - 3600).setJti("expired-jti").sign(key.privateKeyObject!);
    await insertAccessToken(t.deps.sql, { jti: "expired-jti", grantId: null, clientId: "web-app", userId: user.id, scope: "api:read", expiresAt: new Date((now - 3600) * 1000) });
    expect((await introspect(expired)).body).toEqual({ active: false });
  });

  test("a well-signed token that was never recorded is active:false", async () => {
    const key = await t.deps.keys.signingKey(t.deps.config.accessTokenAlg);
    const unrecorded = await new SignJWT({ client_id: "web-app", scope: "api:read" })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" }).setIssuer(t.issuer).setSubject(user.id).setAudience(t.issuer)
      .setIssuedAt().setExpirationTime("1h").setJti("never-recorded").sign(key.privateKeyObject!);
    expect((await introspect(unrecorded)).body).toEqual({ active: false });
  });

  test("another client's token is active:false; the resource server of a resource named in aud sees it (RFC 7662 §4)", async () => {
    const tokens = await codeFlow();
    expect((await introspect(tokens.access_token, svc)).body).toEqual({ active: false });
    expect((await introspect(tokens.refresh_token, svc)).body).toEqual({ active: false });
    const forRs = await issueAccessToken(t.deps, { clientId: "web-app", sub: user.id, userId: user.id, scope: "api:read", aud: ["https://rs.example/api"] });
    const seen = await introspect(forRs.token, rs);
    expect(seen.body.active).toBe(true);
    expect(seen.body.aud).toEqual(["https://rs.example/api"]);
    // A client_id in aud is no resource: only a registered resource's server may introspect.
    const named = await issueAccessToken(t.deps, { clientId: "web-app", sub: user.id, userId: user.id, scope: "api:read", aud: ["resource-server"] });
    expect((await introspect(named.token, rs)).body).toEqual({ active: false });
    expect((await introspect(forRs.token, svc)).body).toEqual({ active: false });
  });

  test("requires client authentication; public clients may not introspect", async () => {
    const tokens = await codeFlow();
    const none = await call("/oauth/introspect", post({ token: tokens.access_token }));
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_client");
    const bad = await call("/oauth/introspect", post({ token: tokens.access_token }, { id: "web-app", secret: "wrong" }));
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain("Basic");
    await createClient(t.deps, { client_id: "public-app", token_endpoint_auth_method: "none" });
    const pub = await call("/oauth/introspect", post({ token: tokens.access_token, client_id: "public-app" }));
    expect(pub.status).toBe(401);
    expect(pub.body.error).toBe("invalid_client");
  });

  test("a missing token is invalid_request; a JSON body too", async () => {
    expect((await call("/oauth/introspect", post({}, as(app)))).body.error).toBe("invalid_request");
    const json = await call("/oauth/introspect", { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Basic ${btoa(`web-app:${app.secret}`)}` }, body: "{}" });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe("invalid_request");
  });
});

describe("revocation (RFC 7009)", () => {
  test("an unknown token answers 200", async () => {
    const r = await revoke("no-such-token");
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  test("revoking an access token makes it inactive everywhere it is checked", async () => {
    const tokens = await codeFlow();
    expect((await revoke(tokens.access_token, app, { token_type_hint: "access_token" })).status).toBe(200);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    await expect(verifyAccessToken(t.deps, tokens.access_token)).rejects.toMatchObject({ code: "invalid_token" });
    // The refresh token of the grant is untouched.
    expect((await introspect(tokens.refresh_token)).body.active).toBe(true);
  });

  test("revoking a refresh token revokes its family's access tokens (RFC 7009 §2.1)", async () => {
    const tokens = await codeFlow();
    const next = await call("/oauth/token", post({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, as(app)));
    expect((await revoke(String(next.body.refresh_token), app, { token_type_hint: "refresh_token" })).status).toBe(200);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    expect((await introspect(String(next.body.access_token))).body).toEqual({ active: false });
    const again = await call("/oauth/token", post({ grant_type: "refresh_token", refresh_token: String(next.body.refresh_token) }, as(app)));
    expect(again.body.error).toBe("invalid_grant");
  });

  test("a wrong hint still finds the token", async () => {
    const tokens = await codeFlow();
    await revoke(tokens.refresh_token, app, { token_type_hint: "access_token" });
    expect((await introspect(tokens.refresh_token)).body).toEqual({ active: false });
    const more = await codeFlow();
    await revoke(more.access_token, app, { token_type_hint: "refresh_token" });
    expect((await introspect(more.access_token)).body).toEqual({ active: false });
  });

  test("a client cannot revoke another client's tokens (200, nothing changes)", async () => {
    const tokens = await codeFlow();
    expect((await revoke(tokens.access_token, svc)).status).toBe(200);
    expect((await revoke(tokens.refresh_token, svc)).status).toBe(200);
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    expect((await introspect(tokens.refresh_token)).body.active).toBe(true);
  });

  test("client_credentials tokens can be revoked by their client", async () => {
    const cc = await call("/oauth/token", post({ grant_type: "client_credentials" }, as(svc)));
    await revoke(String(cc.body.access_token), svc);
    expect((await introspect(String(cc.body.access_token), svc)).body).toEqual({ active: false });
  });

  test("requires client authentication: 401 invalid_client; a missing token is invalid_request", async () => {
    const tokens = await codeFlow();
    const r = await call("/oauth/revoke", post({ token: tokens.access_token }, { id: "web-app", secret: "wrong" }));
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_client");
    expect(r.headers.get("www-authenticate")).toContain("Basic");
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    const missing = await call("/oauth/revoke", post({}, as(app)));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid_request");
  });
});
