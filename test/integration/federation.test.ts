// Upstream identity providers end to end: a second Authly server (B, its own database) is the
// upstream OpenID Connect provider of the server under test (A). The browser is driven by HTTP
// through both servers' real pages: A's login page -> B's login and consent -> A's callback.
import { describe, expect, test } from "bun:test";
import { startTestServer } from "../support/app";
import { auditRows, startAdminApi } from "../support/admin";
import { Browser, authorizeUrl, decodeEntities, isLoginPage, pkce } from "../support/browser";
import { upstreamSignIn } from "../support/federation";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { authParams } from "../support/oidc-flow";

const a = await startAdminApi();
const b = await startTestServer();
const callback = `${a.url}/federation/callback`;
// A is a confidential client of B.
const upstreamClient = await createOidcClient(b.deps, { redirect_uris: [callback], scopes: ["openid", "profile", "email"], require_consent: false });
// The relying party of A.
const rp = await createOidcClient(a.deps, { redirect_uris: ["https://rp.example.com/callback"], require_consent: false });

const created = await a.call("POST", "/admin/idps", {
  body: { slug: "bee", name: "Authly B", kind: "oidc", issuer: b.url, client_id: upstreamClient.client_id, client_secret: upstreamClient.client_secret },
});

const { throughB, signInAtA, subjectAtA } = upstreamSignIn({ aUrl: a.url, bUrl: b.url, rp });

describe("registering an upstream OpenID Connect provider", () => {
  test("discovers the endpoints from the issuer and never returns the client secret", async () => {
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: "bee", kind: "oidc", issuer: b.url, token_endpoint: `${b.url}/oauth/token`, jwks_uri: expect.stringContaining(b.url), has_client_secret: true, redirect_uri: callback });
    expect(created.body.client_secret).toBeUndefined();
    const [row] = await a.deps.sql<{ client_secret_sealed: string }[]>`SELECT client_secret_sealed FROM upstream_idps WHERE slug = 'bee'`;
    expect(row!.client_secret_sealed.startsWith("v1.")).toBe(true);
    expect(row!.client_secret_sealed).not.toContain(upstreamClient.client_secret!);
  });

  test("refuses an issuer whose discovery document names another issuer (OpenID Connect Discovery §4.3)", async () => {
    const r = await a.call("POST", "/admin/idps", { body: { slug: "wrong", name: "Wrong", kind: "oidc", issuer: `${b.url}/`, client_id: "x" } });
    expect(r.status).toBe(400);
    expect(r.body.fields[0].field).toBe("issuer");
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM upstream_idps WHERE slug = 'wrong'`)[0]!.n).toBe(0);
  });

  test("a plain OAuth 2.0 provider needs explicit endpoints and a subject mapping (GitHub's shape)", async () => {
    const bad = await a.call("POST", "/admin/idps", { body: { slug: "gh", name: "GitHub", kind: "oauth2", client_id: "x", authorization_endpoint: "https://github.com/login/oauth/authorize" } });
    expect(bad.status).toBe(400);
    const fields = bad.body.fields.map((f: { field: string }) => f.field);
    expect(fields).toContain("token_endpoint");
    expect(fields).toContain("claim_mapping");
    const ok = await a.call("POST", "/admin/idps", {
      body: { slug: "gh", name: "GitHub", kind: "oauth2", client_id: "x", client_secret: "y", authorization_endpoint: "https://github.com/login/oauth/authorize", token_endpoint: "https://github.com/login/oauth/access_token", userinfo_endpoint: "https://api.github.com/user", scopes: ["read:user", "user:email"], claim_mapping: { subject: "id", username: "login" }, is_enabled: false },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ kind: "oauth2", jwks_uri: null, claim_mapping: { subject: "id", username: "login" }, is_enabled: false });
  });
});

const bUser = await createOidcUser(b.deps);

describe("managing providers", () => {
  test("updates are partial and audited by field name, never with the secret; a new secret is sealed again; unknown slugs are 404", async () => {
    const before = (await a.deps.sql<{ client_secret_sealed: string }[]>`SELECT client_secret_sealed FROM upstream_idps WHERE slug = 'gh'`)[0]!.client_secret_sealed;
    const r = await a.call("PATCH", "/admin/idps/gh", { body: { client_secret: "rotated-secret-value", scopes: ["read:user"] } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ scopes: ["read:user"], has_client_secret: true, name: "GitHub" });
    const after = (await a.deps.sql<{ client_secret_sealed: string }[]>`SELECT client_secret_sealed FROM upstream_idps WHERE slug = 'gh'`)[0]!.client_secret_sealed;
    expect(after).not.toBe(before);
    const [row] = await auditRows(a.deps, "idp.update");
    expect(row!.details.fields).toEqual(["client_secret", "scopes"]);
    expect(JSON.stringify(row)).not.toContain("rotated-secret-value");
    expect((await a.call("PATCH", "/admin/idps/gh", { body: { claim_mapping: { subject: "id", is_admin: "site_admin" } } })).status).toBe(400);
    expect((await a.call("GET", "/admin/idps/nope")).status).toBe(404);
    expect((await a.call("DELETE", "/admin/idps/nope")).status).toBe(404);
    expect((await a.call("POST", "/admin/idps", { body: { slug: "bee", name: "Again", kind: "oidc", issuer: b.url, client_id: "x" } })).status).toBe(409);
  });
});

describe("signing in at A through B", () => {

  test("the first sign-in creates the user just in time; the next one lands on the same account", async () => {
    const browserB = Browser.forServer(b.url);
    const first = await signInAtA(Browser.forServer(a.url), browserB, bUser);
    const claims = await subjectAtA(first.end, first.verifier);
    const [user] = await a.deps.sql<{ id: string; email: string; email_verified: boolean; password_hash: string | null }[]>`SELECT * FROM users WHERE id = ${claims.sub}`;
    expect(user).toMatchObject({ email: bUser.email, email_verified: true, password_hash: null });
    const [identity] = await a.deps.sql`SELECT * FROM user_identities WHERE user_id = ${claims.sub}`;
    expect(identity!.subject).toBe(bUser.id);
    // A new browser at A; B still knows the user.
    const again = await signInAtA(Browser.forServer(a.url), browserB, undefined);
    expect((await subjectAtA(again.end, again.verifier)).sub).toBe(claims.sub);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM user_identities WHERE subject = ${bUser.id}`)[0]!.n).toBe(1);
    // The admin sees the linked identity.
    const ids = await a.call("GET", `/admin/users/${claims.sub}/identities`);
    expect(ids.body.identities).toEqual([expect.objectContaining({ idp: "bee", subject: bUser.id })]);
  });

  test("the session records B's amr and auth_time, and acr at our password level", async () => {
    const u = await createOidcUser(b.deps);
    const r = await signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), u);
    const claims = await subjectAtA(r.end, r.verifier);
    const [s] = await a.deps.sql<{ amr: string[]; acr: string; auth_time: Date; upstream_idp_id: string }[]>`SELECT * FROM sessions WHERE user_id = ${claims.sub}`;
    expect(s!.amr).toEqual(["pwd"]);
    expect(s!.acr).toBe("urn:authly:acr:pwd");
    expect(s!.upstream_idp_id).toBeTruthy();
    const [bs] = await b.deps.sql<{ auth_time: Date }[]>`SELECT auth_time FROM sessions WHERE user_id = ${u.id}`;
    expect(Math.floor(s!.auth_time.getTime() / 1000)).toBe(Math.floor(bs!.auth_time.getTime() / 1000));
    expect(claims.amr).toEqual(["pwd"]);
  });

  test("idp_hint goes straight to the provider", async () => {
    const { challenge } = pkce();
    const page = await Browser.forServer(a.url).open(authorizeUrl(authParams(rp, challenge, { idp_hint: "bee" })));
    expect(page.location?.startsWith(`${b.url}/oauth/authorize?`)).toBe(true);
    const q = new URL(page.location!).searchParams;
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("nonce")).toBeTruthy();
    expect(q.get("redirect_uri")).toBe(callback);
  });

  test("refuses to link by email: an unverified email of a local account neither links nor creates a user", async () => {
    const local = await createOidcUser(a.deps);
    const upstream = await createOidcUser(b.deps, { email: local.email });
    await b.deps.sql`UPDATE users SET email_verified = false WHERE id = ${upstream.id}`;
    const r = await signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), upstream);
    expect(r.end.status).toBe(400);
    expect(r.end.html).toContain("An account with this email address already exists here");
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM user_identities WHERE subject = ${upstream.id}`)[0]!.n).toBe(0);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower(${local.email})`)[0]!.n).toBe(1);
    expect((await auditRows(a.deps, "identity.link_refused"))[0]!.details).toMatchObject({ reason: "email_in_use", email_verified: false });
  });

  test("a verified email match is refused too; after a local sign-in the account links from /account and then signs in through B", async () => {
    const local = await createOidcUser(a.deps);
    const upstream = await createOidcUser(b.deps, { email: local.email });
    const browserB = Browser.forServer(b.url);
    const refused = await signInAtA(Browser.forServer(a.url), browserB, upstream);
    expect(refused.end.status).toBe(400);
    // Signed in locally at A, the user links B from the account page.
    const browserA = Browser.forServer(a.url);
    let acct = await browserA.open("/account");
    expect(isLoginPage(acct)).toBe(true);
    acct = await browserA.submit(acct, "/login", { login: local.username, password: local.password });
    expect(acct.html).toContain("Linked sign-ins");
    const href = decodeEntities(/<a class="button secondary" href="([^"]+)" aria-label="Link Authly B">/.exec(acct.html)![1]!);
    const end = await throughB(browserA, browserB, undefined, await browserA.open(href));
    expect(end.html).toContain("The sign-in provider was linked to your account.");
    const [identity] = await a.deps.sql`SELECT * FROM user_identities WHERE subject = ${upstream.id}`;
    expect(identity!.user_id).toBe(local.id);
    // From now on B signs this user in at A.
    const r = await signInAtA(Browser.forServer(a.url), browserB, undefined);
    expect((await subjectAtA(r.end, r.verifier)).sub).toBe(local.id);
    // The user removes the linked identity on the account page.
    const page = await browserA.open("/account");
    const removed = await browserA.submit(page, `/account/identities/${identity!.id}/remove`);
    expect(removed.html).toContain("The linked sign-in was removed.");
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM user_identities WHERE id = ${identity!.id}`)[0]!.n).toBe(0);
  });

  test("a callback whose iss is not the provider's is refused (RFC 9207 §2.4), and its state cannot be used again", async () => {
    const browserA = Browser.forServer(a.url);
    const { challenge } = pkce();
    const start = await browserA.open(authorizeUrl(authParams(rp, challenge, { idp_hint: "bee" })));
    const state = new URL(start.location!).searchParams.get("state")!;
    const flowCookie = [...browserA.jar].find(([k]) => k.endsWith("authly_federation"))!;
    const mixed = await browserA.open(`/federation/callback?code=x&state=${state}&iss=${encodeURIComponent("https://evil.example")}`);
    expect(mixed.status).toBe(400);
    expect(mixed.html).toContain("did not come from Authly B");
    browserA.jar.set(flowCookie[0], flowCookie[1]); // the same browser tries the state again
    const replay = await browserA.open(`/federation/callback?code=x&state=${state}&iss=${encodeURIComponent(b.url)}`);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain("expired, was already used, or was started in another browser");
  });

  test("a callback from another browser (no flow cookie) is refused: state is bound to the browser", async () => {
    const browserA = Browser.forServer(a.url);
    const { challenge } = pkce();
    const start = await browserA.open(authorizeUrl(authParams(rp, challenge, { idp_hint: "bee" })));
    const state = new URL(start.location!).searchParams.get("state")!;
    const other = await Browser.forServer(a.url).open(`/federation/callback?code=x&state=${state}`);
    expect(other.status).toBe(400);
  });

  test("the login page shows a button per enabled provider only", async () => {
    const { challenge } = pkce();
    const page = await Browser.forServer(a.url).open(authorizeUrl(authParams(rp, challenge)));
    expect(page.html).toContain("Sign in with Authly B");
    expect(page.html).not.toContain("Sign in with GitHub");
  });

  test("a federated session cannot link another provider, and a password-less account keeps its last linked sign-in", async () => {
    const u = await createOidcUser(b.deps);
    const browserA = Browser.forServer(a.url);
    const r = await signInAtA(browserA, Browser.forServer(b.url), u);
    const claims = await subjectAtA(r.end, r.verifier);
    const acct = await browserA.open("/account");
    expect(acct.html).toContain("Linked sign-ins");
    const href = decodeEntities(/<a class="button secondary" href="([^"]+)" aria-label="Link Authly B">/.exec(acct.html)![1]!);
    const link = await browserA.open(href);
    expect(link.html).toContain("sign in with your password (or passkey) first");
    const [identity] = await a.deps.sql`SELECT id FROM user_identities WHERE user_id = ${claims.sub}`;
    const kept = await browserA.submit(await browserA.open("/account"), `/account/identities/${identity!.id}/remove`);
    expect(kept.html).toContain("It cannot be removed.");
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM user_identities WHERE id = ${identity!.id}`)[0]!.n).toBe(1);
  });

  test("an identity linked to one account cannot be linked to another", async () => {
    const holder = await createOidcUser(b.deps);
    const browserB = Browser.forServer(b.url);
    const first = await signInAtA(Browser.forServer(a.url), browserB, holder);
    await subjectAtA(first.end, first.verifier);
    const local = await createOidcUser(a.deps);
    const browserA = Browser.forServer(a.url);
    let acct = await browserA.open("/account");
    acct = await browserA.submit(acct, "/login", { login: local.username, password: local.password });
    const href = decodeEntities(/<a class="button secondary" href="([^"]+)" aria-label="Link Authly B">/.exec(acct.html)![1]!);
    const end = await throughB(browserA, browserB, undefined, await browserA.open(href));
    expect(end.status).toBe(400);
    expect(end.html).toContain("already linked to another account");
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM user_identities WHERE user_id = ${local.id}`)[0]!.n).toBe(0);
  });

  test("a disabled provider disappears from the login page and an idp_hint for it shows the login page", async () => {
    expect((await a.call("PATCH", "/admin/idps/bee", { body: { is_enabled: false } })).status).toBe(200);
    try {
      const { challenge } = pkce();
      const page = await Browser.forServer(a.url).open(authorizeUrl(authParams(rp, challenge, { idp_hint: "bee" })));
      expect(isLoginPage(page)).toBe(true);
      expect(page.html).not.toContain("Sign in with Authly B");
    } finally {
      await a.call("PATCH", "/admin/idps/bee", { body: { is_enabled: true } });
    }
  });

  test("with create_users off, an unknown identity is refused and no user is created", async () => {
    await a.call("PATCH", "/admin/idps/bee", { body: { create_users: false } });
    try {
      const u = await createOidcUser(b.deps);
      const r = await signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), u);
      expect(r.end.status).toBe(400);
      expect(r.end.html).toContain("No account here is linked");
      expect((await a.deps.sql`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower(${u.email})`)[0]!.n).toBe(0);
    } finally {
      await a.call("PATCH", "/admin/idps/bee", { body: { create_users: true } });
    }
  });

  test("a plain OAuth 2.0 provider: the account comes from its userinfo (mapped subject); the session claims no amr beyond what was asserted", async () => {
    const reg = await a.call("POST", "/admin/idps", {
      body: { slug: "bee-oauth", name: "B as OAuth", kind: "oauth2", client_id: upstreamClient.client_id, client_secret: upstreamClient.client_secret, authorization_endpoint: `${b.url}/oauth/authorize`, token_endpoint: `${b.url}/oauth/token`, userinfo_endpoint: `${b.url}/oidc/userinfo`, scopes: ["openid", "email"], claim_mapping: { subject: "sub", username: "email" } },
    });
    expect(reg.status).toBe(201);
    try {
      const u = await createOidcUser(b.deps);
      const r = await signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), u, { idp_hint: "bee-oauth" });
      const claims = await subjectAtA(r.end, r.verifier);
      const [identity] = await a.deps.sql<{ subject: string; slug: string }[]>`SELECT i.subject, p.slug FROM user_identities i JOIN upstream_idps p ON p.id = i.idp_id WHERE i.user_id = ${claims.sub}`;
      expect(identity).toEqual({ subject: u.id, slug: "bee-oauth" });
      const [s] = await a.deps.sql<{ amr: string[]; acr: string }[]>`SELECT amr, acr FROM sessions WHERE user_id = ${claims.sub}`;
      expect(s).toEqual({ amr: [], acr: "urn:authly:acr:pwd" });
      expect(claims.amr).toBeUndefined();
    } finally {
      await a.call("DELETE", "/admin/idps/bee-oauth");
    }
  });
});
