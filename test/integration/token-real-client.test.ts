// A real OAuth 2.1 / OIDC client (oauth4webapi) against Authly on a loopback port: discovery,
// code exchange with PKCE, using the access token as a resource server would, refresh,
// introspection, revocation and client_credentials — every JWT checked only through the JWKS
// the server publishes.
import { describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { startTestServer } from "../support/app";
import { createClient, createCode, createUser } from "../support/fixtures";

const server = await startTestServer({ bootstrap: false });
const issuer = new URL(server.deps.config.issuer);
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = "http://127.0.0.1/callback";

const web = await createClient(server.deps, { client_id: "rp-web", redirect_uris: [REDIRECT], scopes: ["openid", "profile", "email", "offline_access", "api:read"] });
const svc = await createClient(server.deps, { client_id: "rp-service", grant_types: ["client_credentials"], scopes: ["api:read"] });
const user = await createUser(server.deps, { username: "frank", email: "frank@example.test" });

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oidc" }));
const client: oauth.Client = { client_id: web.clientId };
const clientAuth = oauth.ClientSecretBasic(web.secret!);
const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));

/** A resource server: validates an RFC 9068 access token from a request, keys from the JWKS. */
async function resourceServerAccepts(accessToken: string): Promise<oauth.JWTAccessTokenClaims> {
  const request = new Request("http://127.0.0.1/api", { headers: { Authorization: `Bearer ${accessToken}` } });
  return oauth.validateJwtAccessToken(as, request, issuer.href.replace(/\/$/, ""), insecure);
}

describe("oauth4webapi as the relying party", () => {
  test("discovery matches the issuer and advertises what the client needs", () => {
    expect(as.issuer).toBe(issuer.href.replace(/\/$/, ""));
    expect(as.code_challenge_methods_supported).toContain("S256");
    expect(as.token_endpoint_auth_methods_supported).toContain("client_secret_basic");
  });

  test("code + PKCE -> tokens -> use -> refresh -> introspect -> revoke", async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = oauth.generateRandomState();
    // The front channel's part: a code row as /oauth/authorize writes it (docs/contracts.md).
    const { code } = await createCode(server.deps, { clientId: web.clientId, userId: user.id, scope: "openid profile email offline_access api:read", nonce, verifier, redirectUri: REDIRECT });
    const callback = new URL(REDIRECT);
    callback.searchParams.set("code", code);
    callback.searchParams.set("state", state);
    callback.searchParams.set("iss", as.issuer);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.refresh_token).toBeString();

    // Every JWT verifies only through the published JWKS.
    const idToken = await jwtVerify(tokens.id_token!, jwks, { issuer: as.issuer, audience: web.clientId });
    expect(idToken.payload.sub).toBe(user.id);
    expect(idToken.payload.nonce).toBe(nonce);
    const claims = await resourceServerAccepts(tokens.access_token);
    expect(claims.sub).toBe(user.id);
    expect(claims.client_id).toBe(web.clientId);
    expect(claims.scope).toContain("api:read");

    // Refresh: a new pair; the old refresh token is spent.
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await jwtVerify(refreshed.id_token!, jwks, { issuer: as.issuer, audience: web.clientId });
    expect((await resourceServerAccepts(refreshed.access_token)).sub).toBe(user.id);

    // Introspection: active, with the documented members.
    const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure));
    expect(info.active).toBe(true);
    expect(info.client_id).toBe(web.clientId);
    expect(info.sub).toBe(user.id);
    expect(info.iss).toBe(as.issuer);
    const rtInfo = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, clientAuth, refreshed.refresh_token!, { ...insecure, additionalParameters: { token_type_hint: "refresh_token" } }));
    expect(rtInfo.active).toBe(true);

    // Revoke the refresh token: the whole family is gone.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, insecure));
    const after = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure));
    expect(after.active).toBe(false);
    const spent = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, insecure);
    await expect(oauth.processRefreshTokenResponse(as, client, spent)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  test("the access token works at the userinfo endpoint", async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const { code } = await createCode(server.deps, { clientId: web.clientId, userId: user.id, scope: "openid email", nonce: null, verifier, redirectUri: REDIRECT });
    const params = oauth.validateAuthResponse(as, client, new URLSearchParams({ code, iss: as.issuer }), oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT, verifier, insecure));
    const info = await oauth.processUserInfoResponse(as, client, user.id, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    expect(info.sub).toBe(user.id);
    expect(info.email).toBe("frank@example.test");
  });

  test("client_credentials: a service token, validated by a resource server, then revoked", async () => {
    const svcClient: oauth.Client = { client_id: svc.clientId };
    const svcAuth = oauth.ClientSecretPost(svc.secret!);
    // rp-service is registered for client_secret_basic: client_secret_post must be refused.
    const wrong = await oauth.clientCredentialsGrantRequest(as, svcClient, svcAuth, { scope: "api:read" }, insecure);
    await expect(oauth.processClientCredentialsResponse(as, svcClient, wrong)).rejects.toMatchObject({ error: "invalid_client" });
    const basic = oauth.ClientSecretBasic(svc.secret!);
    const tokens = await oauth.processClientCredentialsResponse(as, svcClient, await oauth.clientCredentialsGrantRequest(as, svcClient, basic, { scope: "api:read" }, insecure));
    expect(tokens.refresh_token).toBeUndefined();
    expect((await resourceServerAccepts(tokens.access_token)).sub).toBe(svc.clientId);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, svcClient, basic, tokens.access_token, insecure));
    const info = await oauth.processIntrospectionResponse(as, svcClient, await oauth.introspectionRequest(as, svcClient, basic, tokens.access_token, insecure));
    expect(info.active).toBe(false);
  });
});
