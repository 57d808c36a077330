// Federation end to end with a second Authly server (B, its own database) as the upstream of the
// server under test (A): B's back-channel logout (B is an Authly that sends logout tokens) ends
// the session at A, which tells A's own relying parties (OpenID Connect Back-Channel Logout 1.0
// §2.5-2.8, both sides); forged, replayed and wrong-audience logout tokens are refused; and A
// authenticates at B's token endpoint with private_key_jwt (RFC 7523) and client_secret_post.
import { afterAll, describe, expect, test } from "bun:test";
import { decodeProtectedHeader, generateKeyPair, jwtVerify, createLocalJWKSet, SignJWT } from "jose";
import { auditRows, startAdminApi } from "../support/admin";
import { startTestServer } from "../support/app";
import { Browser, authorizeUrl, isLoginPage, pkce } from "../support/browser";
import { upstreamSignIn } from "../support/federation";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { authParams } from "../support/oidc-flow";
import { loadClient } from "../../src/clients/store";
import { BACKCHANNEL_LOGOUT_EVENT, issueLogoutToken, settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";

const a = await startAdminApi();
const b = await startTestServer();
const callback = `${a.url}/federation/callback`;
const logoutUri = (slug: string) => `${a.url}/federation/backchannel-logout/${slug}`;

// A's relying party, with its own back-channel logout receiver.
const received: { path: string; token: string }[] = [];
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    received.push({ path: new URL(req.url).pathname, token: new URLSearchParams(await req.text()).get("logout_token") ?? "" });
    return new Response(null, { status: 200 });
  },
});
afterAll(() => receiver.stop(true));
const rp = await createOidcClient(a.deps, { redirect_uris: ["https://rp.example.com/callback"], require_consent: false, backchannel_logout_uri: `http://127.0.0.1:${receiver.port}/rp` });

// A is a confidential client of B that registered A's back-channel logout URI there.
const aAtB = await createOidcClient(b.deps, { redirect_uris: [callback], scopes: ["openid", "profile", "email"], require_consent: false, backchannel_logout_uri: logoutUri("bee") });
const created = await a.call("POST", "/admin/idps", {
  body: { slug: "bee", name: "Authly B", kind: "oidc", issuer: b.url, client_id: aAtB.client_id, client_secret: aAtB.client_secret },
});
const { signInAtA, subjectAtA } = upstreamSignIn({ aUrl: a.url, bUrl: b.url, rp });

async function liveSessionAtB(userId: string): Promise<{ id: string; user_id: string }> {
  const [s] = await b.deps.sql<{ id: string; user_id: string }[]>`SELECT id, user_id FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`;
  return s!;
}

async function postLogout(slug: string, token: string): Promise<Response> {
  return fetch(logoutUri(slug), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: token }).toString() });
}

/** A user signed in at A through B, and the RP's grant from that session. */
async function federatedUser(): Promise<{ bUser: OidcTestUser; browserA: Browser; browserB: Browser; localUserId: string; sessionA: { id: string; upstream_sub: string; upstream_sid: string } }> {
  const bUser = await createOidcUser(b.deps);
  const browserA = Browser.forServer(a.url);
  const browserB = Browser.forServer(b.url);
  const r = await signInAtA(browserA, browserB, bUser);
  const claims = await subjectAtA(r.end, r.verifier);
  const [sessionA] = await a.deps.sql<{ id: string; upstream_sub: string; upstream_sid: string }[]>`SELECT id, upstream_sub, upstream_sid FROM sessions WHERE user_id = ${claims.sub} AND revoked_at IS NULL`;
  return { bUser, browserA, browserB, localUserId: claims.sub, sessionA: sessionA! };
}

describe("back-channel logout from an upstream Authly (B) to A", () => {
  test("idp show gives the URI to register at the provider", () => {
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ backchannel_logout_uri: logoutUri("bee"), token_endpoint_auth_method: "client_secret_basic", client_jwks_uri: null, client_key: null });
  });

  test("the session at A records B's sub and sid (migration 0016)", async () => {
    const { bUser, sessionA } = await federatedUser();
    expect(sessionA.upstream_sub).toBe(bUser.id);
    expect(sessionA.upstream_sid).toBe((await liveSessionAtB(bUser.id)).id);
  });

  test("signing out at B ends the session at A (B's own back-channel logout), and A tells its relying party", async () => {
    const { bUser, browserA, browserB, localUserId, sessionA } = await federatedUser();
    received.length = 0;
    // RP-initiated logout at B, confirmed on B's page; B then POSTs its logout token to A.
    const confirm = await browserB.open("/oidc/logout");
    const out = await browserB.submit(confirm, "/oidc/logout/confirm", { logout: "yes" });
    expect(out.status).toBe(200);
    await settleBackgroundLogouts();

    const [s] = await a.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM sessions WHERE id = ${sessionA.id}`;
    expect(s!.revoked_at).not.toBeNull();
    const [delivery] = await auditRows(b.deps, "logout.backchannel");
    expect(delivery).toMatchObject({ target_id: aAtB.client_id, outcome: "success", details: expect.objectContaining({ status: 200 }) });
    const [ended] = await auditRows(a.deps, "logout.upstream");
    expect(ended).toMatchObject({ actor: localUserId, target_type: "session", target_id: sessionA.id, details: { idp: "bee", by: "sid" } });
    // The RP's grant of that session (no offline_access) is revoked.
    const grants = await a.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM grants WHERE session_id = ${sessionA.id}`;
    expect(grants.length).toBe(1);
    expect(grants[0]!.revoked_at).not.toBeNull();
    // A's own back-channel logout to its RP names A's session.
    expect(received.map((r) => r.path)).toEqual(["/rp"]);
    const jwks = createLocalJWKSet(await (await fetch(`${a.url}/.well-known/jwks.json`)).json());
    const { payload } = await jwtVerify(received[0]!.token, jwks, { issuer: a.url, audience: rp.client_id, typ: "logout+jwt" });
    expect(payload).toMatchObject({ sid: sessionA.id, sub: localUserId, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    // A's browser is signed out: a new request shows the login page again.
    const { challenge } = pkce();
    expect(isLoginPage(await browserA.open(authorizeUrl(authParams(rp, challenge))))).toBe(true);
    expect(bUser.id).toBe(sessionA.upstream_sub);
  });

  test("a logout token B issued is accepted once; its replay is refused (jti, §2.6)", async () => {
    const { bUser, sessionA } = await federatedUser();
    const token = await issueLogoutToken(b.deps, (await loadClient(b.deps.sql, aAtB.client_id))!, await liveSessionAtB(bUser.id));
    const first = await postLogout("bee", token);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const [s] = await a.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM sessions WHERE id = ${sessionA.id}`;
    expect(s!.revoked_at).not.toBeNull();
    const replay = await postLogout("bee", token);
    expect(replay.status).toBe(400);
    expect(replay.headers.get("cache-control")).toBe("no-store");
    expect(await replay.json()).toEqual({ error: "invalid_request", error_description: "This logout token was already used." });
    const [refused] = await auditRows(a.deps, "logout.upstream_refused");
    expect(refused).toMatchObject({ outcome: "denied", target_id: "bee", details: { reason: "replay" } });
  });

  test("a logout token B issued to another client (wrong aud) ends nothing", async () => {
    const { bUser, sessionA } = await federatedUser();
    const other = await createOidcClient(b.deps, { redirect_uris: ["https://other.example/cb"] });
    const token = await issueLogoutToken(b.deps, (await loadClient(b.deps.sql, other.client_id))!, await liveSessionAtB(bUser.id));
    const r = await postLogout("bee", token);
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: "invalid_request", error_description: "The logout token is not valid (aud)." });
    const [s] = await a.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM sessions WHERE id = ${sessionA.id}`;
    expect(s!.revoked_at).toBeNull();
  });

  test("a forged logout token (B's kid, another key) ends nothing", async () => {
    const { bUser, sessionA } = await federatedUser();
    const real = await issueLogoutToken(b.deps, (await loadClient(b.deps.sql, aAtB.client_id))!, await liveSessionAtB(bUser.id));
    const { kid, alg } = decodeProtectedHeader(real);
    const forger = await generateKeyPair(alg!);
    const forged = await new SignJWT({ sid: sessionA.upstream_sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: alg!, kid: kid!, typ: "logout+jwt" })
      .setIssuer(b.url).setAudience(aAtB.client_id).setSubject(bUser.id).setIssuedAt().setExpirationTime("2m").setJti(crypto.randomUUID())
      .sign(forger.privateKey);
    const r = await postLogout("bee", forged);
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("invalid_request");
    const [s] = await a.deps.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM sessions WHERE id = ${sessionA.id}`;
    expect(s!.revoked_at).toBeNull();
  });
});

describe("A's client authentication at B's token endpoint", () => {
  test("private_key_jwt: a key pair for the provider, sealed at rest, its public JWK Set served; B verifies A's assertion", async () => {
    const reg = await a.call("POST", "/admin/idps", {
      body: { slug: "bee-jwt", name: "B with keys", kind: "oidc", issuer: b.url, client_id: "a-signs-at-b", token_endpoint_auth_method: "private_key_jwt" },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", has_client_secret: false, client_jwks_uri: `${a.url}/federation/jwks/bee-jwt`, client_key: { alg: "RS256" } });
    const served = await fetch(reg.body.client_jwks_uri);
    expect(served.status).toBe(200);
    const set = await served.json();
    expect(set.keys).toEqual([expect.objectContaining({ kty: "RSA", kid: reg.body.client_key.kid, alg: "RS256", use: "sig" })]);
    expect(set.keys[0].d).toBeUndefined();
    const [row] = await a.deps.sql<{ client_key_sealed: string }[]>`SELECT client_key_sealed FROM upstream_idps WHERE slug = 'bee-jwt'`;
    expect(row!.client_key_sealed.startsWith("v1.")).toBe(true);
    expect(row!.client_key_sealed).not.toContain('"d"');

    // B registers A as a private_key_jwt client whose keys are A's JWK Set URL.
    await createOidcClient(b.deps, { client_id: "a-signs-at-b", redirect_uris: [callback], scopes: ["openid", "profile", "email"], require_consent: false, token_endpoint_auth_method: "private_key_jwt" });
    await b.deps.sql`UPDATE clients SET jwks_uri = ${reg.body.client_jwks_uri}, secret_hash = NULL WHERE client_id = 'a-signs-at-b'`;
    const bUser = await createOidcUser(b.deps);
    const viaKeys = upstreamSignIn({ aUrl: a.url, bUrl: b.url, rp });
    const r = await viaKeys.signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), bUser, { idp_hint: "bee-jwt" });
    const claims = await viaKeys.subjectAtA(r.end, r.verifier);
    const [identity] = await a.deps.sql<{ subject: string }[]>`SELECT i.subject FROM user_identities i JOIN upstream_idps p ON p.id = i.idp_id WHERE p.slug = 'bee-jwt' AND i.user_id = ${claims.sub}`;
    expect(identity!.subject).toBe(bUser.id);
    // B recorded the assertion's jti (RFC 7523 §3 replay protection): it was a private_key_jwt request.
    const [jtis] = await b.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM client_assertion_jtis WHERE client_id = 'a-signs-at-b'`;
    expect(jtis!.n).toBe(1);
  });

  test("client_secret_post: the secret in the form body", async () => {
    const atB = await createOidcClient(b.deps, { redirect_uris: [callback], scopes: ["openid", "profile", "email"], require_consent: false, token_endpoint_auth_method: "client_secret_post" });
    const reg = await a.call("POST", "/admin/idps", {
      body: { slug: "bee-post", name: "B with post", kind: "oidc", issuer: b.url, client_id: atB.client_id, client_secret: atB.client_secret, token_endpoint_auth_method: "client_secret_post" },
    });
    expect(reg.status).toBe(201);
    const bUser = await createOidcUser(b.deps);
    const r = await signInAtA(Browser.forServer(a.url), Browser.forServer(b.url), bUser, { idp_hint: "bee-post" });
    expect((await subjectAtA(r.end, r.verifier)).sub).toBeTruthy();
  });

  test("a method that does not fit the secret is refused; rotating the key changes the published kid; the audit never holds a key", async () => {
    const base = { kind: "oidc", issuer: b.url, client_id: "x" };
    const noSecret = await a.call("POST", "/admin/idps", { body: { ...base, slug: "m1", name: "M1", token_endpoint_auth_method: "client_secret_post" } });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.fields).toEqual([{ field: "token_endpoint_auth_method", message: "client_secret_post needs a client_secret" }]);
    const publicWithSecret = await a.call("POST", "/admin/idps", { body: { ...base, slug: "m2", name: "M2", client_secret: "s", token_endpoint_auth_method: "none" } });
    expect(publicWithSecret.status).toBe(400);
    const algWithoutKeys = await a.call("POST", "/admin/idps", { body: { ...base, slug: "m3", name: "M3", client_key_alg: "ES256" } });
    expect(algWithoutKeys.status).toBe(400);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM upstream_idps WHERE slug IN ('m1', 'm2', 'm3')`)[0]!.n).toBe(0);
    expect((await a.call("PATCH", "/admin/idps/bee", { body: { rotate_client_key: true } })).status).toBe(400);
    expect((await a.call("PATCH", "/admin/idps/bee", { body: { client_secret: null } })).status).toBe(400);

    const before = (await a.call("GET", "/admin/idps/bee-jwt")).body.client_key.kid;
    const rotated = await a.call("PATCH", "/admin/idps/bee-jwt", { body: { rotate_client_key: true, client_key_alg: "ES256" } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_key.alg).toBe("ES256");
    expect(rotated.body.client_key.kid).not.toBe(before);
    const set = await (await fetch(`${a.url}/federation/jwks/bee-jwt`)).json();
    expect(set.keys.map((k: { kid: string; crv: string }) => [k.kid, k.crv])).toEqual([[rotated.body.client_key.kid, "P-256"]]);
    const [row] = await auditRows(a.deps, "idp.update");
    expect(row!.details).toMatchObject({ fields: ["rotate_client_key", "client_key_alg"], client_key_kid: rotated.body.client_key.kid });
    expect(JSON.stringify(row)).not.toContain("\"d\"");
    // A provider without keys publishes none.
    expect((await fetch(`${a.url}/federation/jwks/bee`)).status).toBe(404);
    // Switching a provider to private_key_jwt makes its key pair.
    const switched = await a.call("PATCH", "/admin/idps/bee-post", { body: { token_endpoint_auth_method: "private_key_jwt" } });
    expect(switched.body).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", client_key: { alg: "RS256" }, client_jwks_uri: `${a.url}/federation/jwks/bee-post` });
    expect((await fetch(`${a.url}/federation/jwks/bee-post`)).status).toBe(200);
    // And back to the secret: the key pair is dropped, nothing is published any more.
    const back = await a.call("PATCH", "/admin/idps/bee-post", { body: { token_endpoint_auth_method: "client_secret_post" } });
    expect(back.body).toMatchObject({ token_endpoint_auth_method: "client_secret_post", client_key: null, client_jwks_uri: null });
    expect((await fetch(`${a.url}/federation/jwks/bee-post`)).status).toBe(404);
    const [dropped] = await a.deps.sql<{ client_key_sealed: string | null }[]>`SELECT client_key_sealed FROM upstream_idps WHERE slug = 'bee-post'`;
    expect(dropped!.client_key_sealed).toBeNull();
    // Public: choosing none drops the secret; a secret given with none is refused.
    expect((await a.call("PATCH", "/admin/idps/bee-post", { body: { token_endpoint_auth_method: "none", client_secret: "s" } })).status).toBe(400);
    const pub = await a.call("PATCH", "/admin/idps/bee-post", { body: { token_endpoint_auth_method: "none" } });
    expect(pub.body).toMatchObject({ token_endpoint_auth_method: "none", has_client_secret: false });
  });
});
