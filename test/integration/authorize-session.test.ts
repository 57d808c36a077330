// The browser session and the prompt/max_age/hint parameters (OIDC Core §3.1.2.1, §3.1.2.3),
// driven through the real login and consent pages with a cookie jar; consent remembered per
// user, client and scope set. Each conformance module is named in its test.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, isConsentPage, isLoginPage, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";

const t: TestApp = await createTestApp();
const user: OidcTestUser = await createOidcUser(t.deps);
const other: OidcTestUser = await createOidcUser(t.deps);

async function newClient(extra: Parameters<typeof createOidcClient>[1] = {}): Promise<OidcTestClient> {
  return createOidcClient(t.deps, { client_name: "Session Tests", ...extra });
}

async function idToken(client: OidcTestClient, code: string, verifier: string): Promise<Record<string, any>> {
  const tok = await exchangeCode(t, client, code, verifier);
  expect(tok.status).toBe(200);
  return jwtPayload(tok.body.id_token!);
}

/** Pretends the user signed in `seconds` ago (no sleeping in tests). */
async function ageSession(seconds: number): Promise<void> {
  await t.deps.sql`UPDATE sessions SET auth_time = now() - make_interval(secs => ${seconds}) WHERE revoked_at IS NULL`;
}

describe("conformance: basic flows", () => {
  test("oidcc-server: login, consent and code; the ID token has iss, sub, aud, exp, iat, auth_time, nonce, sid, amr", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const f = await signIn(b, client, user, { nonce: "server-nonce" });
    expect(f.seen).toEqual({ login: true, consent: true });
    const id = await idToken(client, f.callback.code!, f.verifier);
    expect(id.iss).toBe(t.issuer);
    expect(id.sub).toBe(user.id);
    expect(id.aud).toBe(client.client_id);
    expect(id.nonce).toBe("server-nonce");
    expect(typeof id.auth_time).toBe("number");
    expect(typeof id.sid).toBe("string");
    expect(id.amr).toEqual(["pwd"]);
    expect(id.exp).toBeGreaterThan(id.iat);
  });

  test("oidcc-ensure-request-without-nonce-succeeds-for-code-flow: nonce is optional in the code flow", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { nonce: undefined });
    const id = await idToken(client, f.callback.code!, f.verifier);
    expect(id.nonce).toBeUndefined();
  });

  test("oidcc-alternate-happy-flow: a second client in the same browser gets its own consent, no second login", async () => {
    const b = Browser.forApp(t);
    const a = await newClient();
    const c = await newClient({ client_name: "Second App" });
    const f1 = await signIn(b, a, user, { scope: "openid email" });
    expect(f1.seen.login).toBe(true);
    const f2 = await signIn(b, c, user, { scope: "openid profile" });
    expect(f2.seen).toEqual({ login: false, consent: true });
    const id = await idToken(c, f2.callback.code!, f2.verifier);
    expect(id.sub).toBe(user.id);
  });

  test("oidcc-display-page: display=page is accepted", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { display: "page" });
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-display-popup: display=popup is accepted", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { display: "popup" });
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-ui-locales: ui_locales is accepted", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { ui_locales: "fr-CA fr en" });
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-claims-locales: claims_locales is accepted", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { claims_locales: "de en" });
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-ensure-request-with-acr-values-succeeds: acr_values is accepted", async () => {
    const client = await newClient();
    const f = await signIn(Browser.forApp(t), client, user, { acr_values: "urn:mace:incommon:iap:silver 1" });
    expect(f.callback.code).toBeTruthy();
  });
});

describe("prompt (OIDC Core §3.1.2.1)", () => {
  test("oidcc-prompt-none-not-logged-in: prompt=none without a session is login_required, with state, no page", async () => {
    const client = await newClient();
    const { challenge } = pkce();
    const r = await Browser.forApp(t).request(authorizeUrl(authParams(client, challenge, { prompt: "none", state: "pn" })));
    expect(r.status).toBe(303);
    const p = callbackParams(r.headers.get("location")!);
    expect(p).toMatchObject({ error: "login_required", state: "pn", iss: t.issuer });
  });

  test("oidcc-prompt-none-logged-in: prompt=none with a session and remembered consent returns a code at once", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user);
    const firstId = await idToken(client, first.callback.code!, first.verifier);
    const { verifier, challenge } = pkce();
    const r = await b.request(authorizeUrl(authParams(client, challenge, { prompt: "none", state: "pn2" })));
    expect(r.status).toBe(303);
    const p = callbackParams(r.headers.get("location")!);
    expect(p.state).toBe("pn2");
    const id = await idToken(client, p.code!, verifier);
    expect(id.sub).toBe(user.id);
    expect(id.auth_time).toBe(firstId.auth_time);
  });

  test("prompt=none with a session but without consent is consent_required", async () => {
    const a = await newClient();
    const c = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, a, user);
    const r = await b.request(authorizeUrl(authParams(c, pkce().challenge, { prompt: "none" })));
    expect(callbackParams(r.headers.get("location")!).error).toBe("consent_required");
  });

  test("oidcc-prompt-login: prompt=login shows the login page although a session exists; auth_time moves on", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user);
    const id1 = await idToken(client, first.callback.code!, first.verifier);
    await ageSession(5);
    const second = await signIn(b, client, user, { prompt: "login" });
    expect(second.seen.login).toBe(true);
    const id2 = await idToken(client, second.callback.code!, second.verifier);
    expect(id2.auth_time).toBeGreaterThan(id1.auth_time - 5);
    expect(id2.sid).not.toBe(id1.sid);
  });

  test("prompt=consent shows the consent page again although consent is remembered", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    const again = await signIn(b, client, user, { prompt: "consent" });
    expect(again.seen).toEqual({ login: false, consent: true });
  });

  test("consent is remembered per user, client and scope set: a wider scope asks again, a narrower one does not", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    expect((await signIn(b, client, user, { scope: "openid email" })).seen.consent).toBe(true);
    expect((await signIn(b, client, user, { scope: "openid" })).seen.consent).toBe(false);
    expect((await signIn(b, client, user, { scope: "openid email profile" })).seen.consent).toBe(true);
    expect((await signIn(b, client, user, { scope: "openid profile" })).seen.consent).toBe(false);
    const b2 = Browser.forApp(t);
    expect((await signIn(b2, client, other, { scope: "openid" })).seen.consent).toBe(true);
  });

  test("a first-party client and a client registered without consent skip the consent page", async () => {
    const fp = await newClient({ is_first_party: true });
    const nc = await newClient({ require_consent: false });
    const b = Browser.forApp(t);
    expect((await signIn(b, fp, user)).seen).toEqual({ login: true, consent: false });
    expect((await signIn(b, nc, user)).seen).toEqual({ login: false, consent: false });
  });

  test("a sign-in that needs nothing more goes straight back to the client: one redirect with the code and the session cookie; the same form again gets no second code", async () => {
    const client = await newClient({ require_consent: false });
    const b = Browser.forApp(t);
    const { verifier, challenge } = pkce();
    const page = await b.open(authorizeUrl(authParams(client, challenge, { state: "one-hop" })));
    expect(isLoginPage(page)).toBe(true);
    const form = { csrf_token: /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!, login: user.username, password: user.password };
    const post = () => b.request(`${page.url}/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    const res = await post();
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location.startsWith(client.redirect_uri)).toBe(true);
    const cb = callbackParams(location);
    expect(cb.state).toBe("one-hop");
    expect(cb.iss).toBe(t.issuer);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("authly_session="))).toBe(true);
    expect(jwtPayload((await exchangeCode(t, client, cb.code!, verifier)).body.id_token!).sub).toBe(user.id);
    // A double submit: the interaction is over, no second code.
    const again = await post();
    expect(again.status).toBe(400);
    expect(again.headers.get("location")).toBeNull();
  });

  test("denying consent returns access_denied with state; nothing is remembered", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    let page = await b.open(authorizeUrl(authParams(client, pkce().challenge, { state: "deny" })));
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    expect(isConsentPage(page)).toBe(true);
    page = await b.submit(page, "/consent", { decision: "deny" });
    expect(callbackParams(page.location!)).toMatchObject({ error: "access_denied", state: "deny", iss: t.issuer });
    const [row] = await t.deps.sql`SELECT count(*)::int AS n FROM consents WHERE client_id = ${client.client_id}`;
    expect(row!.n).toBe(0);
  });

  test("cancelling on the login page returns access_denied to the client", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge, { state: "cx" })));
    const out = await b.submit(page, "/cancel");
    expect(callbackParams(out.location!)).toMatchObject({ error: "access_denied", state: "cx" });
  });
});

describe("max_age, login_hint, id_token_hint", () => {
  test("oidcc-max-age-1: a session older than max_age forces a new login; auth_time is the new login time", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user);
    const id1 = await idToken(client, first.callback.code!, first.verifier);
    await ageSession(60);
    const second = await signIn(b, client, user, { max_age: "1" });
    expect(second.seen.login).toBe(true);
    const id2 = await idToken(client, second.callback.code!, second.verifier);
    expect(typeof id2.auth_time).toBe("number");
    expect(id2.auth_time).toBeGreaterThanOrEqual(id1.auth_time);
    expect(Math.floor(Date.now() / 1000) - id2.auth_time).toBeLessThan(30);
  });

  test("max_age with prompt=none and an old session is login_required", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    await ageSession(60);
    const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { max_age: "10", prompt: "none" })));
    expect(callbackParams(r.headers.get("location")!).error).toBe("login_required");
  });

  test("oidcc-max-age-10000: a recent session satisfies max_age; no login page; auth_time present", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user);
    const id1 = await idToken(client, first.callback.code!, first.verifier);
    const second = await signIn(b, client, user, { max_age: "10000" });
    expect(second.seen.login).toBe(false);
    const id2 = await idToken(client, second.callback.code!, second.verifier);
    expect(id2.auth_time).toBe(id1.auth_time);
  });

  test("oidcc-login-hint: login_hint prefills the username field", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge, { login_hint: user.email })));
    expect(isLoginPage(page)).toBe(true);
    expect(page.html).toContain(`name="login" value="${user.email}"`);
    const hint = await b.open(authorizeUrl(authParams(client, pkce().challenge, { login_hint: '"><script>alert(1)</script>' })));
    expect(hint.html).not.toContain("<script>alert(1)");
  });

  test("oidcc-id-token-hint: prompt=none with the ID token of the signed-in user returns a code for that user", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const first = await signIn(b, client, user);
    const tok = await exchangeCode(t, client, first.callback.code!, first.verifier);
    const { verifier, challenge } = pkce();
    const r = await b.request(authorizeUrl(authParams(client, challenge, { prompt: "none", id_token_hint: tok.body.id_token })));
    const p = callbackParams(r.headers.get("location")!);
    expect(p.error).toBeUndefined();
    const id = await idToken(client, p.code!, verifier);
    expect(id.sub).toBe(user.id);
  });

  test("an id_token_hint for another user than the session's: prompt=none is login_required; otherwise the login page", async () => {
    const client = await newClient();
    const bo = Browser.forApp(t);
    const fo = await signIn(bo, client, other);
    const otherToken = (await exchangeCode(t, client, fo.callback.code!, fo.verifier)).body.id_token!;
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none", id_token_hint: otherToken })));
    expect(callbackParams(r.headers.get("location")!).error).toBe("login_required");
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge, { id_token_hint: otherToken })));
    expect(isLoginPage(page)).toBe(true);
  });
});

describe("the SSO session cookie", () => {
  test("is HttpOnly, SameSite=Lax, opaque, and stored only as a hash", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge)));
    const loginRes = await b.request(`${page.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf_token: /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!, login: user.username, password: user.password }).toString(),
    });
    expect(loginRes.status).toBe(303);
    const cookie = loginRes.headers.getSetCookie().find((c) => c.startsWith("authly_session="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    // Plain-HTTP loopback issuer in dev mode: no Secure (browsers would drop it); see the https test below.
    expect(cookie).not.toContain("Secure");
    const value = cookie.split(";")[0]!.split("=")[1]!;
    expect(value.length).toBeGreaterThanOrEqual(43);
    const rows = await t.deps.sql`SELECT token_hash FROM sessions WHERE token_hash = ${value}`;
    expect(rows.length).toBe(0);
  });

  test("an https issuer gets Secure __Host- cookies", async () => {
    const s = await createTestApp({ env: { AUTHLY_ISSUER: "https://id.example.com", AUTHLY_DEV_MODE: "false" } });
    const client = await createOidcClient(s.deps);
    const r = await s.request(authorizeUrl(authParams(client, pkce().challenge)));
    const cookie = r.headers.getSetCookie().join("\n");
    expect(cookie).toContain("__Host-authly_browser=");
    expect(cookie).toContain("Secure");
  });

  test("a session past its idle lifetime is gone: the login page is shown again", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    await t.deps.sql`UPDATE sessions SET idle_expires_at = now() - interval '1 second' WHERE revoked_at IS NULL`;
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge)));
    expect(isLoginPage(page)).toBe(true);
  });

  test("a session past its absolute lifetime is gone", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    await t.deps.sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE revoked_at IS NULL`;
    const page = await b.open(authorizeUrl(authParams(client, pkce().challenge)));
    expect(isLoginPage(page)).toBe(true);
  });

  test("a deactivated user's session no longer signs anyone in", async () => {
    const u = await createOidcUser(t.deps);
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, u);
    await t.deps.sql`UPDATE users SET is_active = false WHERE id = ${u.id}`;
    const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none" })));
    expect(callbackParams(r.headers.get("location")!).error).toBe("login_required");
  });
});

describe("switching account on the consent page", () => {
  test("'Not you?' asks for a login; the code is then for the other user", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, await newClient(), user);
    let page = await b.open(authorizeUrl(authParams(client, pkce().challenge)));
    expect(isConsentPage(page)).toBe(true);
    page = await b.submit(page, "/switch");
    expect(isLoginPage(page)).toBe(true);
    page = await b.submit(page, "/login", { login: other.username, password: other.password });
    expect(isConsentPage(page)).toBe(true);
    expect(page.html).toContain("Ada Lovelace");
    page = await b.submit(page, "/consent", { decision: "allow" });
    const rows = await t.deps.sql`SELECT user_id FROM authorization_codes WHERE client_id = ${client.client_id}`;
    expect(rows.map((r) => r.user_id)).toEqual([other.id]);
    expect(page.location).toBeTruthy();
  });
});

describe("max_age=0", () => {
  test("max_age=0 forces a fresh login like prompt=login", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    const again = await signIn(b, client, user, { max_age: "0" });
    expect(again.seen.login).toBe(true);
  });
});

describe("state lives in PostgreSQL", () => {
  test("a flow started on one node continues on another (interaction, session, code)", async () => {
    const { createApp } = await import("../../src/app");
    const { buildDeps } = await import("../../src/server");
    const depsB = buildDeps(t.deps.config, t.db.sql);
    // As listen() does: a node loads its signing keys before it serves.
    await depsB.keys.refresh();
    depsB.health.ready = true;
    const appB = createApp(depsB, { accessLog: false });
    let turn = 0;
    // Every request goes to the other node.
    const b = new Browser((url, init) => {
      const path = url.startsWith(t.issuer) ? url.slice(t.issuer.length) : url;
      const req = new Request(new URL(path, "http://localhost"), init);
      return turn++ % 2 === 0 ? t.app.handle(req) : appB.handle(req);
    }, t.issuer);
    const client = await newClient();
    const f = await signIn(b, client, user);
    expect(f.seen).toEqual({ login: true, consent: true });
    expect(turn).toBeGreaterThanOrEqual(4);
    const tok = await exchangeCode({ request: (p, i) => appB.handle(new Request(new URL(p, "http://localhost"), i)) }, client, f.callback.code!, f.verifier);
    expect(tok.status).toBe(200);
    const again = await signIn(b, client, user, { prompt: "none" });
    expect(again.callback.code).toBeTruthy();
  });
});

describe("a specific sub in the claims parameter (OIDC Core §3.1.2.2)", () => {
  test("claims.id_token.sub with another user's id: prompt=none is login_required; with the session's user it succeeds", async () => {
    const client = await newClient();
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    const ask = (sub: string) => b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none", claims: JSON.stringify({ id_token: { sub: { value: sub } } }) })));
    expect(callbackParams((await ask(other.id)).headers.get("location")!).error).toBe("login_required");
    expect(callbackParams((await ask(user.id)).headers.get("location")!).code).toBeTruthy();
  });
});

describe("an account that must change its password", () => {
  test("signs in only after choosing a new password on the page; no session before that", async () => {
    const u = await createOidcUser(t.deps);
    await t.deps.sql`UPDATE users SET requires_password_change = true WHERE id = ${u.id}`;
    const client = await newClient({ require_consent: false });
    const b = Browser.forApp(t);
    let page = await b.open(authorizeUrl(authParams(client, pkce().challenge)));
    page = await b.submit(page, "/login", { login: u.username, password: u.password });
    expect(page.html).toContain("Choose a new password");
    expect([...b.jar.keys()]).not.toContain("authly_session");
    // Reloading keeps the password page, not a login bypass.
    expect((await b.open(page.url.replace(/\/login$/, ""))).html).toContain("Choose a new password");
    const mismatch = await b.submit(page, "/password", { current_password: u.password, new_password: "brand-new-pass-1", confirm_password: "brand-new-pass-2" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain("do not match");
    const wrong = await b.submit(page, "/password", { current_password: "nope-nope", new_password: "brand-new-pass-1", confirm_password: "brand-new-pass-1" });
    expect(wrong.html).toContain("The current password is wrong.");
    const short = await b.submit(page, "/password", { current_password: u.password, new_password: "short", confirm_password: "short" });
    expect(short.status).toBe(400);
    const done = await b.submit(page, "/password", { current_password: u.password, new_password: "brand-new-pass-1", confirm_password: "brand-new-pass-1" });
    expect(done.location).toBeTruthy();
    expect(callbackParams(done.location!).code).toBeTruthy();
    const [row] = await t.deps.sql<{ requires_password_change: boolean }[]>`SELECT requires_password_change FROM users WHERE id = ${u.id}`;
    expect(row!.requires_password_change).toBe(false);
    const fresh = await signIn(Browser.forApp(t), client, { ...u, password: "brand-new-pass-1" });
    expect(fresh.callback.code).toBeTruthy();
  });
});
