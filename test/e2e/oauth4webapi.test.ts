// An independent, strict client library (oauth4webapi) runs the full authorization code + PKCE
// flow against a running server, knowing only the issuer URL: discovery, the authorization
// response (state, iss per RFC 9207), the token response, the ID token (claims and signature
// through the JWKS) and UserInfo. The user's part (login, consent) goes through the real pages.
import { describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { exportJWK, generateKeyPair } from "jose";
import { startTestServer } from "../support/app";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";

const srv = await startTestServer();
const rp = await createOidcClient(srv.deps, { client_name: "oauth4webapi RP", redirect_uris: ["https://rp.example.com/callback"], post_logout_redirect_uris: ["https://rp.example.com/bye"] });
const user = await createOidcUser(srv.deps);
const insecure = { [oauth.allowInsecureRequests]: true } as const; // loopback test server speaks plain HTTP
type Server = Awaited<ReturnType<typeof startTestServer>>;

/** The library's view of a server, from its issuer URL alone (OpenID Connect Discovery 1.0). */
async function discover(server: Server): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
}

/** A confidential client that authenticates with its ES256 key (private_key_jwt, RFC 7523), whose
 *  public key is registered as its JWK Set (so it can sign request objects too). */
async function privateKeyJwtClient(server: Server, name: string, redirectUri: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const registered = await createOidcClient(server.deps, { client_name: name, redirect_uris: [redirectUri] });
  await server.deps.sql`UPDATE clients SET token_endpoint_auth_method = 'private_key_jwt', secret_hash = NULL, jwks = ${server.deps.sql.json({ keys: [jwk] } as never)} WHERE client_id = ${registered.client_id}`;
  const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_signing_alg: "ES256" };
  return { ...registered, privateKey, client, auth: oauth.PrivateKeyJwt({ key: privateKey, kid }) };
}

/** An authorization code request with PKCE S256, state and nonce, and the values the client keeps. */
async function codeRequest(clientId: string, redirectUri: string, scope: string, extra: Record<string, string> = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  });
  return { verifier, state, nonce, params };
}

/** The user signs in and consents on the real pages, from the authorization endpoint with `query`;
 *  the answer is the redirect back to the client. */
async function signInAndConsent(server: Server, as: oauth.AuthorizationServer, query: URLSearchParams, who: { email: string; password: string }) {
  const url = new URL(as.authorization_endpoint!);
  url.search = query.toString();
  const b = Browser.forServer(server.url);
  let page = await b.open(url.toString());
  page = await b.submit(page, "/login", { login: who.email, password: who.password });
  page = await b.submit(page, "/consent", { decision: "allow" });
  return { page, browser: b, url };
}

describe("oauth4webapi against a running Authly", () => {
  test("discovery, code + PKCE, ID token verified through the JWKS, UserInfo, refresh", async () => {
    const as = await discover(srv);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const client: oauth.Client = { client_id: rp.client_id, id_token_signed_response_alg: "RS256" };
    const auth = oauth.ClientSecretBasic(rp.client_secret!);

    const { verifier, state, nonce, params: request } = await codeRequest(rp.client_id, rp.redirect_uri, "openid profile email offline_access", { max_age: "300" });
    // The user signs in and consents on the real pages.
    const { page, browser: b } = await signInAndConsent(srv, as, request, user);
    expect(page.location).toBeTruthy();

    const params = oauth.validateAuthResponse(as, client, new URL(page.location!), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, rp.redirect_uri, verifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true, maxAge: 300 });
    await oauth.validateApplicationLevelSignature(as, response, insecure);
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    expect(claims.iss).toBe(srv.url);
    expect(claims.sub).toBe(user.id);
    expect(claims.aud).toBe(rp.client_id);
    expect(claims.nonce).toBe(nonce);
    expect(typeof claims.auth_time).toBe("number");

    const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, result.access_token, insecure));
    expect(info.email).toBe(user.email);
    expect(info.name).toBe("Ada Lovelace");

    expect(result.refresh_token).toBeTruthy();
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, result.refresh_token!, insecure));
    expect(oauth.getValidatedIdTokenClaims(refreshed)!.sub).toBe(user.id);

    // RP-initiated logout with the ID token as hint ends the session at once.
    const end = new URL(as.end_session_endpoint!);
    end.search = new URLSearchParams({ id_token_hint: result.id_token!, post_logout_redirect_uri: "https://rp.example.com/bye", state: "out" }).toString();
    const out = await b.open(end.toString());
    expect(out.location).toBe("https://rp.example.com/bye?state=out");
  });

  test("an error response carries iss and state, and the library accepts it as an OAuth error (RFC 9207)", async () => {
    const as = await discover(srv);
    const client: oauth.Client = { client_id: rp.client_id };
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: rp.client_id, redirect_uri: rp.redirect_uri, response_type: "code", scope: "openid", state, prompt: "none", code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: "S256" }).toString();
    const r = await fetch(url, { redirect: "manual" });
    let err: unknown;
    try {
      oauth.validateAuthResponse(as, client, new URL(r.headers.get("location")!), state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect((err as oauth.AuthorizationResponseError).error).toBe("login_required");
  });

  test("PAR (RFC 9126) with a signed request object (RFC 9101) and private_key_jwt, through the real login page, to tokens", async () => {
    // A confidential client that authenticates with its key (RFC 7523) and signs its requests.
    const kid = "rp-key-1";
    const parRp = await privateKeyJwtClient(srv, "oauth4webapi PAR RP", "https://rp.example.com/par-callback", kid);
    const { client, auth } = parRp;

    const as = await discover(srv);
    expect(as.pushed_authorization_request_endpoint).toBe(`${srv.url}/oauth/par`);
    expect(as.request_object_signing_alg_values_supported).toContain("ES256");

    const { verifier, state, nonce, params } = await codeRequest(parRp.client_id, parRp.redirect_uri, "openid email");
    const request = await oauth.issueRequestObject(as, client, params, { key: parRp.privateKey, kid });
    const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, { request }, insecure));
    expect(pushed.request_uri.startsWith("urn:ietf:params:oauth:request_uri:")).toBe(true);
    expect(pushed.expires_in).toBe(60);

    // The front channel carries only client_id and the request_uri (RFC 9126 §4).
    const { page, url } = await signInAndConsent(srv, as, new URLSearchParams({ client_id: parRp.client_id, request_uri: pushed.request_uri }), user);
    expect(page.location?.startsWith(parRp.redirect_uri)).toBe(true);

    const cb = oauth.validateAuthResponse(as, client, new URL(page.location!), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, cb, parRp.redirect_uri, verifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    expect(oauth.getValidatedIdTokenClaims(result)!.sub).toBe(user.id);

    // The request_uri was used once; a second use is refused.
    const again = await fetch(url, { redirect: "manual" });
    expect(again.status).toBe(400);
  });

  test("a FAPI 2.0 client (PAR + private_key_jwt + DPoP + PKCE, server nonces) through the real login page to a DPoP-protected UserInfo call", async () => {
    // Server-wide FAPI 2.0 Security Profile mode, with DPoP server nonces (RFC 9449 §8).
    const fapi = await startTestServer({ env: { AUTHLY_FAPI_PROFILE: "fapi2-security", AUTHLY_DPOP_NONCE: "true" } });
    const fapiUser = await createOidcUser(fapi.deps);
    const rpFapi = await privateKeyJwtClient(fapi, "oauth4webapi FAPI RP", "https://rp.example.com/fapi-callback", "fapi-rp-key");
    const { client, auth } = rpFapi;

    const as = await discover(fapi);
    expect(as.require_pushed_authorization_requests).toBe(true);
    expect(as.dpop_signing_alg_values_supported).toContain("ES256");
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    // The library keeps the nonce of each answer; a use_dpop_nonce refusal is retried once with it.
    const retryingNonce = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (oauth.isDPoPNonceError(err)) return fn();
        throw err;
      }
    };

    const { verifier, state, nonce, params } = await codeRequest(rpFapi.client_id, rpFapi.redirect_uri, "openid email");
    const pushed = await retryingNonce(async () => oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, params, { DPoP, ...insecure })));

    const { page } = await signInAndConsent(fapi, as, new URLSearchParams({ client_id: rpFapi.client_id, request_uri: pushed.request_uri }), fapiUser);
    expect(page.location?.startsWith(rpFapi.redirect_uri)).toBe(true);

    const cb = oauth.validateAuthResponse(as, client, new URL(page.location!), state);
    const result = await retryingNonce(async () =>
      oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, cb, rpFapi.redirect_uri, verifier, { DPoP, ...insecure }), { expectedNonce: nonce, requireIdToken: true }),
    );
    expect(result.token_type).toBe("dpop");
    const sub = oauth.getValidatedIdTokenClaims(result)!.sub;
    expect(sub).toBe(fapiUser.id);

    const info = await retryingNonce(async () => oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, result.access_token, { DPoP, ...insecure })));
    expect(info.email).toBe(fapiUser.email);
    // The same token without its key is useless: as a Bearer token UserInfo refuses it.
    expect((await fetch(as.userinfo_endpoint!, { headers: { authorization: `Bearer ${result.access_token}` } })).status).toBe(401);
  });
});
