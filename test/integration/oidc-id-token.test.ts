// ID tokens from the code flow (OIDC Core §3.1.3.6-7): signature through the published JWKS,
// at_hash, per-client algorithm, and the token-endpoint modules of the Basic OP plan run through
// the real front channel (code reuse, refresh, client_secret_post).
import { describe, expect, test } from "bun:test";
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { exchangeCode, signIn } from "../support/oidc-flow";
import { halfHash } from "../../src/oidc/id-token";

const t: TestApp = await createTestApp();
const client: OidcTestClient = await createOidcClient(t.deps, { require_consent: false });
const user: OidcTestUser = await createOidcUser(t.deps);
const browser = Browser.forApp(t);

async function jwks() {
  return createLocalJWKSet(await (await t.request("/.well-known/jwks.json")).json());
}

async function discovery(): Promise<Record<string, any>> {
  return (await t.request("/.well-known/openid-configuration")).json();
}

describe("ID token", () => {
  test("oidcc-idtoken-signature: the ID token verifies with the published JWKS (RS256 by default) and at_hash matches", async () => {
    const f = await signIn(browser, client, user, { nonce: "sig" });
    const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(decodeProtectedHeader(tok.body.id_token!).alg).toBe("RS256");
    const { payload } = await jwtVerify(tok.body.id_token!, await jwks(), { issuer: t.issuer, audience: client.client_id });
    expect(payload.sub).toBe(user.id);
    expect(payload.nonce).toBe("sig");
    expect(payload.at_hash).toBe(halfHash(tok.body.access_token, "RS256"));
  });

  test("oidcc-idtoken-unsigned: unsigned ID tokens are not offered (alg none is never advertised or used)", async () => {
    const d = await discovery();
    expect(d.id_token_signing_alg_values_supported).not.toContain("none");
    expect(d.id_token_signing_alg_values_supported).toContain("RS256");
  });

  test("a client registered for ES256 gets ES256 ID tokens that verify through the JWKS", async () => {
    const es = await createOidcClient(t.deps, { require_consent: false, id_token_signed_response_alg: "ES256" });
    const f = await signIn(browser, es, user);
    const tok = await exchangeCode(t, es, f.callback.code!, f.verifier);
    expect(decodeProtectedHeader(tok.body.id_token!).alg).toBe("ES256");
    await jwtVerify(tok.body.id_token!, await jwks(), { issuer: t.issuer, audience: es.client_id });
  });
});

describe("token endpoint modules through the front channel", () => {
  test("oidcc-codereuse: a code works once; the second use fails and revokes the tokens issued from it", async () => {
    const f = await signIn(browser, client, user);
    const first = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(first.status).toBe(200);
    const second = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe("invalid_grant");
    const u = await t.request("/oidc/userinfo", { headers: { authorization: `Bearer ${first.body.access_token}` } });
    expect(u.status).toBe(401);
  });

  test("oidcc-codereuse-30seconds: a code reused after its first use (here: after it expired too) still fails", async () => {
    const f = await signIn(browser, client, user);
    const first = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(first.status).toBe(200);
    // Instead of waiting 30 seconds, move the code's clock back.
    await t.deps.sql`UPDATE authorization_codes SET created_at = created_at - interval '30 seconds', consumed_at = consumed_at - interval '30 seconds', expires_at = expires_at - interval '30 seconds'`;
    const again = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
  });

  test("an expired code fails (codes live config.authCodeTtl seconds)", async () => {
    const f = await signIn(browser, client, user);
    await t.deps.sql`UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE consumed_at IS NULL`;
    const r = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(r.body.error).toBe("invalid_grant");
  });

  test("oidcc-refresh-token: offline_access yields a refresh token; refreshing gives a new ID token for the same subject", async () => {
    const f = await signIn(browser, client, user, { scope: "openid offline_access" });
    const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(tok.body.refresh_token).toBeTruthy();
    const r = await t.request("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tok.body.refresh_token! }).toString(),
    });
    expect(r.status).toBe(200);
    const body = await r.json();
    const { payload } = await jwtVerify(body.id_token, await jwks(), { issuer: t.issuer, audience: client.client_id });
    expect(payload.sub).toBe(user.id);
  });

  test("without offline_access an OIDC code flow gets no refresh token (OIDC Core §11)", async () => {
    const f = await signIn(browser, client, user, { scope: "openid" });
    const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
    expect(tok.body.refresh_token).toBeUndefined();
  });

  test("oidcc-server-client-secret-post: a client_secret_post client redeems its code with the secret in the body", async () => {
    const post = await createOidcClient(t.deps, { require_consent: false, token_endpoint_auth_method: "client_secret_post" });
    const f = await signIn(browser, post, user);
    const r = await t.request("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: f.callback.code!, redirect_uri: post.redirect_uri, code_verifier: f.verifier, client_id: post.client_id, client_secret: post.client_secret! }).toString(),
    });
    expect(r.status).toBe(200);
    expect((await r.json()).id_token).toBeTruthy();
  });

  test("a public client (PKCE, no secret) completes the flow", async () => {
    const pub = await createOidcClient(t.deps, { client_type: "public", require_consent: false, redirect_uris: ["http://127.0.0.1/cb"] });
    const f = await signIn(browser, { ...pub, redirect_uri: "http://127.0.0.1:49152/cb" }, user);
    const tok = await exchangeCode(t, { ...pub, redirect_uri: "http://127.0.0.1:49152/cb" }, f.callback.code!, f.verifier);
    expect(tok.status).toBe(200);
  });
});
