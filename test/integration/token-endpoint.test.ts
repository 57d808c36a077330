// POST /oauth/token: request format (RFC 6749 §3.2, §5.2), client_credentials (§4.4) and the
// authorization_code grant (§4.1.3, RFC 7636, OIDC Core §3.1.3).
import { beforeAll, describe, expect, test } from "bun:test";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createCode, createUser, post, type CreatedClient } from "../support/fixtures";
import type { UserRecord } from "../../src/accounts/model";
import { halfHash } from "../../src/oidc/id-token";

// Created at the top level: createTestApp registers the schema's afterAll at file scope.
const t: TestApp = await createTestApp({ bootstrap: false });
let svc: CreatedClient;
let app: CreatedClient;
let spa: CreatedClient;
let user: UserRecord;

async function token(init: RequestInit) {
  const r = await t.request("/oauth/token", init);
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}

function expectOAuthError(res: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string) {
  expect(res.body.error).toBe(code);
  expect(res.status).toBe(status);
  expect(typeof res.body.error_description).toBe("string");
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(res.headers.get("cache-control")).toBe("no-store");
}

beforeAll(async () => {
  svc = await createClient(t.deps, { client_id: "svc", grant_types: ["client_credentials"], scopes: ["api:read", "api:write", "openid"], access_token_ttl: 120 });
  app = await createClient(t.deps, { client_id: "web-app", grant_types: ["authorization_code", "refresh_token"] });
  spa = await createClient(t.deps, { client_id: "spa", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token", "client_credentials"] });
  user = await createUser(t.deps, { username: "alice" });
});

describe("request format (RFC 6749 §3.2, §5.2)", () => {
  test("a JSON body is invalid_request 400, never Elysia's 422", async () => {
    const r = await token({ method: "POST", headers: { "Content-Type": "application/json", Authorization: `Basic ${btoa(`svc:${svc.secret}`)}` }, body: JSON.stringify({ grant_type: "client_credentials" }) });
    expectOAuthError(r, 400, "invalid_request");
  });

  test("a repeated parameter is invalid_request", async () => {
    const init = post({ grant_type: "client_credentials" }, { id: "svc", secret: svc.secret! });
    const r = await token({ ...init, body: `${init.body}&scope=api:read&scope=api:write` });
    expectOAuthError(r, 400, "invalid_request");
    expect(String(r.body.error_description)).toContain("scope");
  });

  test("unknown parameters are ignored", async () => {
    const r = await token(post({ grant_type: "client_credentials", frobnicate: "yes", resource_hint: "x" }, { id: "svc", secret: svc.secret! }));
    expect(r.status).toBe(200);
  });

  test("a missing grant_type is invalid_request", async () => {
    expectOAuthError(await token(post({}, { id: "svc", secret: svc.secret! })), 400, "invalid_request");
  });

  test("an unknown grant_type is unsupported_grant_type", async () => {
    expectOAuthError(await token(post({ grant_type: "urn:ietf:params:oauth:grant-type:saml2-bearer" }, { id: "svc", secret: svc.secret! })), 400, "unsupported_grant_type");
    expectOAuthError(await token(post({ grant_type: "implicit" }, { id: "svc", secret: svc.secret! })), 400, "unsupported_grant_type");
  });

  test("a grant type the client did not register is unauthorized_client", async () => {
    const r = await token(post({ grant_type: "client_credentials" }, { id: "web-app", secret: app.secret! }));
    expectOAuthError(r, 400, "unauthorized_client");
  });

  test("the password grant does not exist for third-party clients (unsupported_grant_type)", async () => {
    const r = await token(post({ grant_type: "password", username: "alice", password: "x" }, { id: "svc", secret: svc.secret! }));
    expectOAuthError(r, 400, "unsupported_grant_type");
  });
});

describe("client_credentials (RFC 6749 §4.4)", () => {
  test("issues an RFC 9068 JWT access token with no refresh or ID token, no-store", async () => {
    const r = await token(post({ grant_type: "client_credentials", scope: "api:read" }, { id: "svc", secret: svc.secret! }));
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.headers.get("pragma")).toBe("no-cache");
    expect(r.body.token_type).toBe("Bearer");
    expect(r.body.scope).toBe("api:read");
    expect(r.body.refresh_token).toBeUndefined();
    expect(r.body.id_token).toBeUndefined();
    const header = decodeProtectedHeader(String(r.body.access_token));
    expect(header.typ).toBe("at+jwt");
    expect(header.alg).toBe(t.deps.config.accessTokenAlg);
    expect(typeof header.kid).toBe("string");
    const claims = decodeJwt(String(r.body.access_token));
    expect(claims.iss).toBe(t.issuer);
    expect(claims.sub).toBe("svc");
    expect(claims.client_id).toBe("svc");
    expect(claims.aud).toBe(t.issuer);
    expect(claims.scope).toBe("api:read");
    expect(typeof claims.jti).toBe("string");
  });

  test("uses the client's access-token lifetime", async () => {
    const r = await token(post({ grant_type: "client_credentials" }, { id: "svc", secret: svc.secret! }));
    expect(r.body.expires_in).toBe(120);
    const c = decodeJwt(String(r.body.access_token));
    expect(c.exp! - c.iat!).toBe(120);
    // Without a scope parameter the client gets its registered scopes, minus user-only ones.
    expect(r.body.scope).toBe("api:read api:write");
  });

  test("uses the configured lifetime when the client has none", async () => {
    const other = await createClient(t.deps, { client_id: "svc-default-ttl", grant_types: ["client_credentials"], scopes: ["api:read"] });
    const r = await token(post({ grant_type: "client_credentials" }, { id: other.clientId, secret: other.secret! }));
    expect(r.body.expires_in).toBe(t.deps.config.accessTokenTtl);
  });

  test("a client lifetime above a day is capped (retired keys stay published that long)", async () => {
    const long = await createClient(t.deps, { client_id: "svc-long-ttl", grant_types: ["client_credentials"], scopes: ["api:read"], access_token_ttl: 200_000 });
    const r = await token(post({ grant_type: "client_credentials" }, { id: long.clientId, secret: long.secret! }));
    expect(r.body.expires_in).toBe(86400);
  });

  test("a scope beyond the registered ones is invalid_scope; openid needs a user", async () => {
    expectOAuthError(await token(post({ grant_type: "client_credentials", scope: "api:read api:admin" }, { id: "svc", secret: svc.secret! })), 400, "invalid_scope");
    expectOAuthError(await token(post({ grant_type: "client_credentials", scope: "openid" }, { id: "svc", secret: svc.secret! })), 400, "invalid_scope");
  });

  test("public clients may not use it, even when registered for it", async () => {
    expectOAuthError(await token(post({ grant_type: "client_credentials", client_id: "spa" })), 400, "unauthorized_client");
  });
});

describe("authorization_code (RFC 6749 §4.1.3, RFC 7636, OIDC Core §3.1.3)", () => {
  const exchange = (code: string, verifier: string | undefined, extra: Record<string, string | undefined> = {}, client: CreatedClient = app) =>
    token(post({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: "https://rp.example/cb", ...extra }, client.secret ? { id: client.clientId, secret: client.secret } : undefined));

  test("openid + offline_access: access, refresh and ID token bound to the code's nonce and session", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "openid profile offline_access", nonce: "nonce-123" });
    const r = await exchange(c.code, c.verifier);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.scope).toBe("openid profile offline_access");
    expect(typeof r.body.refresh_token).toBe("string");
    const at = decodeJwt(String(r.body.access_token));
    expect(at.sub).toBe(user.id);
    expect(at.client_id).toBe("web-app");
    const id = decodeJwt(String(r.body.id_token));
    expect(id.iss).toBe(t.issuer);
    expect(id.aud).toBe("web-app");
    expect(id.sub).toBe(user.id);
    expect(id.nonce).toBe("nonce-123");
    expect(id.at_hash).toBe(halfHash(String(r.body.access_token), decodeProtectedHeader(String(r.body.id_token)).alg as "RS256"));
    expect(typeof id.auth_time).toBe("number");
  });

  test("openid without offline_access gets no refresh token (OIDC Core §11)", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "openid profile" });
    const r = await exchange(c.code, c.verifier);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    expect(typeof r.body.id_token).toBe("string");
  });

  test("a plain OAuth code flow (no openid) gets a refresh token and no ID token", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read" });
    const r = await exchange(c.code, c.verifier);
    expect(r.status).toBe(200);
    expect(typeof r.body.refresh_token).toBe("string");
    expect(r.body.id_token).toBeUndefined();
  });

  test("a public client exchanges with client_id and PKCE only", async () => {
    const c = await createCode(t.deps, { clientId: "spa", userId: user.id, scope: "openid offline_access" });
    const r = await exchange(c.code, c.verifier, { client_id: "spa" }, spa);
    expect(r.status).toBe(200);
    expect(typeof r.body.refresh_token).toBe("string");
  });

  test("a wrong or missing code_verifier is invalid_grant and does not spend the code (RFC 7636 §4.6)", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read" });
    expectOAuthError(await exchange(c.code, "x".repeat(43)), 400, "invalid_grant");
    expectOAuthError(await exchange(c.code, undefined), 400, "invalid_grant");
    expect((await exchange(c.code, c.verifier)).status).toBe(200);
  });

  test("a code stored with the plain method is refused even with verifier = challenge", async () => {
    const v = "p".repeat(43);
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read", verifier: v, challenge: v, method: "plain" });
    expectOAuthError(await exchange(c.code, v), 400, "invalid_grant");
  });

  test("redirect_uri must be identical to the authorization request's; a refused exchange leaves the code unspent", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read" });
    expectOAuthError(await exchange(c.code, c.verifier, { redirect_uri: "https://rp.example/cb/" }), 400, "invalid_grant");
    expect((await exchange(c.code, c.verifier)).status).toBe(200);
  });

  test("refuses a code exchange without redirect_uri when the authorization request had one, even with a single registered URI (RFC 6749 §4.1.3)", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read" });
    expectOAuthError(await exchange(c.code, c.verifier, { redirect_uri: undefined }), 400, "invalid_request");
    // The refused exchange did not spend the code: the client may retry correctly.
    expect((await exchange(c.code, c.verifier)).status).toBe(200);
  });

  test("redirect_uri is required when the client has several", async () => {
    const multi = await createClient(t.deps, { client_id: "multi", redirect_uris: ["https://rp.example/cb", "https://rp.example/other"] });
    const c = await createCode(t.deps, { clientId: "multi", userId: user.id, scope: "api:read" });
    expectOAuthError(await exchange(c.code, c.verifier, { redirect_uri: undefined }, multi), 400, "invalid_request");
  });

  test("a code of another client is invalid_grant", async () => {
    const c = await createCode(t.deps, { clientId: "spa", userId: user.id, scope: "api:read" });
    expectOAuthError(await exchange(c.code, c.verifier), 400, "invalid_grant");
  });

  test("an expired or unknown code is invalid_grant", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "api:read", ttlSeconds: -1 });
    expectOAuthError(await exchange(c.code, c.verifier), 400, "invalid_grant");
    expectOAuthError(await exchange("no-such-code", c.verifier), 400, "invalid_grant");
    expectOAuthError(await exchange("", c.verifier), 400, "invalid_request");
  });

  test("the code of a deactivated user is invalid_grant", async () => {
    const bob = await createUser(t.deps, { username: "bob-inactive" });
    const c = await createCode(t.deps, { clientId: "web-app", userId: bob.id, scope: "api:read" });
    await t.deps.sql`UPDATE users SET is_active = false WHERE id = ${bob.id}`;
    expectOAuthError(await exchange(c.code, c.verifier), 400, "invalid_grant");
  });

  test("a second use is invalid_grant and revokes every token issued from the code (RFC 6749 §4.1.2)", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "openid offline_access" });
    const first = await exchange(c.code, c.verifier);
    expect(first.status).toBe(200);
    const second = await exchange(c.code, c.verifier);
    expectOAuthError(second, 400, "invalid_grant");
    const intro = await t.request("/oauth/introspect", post({ token: String(first.body.access_token) }, { id: "web-app", secret: app.secret! }));
    expect(await intro.json()).toEqual({ active: false });
    const refreshed = await token(post({ grant_type: "refresh_token", refresh_token: String(first.body.refresh_token) }, { id: "web-app", secret: app.secret! }));
    expectOAuthError(refreshed, 400, "invalid_grant");
    const [row] = await t.deps.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'token.code_reuse'`;
    expect(row!.n).toBeGreaterThanOrEqual(1);
  });

  test("the ID token verifies against the published JWKS", async () => {
    const c = await createCode(t.deps, { clientId: "web-app", userId: user.id, scope: "openid" });
    const r = await exchange(c.code, c.verifier);
    const jwks = await (await t.request("/.well-known/jwks.json")).json();
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const set = createLocalJWKSet(jwks);
    const { payload } = await jwtVerify(String(r.body.id_token), set, { issuer: t.issuer, audience: "web-app" });
    expect(payload.sub).toBe(user.id);
    await jwtVerify(String(r.body.access_token), set, { issuer: t.issuer, typ: "at+jwt" });
    void createRemoteJWKSet;
  });
});
