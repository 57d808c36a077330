// Every JWT this server signs has one kind, told by its `typ` and its claims (RFC 8725 §3.11,
// RFC 9068 §2.1, Back-Channel Logout §2.4): access tokens (at+jwt), ID tokens (JWT) and logout
// tokens (logout+jwt). Each place that accepts one of our JWTs accepts only its own kind: an ID
// token or a logout token is never an access token, an access token or a logout token is never an
// id_token_hint.
import { describe, expect, test } from "bun:test";
import { startAdminApi } from "../support/admin";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";
import { issueLogoutToken } from "../../src/oidc/backchannel-logout";
import { findClientByClientId } from "../../src/clients/store";

const api = await startAdminApi();
const client: OidcTestClient = await createOidcClient(api.deps, { require_consent: false, scopes: ["openid", "email", "offline_access"] });
// An admin who signs in at a relying party: its ID token and logout token name an admin.
const user: OidcTestUser = await createOidcUser(api.deps, { is_admin: true });
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

async function signedIn(): Promise<{ b: Browser; accessToken: string; idToken: string; logoutToken: string }> {
  const b = Browser.forServer(api.url);
  const f = await signIn(b, client, user);
  const tok = await exchangeCode(http, client, f.callback.code!, f.verifier);
  expect(tok.status).toBe(200);
  const sid = jwtPayload(tok.body.id_token!).sid as string;
  // The logout token this server would POST to the client's back-channel URI for this session.
  const logoutToken = await issueLogoutToken(api.deps, (await findClientByClientId(api.deps.sql, client.client_id))!, { id: sid, user_id: user.id });
  return { b, accessToken: tok.body.access_token, idToken: tok.body.id_token!, logoutToken };
}

const kinds = await signedIn();

async function sessionAlive(b: Browser): Promise<boolean> {
  const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none" })));
  return callbackParams(r.headers.get("location")!).error === undefined;
}

describe("id_token_hint accepts only ID tokens", () => {
  test("at the authorization endpoint: a logout token or an access token as id_token_hint is invalid_request; the ID token works", async () => {
    const b = kinds.b;
    for (const hint of [kinds.logoutToken, kinds.accessToken]) {
      const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none", id_token_hint: hint })));
      expect(r.status).toBe(303);
      expect(callbackParams(r.headers.get("location")!).error).toBe("invalid_request");
    }
    const ok = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none", id_token_hint: kinds.idToken })));
    expect(callbackParams(ok.headers.get("location")!).code).toBeTruthy();
  });

  test("at the logout endpoint: a back-channel logout token as id_token_hint is refused and ends nothing", async () => {
    const s = await signedIn();
    for (const hint of [s.logoutToken, s.accessToken]) {
      const r = await s.b.request(`/oidc/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: "https://rp.example.com/logged-out" })}`);
      expect(r.status).toBe(400);
      expect(r.headers.get("location")).toBeNull();
      expect(await sessionAlive(s.b)).toBe(true);
    }
  });
});

describe("access tokens are the only bearer tokens", () => {
  test("UserInfo refuses an ID token and a logout token (401 invalid_token) and takes the access token", async () => {
    for (const token of [kinds.idToken, kinds.logoutToken]) {
      const r = await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    expect((await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${kinds.accessToken}` } })).status).toBe(200);
  });

  test("introspection says inactive for an ID token and a logout token, active for the access token", async () => {
    const intro = async (token: string) => {
      const r = await fetch(`${api.url}/oauth/introspect`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(r.status).toBe(200);
      return (await r.json()).active;
    };
    expect(await intro(kinds.idToken)).toBe(false);
    expect(await intro(kinds.logoutToken)).toBe(false);
    expect(await intro(kinds.accessToken)).toBe(true);
  });

  test("the admin API refuses an admin's ID token and logout token (401)", async () => {
    for (const token of [kinds.idToken, kinds.logoutToken]) {
      const r = await api.call("GET", "/admin/me", { token });
      expect(r.status).toBe(401);
    }
    expect((await api.call("GET", "/admin/me")).status).toBe(200);
  });
});
