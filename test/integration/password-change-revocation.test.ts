// Changing one's own password ends what the old password opened, like an admin's reset does: every
// other session, grant, refresh token and access token of the user is revoked and the clients of
// the ended sessions get a back-channel logout token. The token that made the change (its grant,
// and the browser session it came from) is kept, so the admin CLI stays logged in.
import { describe, expect, test } from "bun:test";
import { startAdminApi } from "../support/admin";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, isConsentPage, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload, signIn, startLogoutReceiver } from "../support/oidc-flow";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";

const api = await startAdminApi();
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

const { uri: logoutUri, tokens: received } = startLogoutReceiver();

const rp = await createOidcClient(api.deps, { require_consent: false, scopes: ["openid", "offline_access"], backchannel_logout_uri: logoutUri });
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function token(params: Record<string, string>, basic?: { id: string; secret: string }) {
  const headers: Record<string, string> = { ...FORM };
  if (basic) headers.authorization = `Basic ${btoa(`${basic.id}:${basic.secret}`)}`;
  const r = await fetch(`${api.url}/oauth/token`, { method: "POST", headers, body: new URLSearchParams(params).toString() });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}
const cliLogin = async (u: OidcTestUser, password: string) => {
  const r = await token({ grant_type: "password", client_id: CLI_CLIENT_ID, username: u.username, password });
  expect(r.status).toBe(200);
  return r.body;
};
const cliRefresh = (rt: string) => token({ grant_type: "refresh_token", client_id: CLI_CLIENT_ID, refresh_token: rt });
const rpRefresh = (rt: string) => token({ grant_type: "refresh_token", refresh_token: rt }, { id: rp.client_id, secret: rp.client_secret! });
const userinfoStatus = async (at: string) => (await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${at}` } })).status;
async function sessionAlive(b: Browser): Promise<boolean> {
  const r = await b.request(authorizeUrl(authParams(rp, pkce().challenge, { prompt: "none" })));
  return callbackParams(r.headers.get("location")!).error === undefined;
}

describe("changing one's own password revokes the user's other sessions and tokens", () => {
  test("POST /admin/me/password: other sessions, grants and tokens end (with back-channel logout); the calling token keeps working", async () => {
    const user = await createOidcUser(api.deps, { is_admin: true });
    // Elsewhere: a browser session at a relying party (with a refresh token) and another CLI login.
    const browser = Browser.forServer(api.url);
    const f = await signIn(browser, rp, user, { scope: "openid offline_access" });
    const rpTokens = (await exchangeCode(http, rp, f.callback.code!, f.verifier)).body;
    const sid = jwtPayload(rpTokens.id_token!).sid;
    const otherCli = await cliLogin(user, user.password);
    // Here: the CLI login that changes the password.
    const current = await cliLogin(user, user.password);

    const r = await api.call("POST", "/admin/me/password", { token: current.access_token, body: { current_password: user.password, new_password: "a brand new password 1" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ requires_password_change: false, revoked_sessions: 1, revoked_grants: 2 });

    expect((await rpRefresh(rpTokens.refresh_token!)).body.error).toBe("invalid_grant");
    expect(await userinfoStatus(rpTokens.access_token)).toBe(401);
    expect((await cliRefresh(otherCli.refresh_token!)).body.error).toBe("invalid_grant");
    expect((await api.call("GET", "/admin/me", { token: otherCli.access_token })).status).toBe(401);
    expect(await sessionAlive(browser)).toBe(false);

    await settleBackgroundLogouts();
    expect(received.map((t) => jwtPayload(t).sid)).toContain(sid);

    // The token that made the change, and its refresh token, still work.
    expect((await api.call("GET", "/admin/me", { token: current.access_token })).status).toBe(200);
    expect((await cliRefresh(current.refresh_token!)).status).toBe(200);
  });

  test("the forced change on the login page ends the user's other sessions and tokens; the new session works", async () => {
    const user = await createOidcUser(api.deps);
    const elsewhere = Browser.forServer(api.url);
    const f = await signIn(elsewhere, rp, user, { scope: "openid offline_access" });
    const rpTokens = (await exchangeCode(http, rp, f.callback.code!, f.verifier)).body;
    await api.deps.sql`UPDATE users SET requires_password_change = true WHERE id = ${user.id}`;

    const b = Browser.forServer(api.url);
    let page = await b.open(authorizeUrl(authParams(rp, pkce().challenge, { scope: "openid" })));
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    page = await b.submit(page, "/password", { current_password: user.password, new_password: "another new password 2", confirm_password: "another new password 2" });
    if (isConsentPage(page)) page = await b.submit(page, "/consent", { decision: "allow" });
    expect(callbackParams(page.location!).code).toBeTruthy();

    expect((await rpRefresh(rpTokens.refresh_token!)).body.error).toBe("invalid_grant");
    expect(await userinfoStatus(rpTokens.access_token)).toBe(401);
    expect(await sessionAlive(elsewhere)).toBe(false);
    expect(await sessionAlive(b)).toBe(true);
  });
});
