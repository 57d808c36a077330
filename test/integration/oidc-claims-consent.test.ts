// The `claims` request parameter (OIDC Core §5.5) is bounded by the client's registered scopes and
// by the user's consent (§3.1.2.4): claims of scopes a client is not registered for are dropped,
// claims asked for beyond the granted scopes are shown on the consent page and remembered with it
// (prompt=none without that consent is consent_required), and consent counts only for the account
// that gave it.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, findForm, isConsentPage, isLoginPage, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload, signIn, type Tokens } from "../support/oidc-flow";

const t: TestApp = await createTestApp();

async function userinfo(token: string): Promise<Record<string, unknown>> {
  const r = await t.request("/oidc/userinfo", { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return r.json();
}

async function exchange(client: OidcTestClient, code: string, verifier: string): Promise<Tokens> {
  const tok = await exchangeCode(t, client, code, verifier);
  expect(tok.status).toBe(200);
  return tok.body;
}

/** A prompt=none request in a browser that has a session: the callback parameters. */
async function silent(b: Browser, client: OidcTestClient, extra: Record<string, string>): Promise<{ callback: Record<string, string>; verifier: string }> {
  const { verifier, challenge } = pkce();
  const page = await b.open(authorizeUrl(authParams(client, challenge, { prompt: "none", ...extra })));
  if (!page.location) throw new Error(`prompt=none showed a page (${page.status})`);
  return { callback: callbackParams(page.location), verifier };
}

const PRIVATE = ["phone_number", "phone_number_verified", "address", "birthdate", "email", "email_verified", "name"];

describe("the claims parameter is limited to the client's scopes and the user's consent (OIDC Core §5.5, §3.1.2.4)", () => {
  test("claims of scopes the client is not registered for are never released, even with prompt=none after an openid-only consent", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid"] });
    const user: OidcTestUser = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user, { scope: "openid" });
    expect(first.seen.consent).toBe(true);

    const claims = JSON.stringify({ userinfo: { phone_number: null, address: null, birthdate: null, email: null }, id_token: { phone_number: null, address: null, birthdate: null, email: { essential: true } } });
    const s = await silent(b, client, { scope: "openid", claims });
    expect(s.callback.error).toBeUndefined();
    const tok = await exchange(client, s.callback.code!, s.verifier);
    const id = jwtPayload(tok.id_token!);
    const ui = await userinfo(tok.access_token);
    expect(ui).toEqual({ sub: user.id });
    for (const c of PRIVATE) expect(id[c]).toBeUndefined();
  });

  test("claims beyond the granted scopes need consent: prompt=none is consent_required, not a code", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid", "profile", "email", "phone", "address"] });
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    expect((await signIn(b, client, user, { scope: "openid" })).seen.consent).toBe(true);
    const s = await silent(b, client, { scope: "openid", claims: JSON.stringify({ userinfo: { phone_number: null, address: null } }) });
    expect(s.callback.error).toBe("consent_required");
    expect(s.callback.code).toBeUndefined();
  });

  test("the consent page lists the individually requested claims; once allowed they are released and remembered, a new one asks again", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid", "profile", "email", "phone", "address"] });
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const claims = JSON.stringify({ userinfo: { phone_number: null }, id_token: { email: null } });
    const { verifier, challenge } = pkce();
    let page = await b.open(authorizeUrl(authParams(client, challenge, { scope: "openid", claims })));
    expect(isLoginPage(page)).toBe(true);
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    expect(isConsentPage(page)).toBe(true);
    expect(page.html).toContain("phone_number");
    expect(page.html).toContain("email");
    page = await b.submit(page, "/consent", { decision: "allow" });
    const tok = await exchange(client, callbackParams(page.location!).code!, verifier);
    expect((await userinfo(tok.access_token)).phone_number).toBe("+44 20 7946 0000");
    expect(jwtPayload(tok.id_token!).email).toBe(user.email);

    // Remembered: the same claims again need no page.
    const again = await silent(b, client, { scope: "openid", claims });
    expect(again.callback.code).toBeTruthy();
    // A claim never consented to asks again.
    const more = await silent(b, client, { scope: "openid", claims: JSON.stringify({ userinfo: { address: null } }) });
    expect(more.callback.error).toBe("consent_required");

    const list = await t.deps.sql<{ scopes: string[]; claims: string[] }[]>`SELECT scopes, claims FROM consents WHERE user_id = ${user.id} AND client_id = ${client.client_id}`;
    expect(list[0]!.claims.sort()).toEqual(["email", "phone_number"]);
  });

  test("claims covered by a consented scope need no further consent", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid", "profile", "email", "phone"] });
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    expect((await signIn(b, client, user, { scope: "openid email" })).seen.consent).toBe(true);
    const s = await silent(b, client, { scope: "openid email", claims: JSON.stringify({ id_token: { email: { essential: true } } }) });
    const tok = await exchange(client, s.callback.code!, s.verifier);
    expect(jwtPayload(tok.id_token!).email).toBe(user.email);
  });

  test("a client without consent (first party) still gets no claims of scopes it is not registered for", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid", "email"], require_consent: false });
    const user = await createOidcUser(t.deps);
    const f = await signIn(Browser.forApp(t), client, user, { scope: "openid", claims: JSON.stringify({ userinfo: { phone_number: null, email: null }, id_token: { address: null } }) });
    const tok = await exchange(client, f.callback.code!, f.verifier);
    expect(await userinfo(tok.access_token)).toEqual({ sub: user.id, email: user.email });
    expect(jwtPayload(tok.id_token!).address).toBeUndefined();
  });
});

describe("consent is bound to the account that gave it", () => {
  test("a consent given by one user in an interaction does not let another user who then signs in there skip consent", async () => {
    const client = await createOidcClient(t.deps, { scopes: ["openid", "email"] });
    const x = await createOidcUser(t.deps);
    const y = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { challenge } = pkce();
    const loginPage = await b.open(authorizeUrl(authParams(client, challenge, { scope: "openid email" })));
    expect(isLoginPage(loginPage)).toBe(true);
    const consent = await b.submit(loginPage, "/login", { login: x.username, password: x.password });
    expect(isConsentPage(consent)).toBe(true);
    // X allows, but the browser does not follow the redirect back to the interaction yet.
    const form = findForm(consent.html, "/consent");
    const allowed = await b.request(b.absolute(form.action), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ ...form.hidden, decision: "allow" }).toString() });
    expect(allowed.status).toBe(303);
    // Y signs in within the same interaction (the login form's CSRF token is the interaction's).
    const next = await b.submit(loginPage, "/login", { login: y.username, password: y.password });
    expect(next.location).toBeUndefined();
    expect(isConsentPage(next)).toBe(true);
    const rows = await t.deps.sql`SELECT 1 FROM consents WHERE user_id = ${y.id}`;
    expect(rows.length).toBe(0);
  });
});
