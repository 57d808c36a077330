// RP-Initiated Logout 1.0 at the end_session_endpoint: a verified id_token_hint for the signed-in
// user ends the session at once; anything else asks the user (with CSRF); post_logout_redirect_uri
// must be registered exactly; a forged hint never ends anything.
import { describe, expect, test } from "bun:test";
import { SignJWT, generateKeyPair, exportJWK } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, findForm, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";

const t: TestApp = await createTestApp();
const client: OidcTestClient = await createOidcClient(t.deps, { require_consent: false, post_logout_redirect_uris: ["https://rp.example.com/logged-out"] });
const user: OidcTestUser = await createOidcUser(t.deps);
const other: OidcTestUser = await createOidcUser(t.deps);

/** A signed-in browser and the ID token its client received. */
async function signedIn(u: OidcTestUser = user): Promise<{ b: Browser; idToken: string }> {
  const b = Browser.forApp(t);
  const f = await signIn(b, client, u);
  const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
  return { b, idToken: tok.body.id_token! };
}

async function stillSignedIn(b: Browser): Promise<boolean> {
  const r = await b.request(authorizeUrl(authParams(client, pkce().challenge, { prompt: "none" })));
  return callbackParams(r.headers.get("location")!).error === undefined;
}

function logoutUrl(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `/oidc/logout?${q}`;
}

describe("RP-initiated logout", () => {
  test("a verified id_token_hint of the signed-in user ends the session and returns to the registered URI with state", async () => {
    const { b, idToken } = await signedIn();
    const sid = jwtPayload(idToken).sid;
    const r = await b.request(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: "https://rp.example.com/logged-out", state: "bye" }));
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("https://rp.example.com/logged-out?state=bye");
    expect(r.headers.getSetCookie().some((c) => c.startsWith("authly_session=;") && c.includes("Max-Age=0"))).toBe(true);
    const [row] = await t.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM sessions WHERE id = ${sid}`;
    expect(row!.revoked_at).not.toBeNull();
    expect(await stillSignedIn(b)).toBe(false);
    const audit = await t.deps.sql`SELECT 1 FROM audit_log WHERE action = 'logout' AND target_id = ${sid}`;
    expect(audit.length).toBe(1);
  });

  test("the revoked session stays dead even if the old cookie is replayed", async () => {
    const { b, idToken } = await signedIn();
    const jar = new Map(b.jar);
    await b.request(logoutUrl({ id_token_hint: idToken }));
    for (const [k, v] of jar) b.jar.set(k, v);
    expect(await stillSignedIn(b)).toBe(false);
  });

  test("client_id with the hint, and a POSTed logout request, work too", async () => {
    const { b, idToken } = await signedIn();
    const r = await b.request("/oidc/logout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ id_token_hint: idToken, client_id: client.client_id, post_logout_redirect_uri: "https://rp.example.com/logged-out" }).toString(),
    });
    expect(r.status).toBe(303);
    expect(await stillSignedIn(b)).toBe(false);
  });

  test("an unregistered post_logout_redirect_uri is an error page: no redirect, the session survives", async () => {
    const { b, idToken } = await signedIn();
    for (const uri of ["https://evil.example/", "https://rp.example.com/logged-out/extra", "https://rp.example.com/logged-out?x=1"]) {
      const r = await b.request(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: uri }));
      expect(r.status).toBe(400);
      expect(r.headers.get("location")).toBeNull();
    }
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("post_logout_redirect_uri without client_id or id_token_hint is refused", async () => {
    const { b } = await signedIn();
    const r = await b.request(logoutUrl({ post_logout_redirect_uri: "https://rp.example.com/logged-out" }));
    expect(r.status).toBe(400);
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("a client_id that is not the hint's audience is refused", async () => {
    const other = await createOidcClient(t.deps);
    const { b, idToken } = await signedIn();
    const r = await b.request(logoutUrl({ id_token_hint: idToken, client_id: other.client_id }));
    expect(r.status).toBe(400);
    expect(await stillSignedIn(b)).toBe(true);
  });
});

describe("forged or mismatching hints never log anyone out", () => {
  test("a hint signed by another key (same kid, same claims) is rejected; the session survives", async () => {
    const { b, idToken } = await signedIn();
    const header = JSON.parse(Buffer.from(idToken.split(".")[0]!, "base64url").toString());
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(jwtPayload(idToken)).setProtectedHeader({ alg: "RS256", kid: header.kid }).sign(privateKey);
    const r = await b.request(logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: "https://rp.example.com/logged-out" }));
    expect(r.status).toBe(400);
    expect(r.headers.get("location")).toBeNull();
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("a hint with a changed payload, alg none, or an attacker's embedded key is rejected", async () => {
    const { b, idToken } = await signedIn();
    const [h, , s] = idToken.split(".");
    const payload = Buffer.from(JSON.stringify({ ...jwtPayload(idToken), sub: other.id })).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${payload}.`;
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = await exportJWK(publicKey);
    const embedded = await new SignJWT(jwtPayload(idToken)).setProtectedHeader({ alg: "ES256", jwk }).sign(privateKey);
    for (const bad of [`${h}.${payload}.${s}`, none, embedded, "not-a-jwt"]) {
      const r = await b.request(logoutUrl({ id_token_hint: bad }));
      expect(r.status).toBe(400);
    }
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("an access token is not accepted as id_token_hint", async () => {
    const b = Browser.forApp(t);
    const f = await signIn(b, client, user);
    const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
    const r = await b.request(logoutUrl({ id_token_hint: tok.body.access_token }));
    expect(r.status).toBe(400);
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("a valid hint of another user asks for confirmation instead of logging out", async () => {
    const { idToken: othersToken } = await signedIn(other);
    const { b } = await signedIn(user);
    const r = await b.request(logoutUrl({ id_token_hint: othersToken, post_logout_redirect_uri: "https://rp.example.com/logged-out" }));
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Sign out?");
    expect(await stillSignedIn(b)).toBe(true);
  });
});

describe("the confirmation page", () => {
  test("without a hint the user is asked; confirming with the CSRF token ends the session and redirects with state", async () => {
    const { b } = await signedIn();
    const page = await b.open(logoutUrl({ client_id: client.client_id, post_logout_redirect_uri: "https://rp.example.com/logged-out", state: "s9" }));
    expect(page.status).toBe(200);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(await stillSignedIn(b)).toBe(true);
    const done = await b.submit(page, "/oidc/logout/confirm", { logout: "yes" });
    expect(done.location).toBe("https://rp.example.com/logged-out?state=s9");
    expect(await stillSignedIn(b)).toBe(false);
  });

  test("a confirmation without or with a wrong CSRF token is refused (cross-site logout)", async () => {
    const { b } = await signedIn();
    const page = await b.open(logoutUrl({}));
    const missing = await b.submit(page, "/oidc/logout/confirm", { logout: "yes" }, { omit: ["csrf_token"] });
    expect(missing.status).toBe(403);
    const wrong = await b.submit(page, "/oidc/logout/confirm", { logout: "yes", csrf_token: "forged" });
    expect(wrong.status).toBe(403);
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("the CSRF token of one browser's session does not work for another", async () => {
    const a = await signedIn();
    const v = await signedIn();
    const pageA = await a.b.open(logoutUrl({}));
    const token = findForm(pageA.html, "/oidc/logout/confirm").hidden.csrf_token!;
    const pageV = await v.b.open(logoutUrl({}));
    const r = await v.b.submit(pageV, "/oidc/logout/confirm", { logout: "yes", csrf_token: token });
    expect(r.status).toBe(403);
    expect(await stillSignedIn(v.b)).toBe(true);
  });

  test("choosing to stay signed in keeps the session", async () => {
    const { b } = await signedIn();
    const page = await b.open(logoutUrl({}));
    const stay = await b.submit(page, "/oidc/logout/confirm", { logout: "no" });
    expect(stay.status).toBe(200);
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("the redirect target posted to the confirmation is checked again", async () => {
    const { b } = await signedIn();
    const page = await b.open(logoutUrl({}));
    const r = await b.submit(page, "/oidc/logout/confirm", { logout: "yes", client_id: client.client_id, post_logout_redirect_uri: "https://evil.example/" });
    expect(r.status).toBe(400);
    expect(r.location).toBeUndefined();
    expect(await stillSignedIn(b)).toBe(true);
  });

  test("without a session there is nothing to end: straight back to the registered URI, or a signed-out page", async () => {
    const b = Browser.forApp(t);
    const r = await b.request(logoutUrl({ client_id: client.client_id, post_logout_redirect_uri: "https://rp.example.com/logged-out", state: "z" }));
    expect(r.headers.get("location")).toBe("https://rp.example.com/logged-out?state=z");
    const p = await b.open(logoutUrl({}));
    expect(p.html).toContain("You are signed out");
  });
});
