// Dynamic client registration (RFC 7591) and its management (RFC 7592): modes (closed, initial
// access tokens, open and rate-limited), metadata validated by the admin API's validator, unknown
// fields ignored, software statements refused, the registration access token (hashed, rotated on
// update), and the OIDF Dynamic plan's registration modules, each named.
import { afterAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { Browser, authorizeUrl, isLoginPage, pkce } from "../support/browser";
import { assertionKey, basic } from "../support/fixtures";
import { createOidcUser } from "../support/oidc-fixtures";
import { hashSecret } from "../../src/lib/crypto";
import { createInitialToken } from "../../src/registration/service";
import { updateClient } from "../../src/clients/service";

const t = await createTestApp({ bootstrap: false });
const actor = { userId: null, ip: null };

async function register(app: TestApp, body: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await app.request("/oauth/register", { method: "POST", headers, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, any> };
}
async function manage(method: string, uri: string, token: string | undefined, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await t.request(new URL(uri).pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

// Documents the registrations point at, served on loopback (allowed in dev mode only).
const keys = await assertionKey("ES256");
const docs: ReturnType<typeof Bun.serve> = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req): Response {
    const p = new URL(req.url).pathname;
    if (p === "/jwks") return Response.json(keys.jwks);
    if (p === "/sector-good") return Response.json(["https://rp.example.com/cb", "https://rp.example.com/other"]);
    if (p === "/sector-bad") return Response.json(["https://rp.example.com/other"]);
    return new Response("nope", { status: 404 });
  },
});
afterAll(() => docs.stop(true));
const local = (p: string) => `http://127.0.0.1:${docs.port}${p}`;

describe("POST /oauth/register (RFC 7591 §3)", () => {
  test("registers a confidential client: client_id, secret once, registration access token and URI; stored hashed", async () => {
    const r = await register(t, { client_name: "Agent", redirect_uris: ["https://rp.example.com/cb"], grant_types: ["authorization_code", "refresh_token"], scope: "openid profile", contacts: ["ops@rp.example.com"], unknown_field: { x: 1 }, software_version: "2.0" });
    expect(r.status).toBe(201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body).toMatchObject({ client_name: "Agent", redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "client_secret_basic", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], client_secret_expires_at: 0 });
    expect(r.body.scope.split(" ").sort()).toEqual(["openid", "profile"]);
    expect(r.body.unknown_field).toBeUndefined();
    expect(typeof r.body.client_id_issued_at).toBe("number");
    expect(r.body.client_secret).toMatch(/^cs_/);
    expect(r.body.registration_client_uri).toBe(`${t.issuer}/oauth/register/${r.body.client_id}`);
    const [row] = await t.deps.sql`SELECT access_token_hash FROM client_registrations WHERE client_id = ${r.body.client_id}`;
    expect(row!.access_token_hash).toBe(hashSecret(t.deps.peppers.tokens, `registration:${r.body.registration_access_token}`));
    const [client] = await t.deps.sql`SELECT require_consent, is_first_party FROM clients WHERE client_id = ${r.body.client_id}`;
    expect(client).toEqual({ require_consent: true, is_first_party: false });
    // The secret works at the token endpoint (no grant yet: the client authenticates).
    const tok = await t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(r.body.client_id, r.body.client_secret) }, body: "grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Frp.example.com%2Fcb&code_verifier=" + "a".repeat(43) });
    expect(((await tok.json()) as { error: string }).error).toBe("invalid_grant");
  });

  test("a public client (none) gets no secret; defaults follow RFC 7591 §2 (authorization_code only)", async () => {
    const r = await register(t, { redirect_uris: ["http://127.0.0.1:33418/callback"], token_endpoint_auth_method: "none" });
    expect(r.status).toBe(201);
    expect(r.body.client_secret).toBeUndefined();
    expect(r.body).toMatchObject({ grant_types: ["authorization_code"], token_endpoint_auth_method: "none", client_name: "Unnamed client" });
  });

  test("metadata is checked by the admin API's validator: RFC 7591 §3.2.2 error codes", async () => {
    const cases: [unknown, string][] = [
      [{ redirect_uris: ["http://rp.example.com/cb"] }, "invalid_redirect_uri"],
      [{ redirect_uris: ["/relative"] }, "invalid_redirect_uri"],
      [{ redirect_uris: [] }, "invalid_redirect_uri"],
      [{ redirect_uris: ["https://rp.example.com/cb"], grant_types: ["implicit"] }, "invalid_client_metadata"],
      [{ redirect_uris: ["https://rp.example.com/cb"], response_types: ["token"] }, "invalid_client_metadata"],
      [{ redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata"],
      [{ redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://10.0.0.5/jwks" }, "invalid_client_metadata"],
      [{ redirect_uris: ["https://rp.example.com/cb"], logo_uri: "javascript:alert(1)" }, "invalid_client_metadata"],
      [{ redirect_uris: ["https://rp.example.com/cb"], client_name: 42 }, "invalid_client_metadata"],
      [[1, 2], "invalid_client_metadata"],
    ];
    for (const [body, code] of cases) {
      const r = await register(t, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error, JSON.stringify(body)).toBe(code);
    }
    const [n] = await t.deps.sql`SELECT count(*)::int AS n FROM clients WHERE client_name = 'Unnamed client' AND redirect_uris = '{}'::text[]`;
    expect(n!.n).toBe(0);
  });

  test("require_pushed_authorization_requests is registered, returned and enforced like the admin API's field (RFC 9126 §6)", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], require_pushed_authorization_requests: true });
    expect(r.status).toBe(201);
    expect(r.body.require_pushed_authorization_requests).toBe(true);
    const [row] = await t.deps.sql`SELECT require_pushed_authorization_requests FROM clients WHERE client_id = ${r.body.client_id}`;
    expect(row!.require_pushed_authorization_requests).toBe(true);
    expect((await register(t, { redirect_uris: ["https://rp.example.com/cb"], require_pushed_authorization_requests: "yes" })).body.error).toBe("invalid_client_metadata");
  });

  test("a software statement is refused with invalid_software_statement (RFC 7591 §3.2.2)", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], software_statement: "eyJhbGciOiJSUzI1NiJ9.e30.sig" });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_software_statement");
  });

  test("scopes that are not registered are left out (RFC 7591 §2: the server may grant less)", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], scope: "openid notes:read" });
    expect(r.status).toBe(201);
    expect(r.body.scope).toBe("openid");
  });

  test("discovery advertises the registration endpoint and client ID metadata documents as configured", async () => {
    const doc = (await (await t.request("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(doc.registration_endpoint).toBe(`${t.issuer}/oauth/register`);
    expect(doc.client_id_metadata_document_supported).toBe(true);
  });
});

describe("RFC 7592: read, update, delete with the registration access token", () => {
  test("read; update replaces the metadata and rotates the token; delete removes the client", async () => {
    const r = await register(t, { client_name: "Mgmt", redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none", logo_uri: "https://rp.example.com/logo.png" });
    const uri: string = r.body.registration_client_uri;
    const token: string = r.body.registration_access_token;
    const read = await manage("GET", uri, token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: r.body.client_id, client_name: "Mgmt", logo_uri: "https://rp.example.com/logo.png" });
    expect(read.body.registration_access_token).toBeUndefined();

    expect((await manage("GET", uri, "wrong-token")).status).toBe(401);
    expect((await manage("GET", uri, undefined)).status).toBe(401);

    const mismatch = await manage("PUT", uri, token, { client_id: "another", redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" });
    expect(mismatch.body.error).toBe("invalid_client_metadata");

    const put = await manage("PUT", uri, token, { client_id: r.body.client_id, client_name: "Mgmt v2", redirect_uris: ["https://rp.example.com/cb2"], token_endpoint_auth_method: "none" });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ client_name: "Mgmt v2", redirect_uris: ["https://rp.example.com/cb2"] });
    // Omitted fields are reset (RFC 7592 §2.2).
    expect(put.body.logo_uri).toBeUndefined();
    const rotated: string = put.body.registration_access_token;
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(token);
    expect((await manage("GET", uri, token)).status).toBe(401);
    expect((await manage("GET", uri, rotated)).status).toBe(200);

    const bad = await manage("PUT", uri, rotated, { client_id: r.body.client_id, redirect_uris: ["https://rp.example.com/cb#frag"], token_endpoint_auth_method: "none" });
    expect(bad.body.error).toBe("invalid_redirect_uri");
    expect((await manage("GET", uri, rotated)).body.redirect_uris).toEqual(["https://rp.example.com/cb2"]);

    const del = await manage("DELETE", uri, rotated);
    expect(del.status).toBe(204);
    expect((await manage("GET", uri, rotated)).status).toBe(401);
    expect((await t.deps.sql`SELECT 1 FROM clients WHERE client_id = ${r.body.client_id}`).length).toBe(0);
  });

  test("an update never weakens the security settings an admin set: omitted or weaker, they stay in force (RFC 7592 §2.2)", async () => {
    const base = { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "private_key_jwt", jwks: keys.jwks };
    const r = await register(t, { ...base, client_name: "Hardened" });
    expect(r.status).toBe(201);
    expect(r.body.dpop_bound_access_tokens).toBe(false);
    const uri: string = r.body.registration_client_uri;
    let token: string = r.body.registration_access_token;
    await updateClient(t.deps, actor, r.body.client_id, { fapi_profile: "fapi2-security", dpop_bound_access_tokens: true, require_pushed_authorization_requests: true });
    const strong = { fapi_profile: "fapi2-security", dpop_bound_access_tokens: true, require_pushed_authorization_requests: true };

    // Omitted: kept, and the answer shows the values in force.
    const omitted = await manage("PUT", uri, token, { ...base, client_id: r.body.client_id, client_name: "Hardened v2" });
    expect(omitted.status).toBe(200);
    expect(omitted.body).toMatchObject({ client_name: "Hardened v2", ...strong });
    token = omitted.body.registration_access_token;

    // Weaker values: kept too.
    const weaker = await manage("PUT", uri, token, { ...base, client_id: r.body.client_id, fapi_profile: "none", dpop_bound_access_tokens: false, require_pushed_authorization_requests: false });
    expect(weaker.status).toBe(200);
    expect(weaker.body).toMatchObject(strong);
    token = weaker.body.registration_access_token;
    expect((await manage("GET", uri, token)).body).toMatchObject(strong);
    const [row] = await t.deps.sql<{ fapi_profile: string | null; dpop_bound_access_tokens: boolean; require_pushed_authorization_requests: boolean }[]>`
      SELECT fapi_profile, dpop_bound_access_tokens, require_pushed_authorization_requests FROM clients WHERE client_id = ${r.body.client_id}`;
    expect(row).toEqual(strong);

    // The other fields still follow the update (omitted ones are reset).
    expect(weaker.body.client_name).toBe("Unnamed client");
  });

  test("a registrant may raise its own security settings by an update", async () => {
    const base = { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" };
    const r = await register(t, base);
    const put = await manage("PUT", r.body.registration_client_uri, r.body.registration_access_token, { ...base, client_id: r.body.client_id, dpop_bound_access_tokens: true, require_pushed_authorization_requests: true });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ dpop_bound_access_tokens: true, require_pushed_authorization_requests: true });
  });

  test("one client's registration token does not manage another client", async () => {
    const a = await register(t, { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" });
    const b = await register(t, { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" });
    expect((await manage("GET", b.body.registration_client_uri, a.body.registration_access_token)).status).toBe(401);
    expect((await manage("DELETE", b.body.registration_client_uri, a.body.registration_access_token)).status).toBe(401);
  });
});

describe("modes (AUTHLY_REGISTRATION)", () => {
  test("closed: no endpoint and nothing advertised", async () => {
    const closed = await createTestApp({ bootstrap: false, env: { AUTHLY_REGISTRATION: "closed", AUTHLY_CLIENT_ID_METADATA_DOCUMENTS: "false" } });
    expect((await register(closed, { redirect_uris: ["https://rp.example.com/cb"] }).catch(() => ({ status: 404 }))).status).toBe(404);
    const doc = (await (await closed.request("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(doc.registration_endpoint).toBeUndefined();
    expect(doc.client_id_metadata_document_supported).toBeUndefined();
  });

  test("token: an initial access token is required, spent per registration, bounded by max_uses and expiry", async () => {
    const tk = await createTestApp({ bootstrap: false, env: { AUTHLY_REGISTRATION: "token" } });
    const body = { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" };
    const none = await register(tk, body);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_token");
    const iat = await createInitialToken(tk.deps, actor, { max_uses: 2, expires_in: 3600 });
    expect(iat.token).toMatch(/^iat_/);
    // A refused registration does not spend a use.
    expect((await register(tk, { redirect_uris: ["http://bad.example/cb"] }, iat.token)).status).toBe(400);
    expect((await register(tk, body, iat.token)).status).toBe(201);
    expect((await register(tk, body, iat.token)).status).toBe(201);
    expect((await register(tk, body, iat.token)).status).toBe(401);
    expect((await register(tk, body, "iat_forged")).status).toBe(401);
    const [row] = await tk.deps.sql`SELECT token_hash FROM registration_tokens WHERE id = ${iat.id}`;
    expect(row!.token_hash).not.toContain(iat.token.slice(4));
    const expired = await createInitialToken(tk.deps, actor, { max_uses: 1, expires_in: 60 });
    await tk.deps.sql`UPDATE registration_tokens SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`;
    expect((await register(tk, body, expired.token)).status).toBe(401);
  });

  test("open: rate-limited per source (AUTHLY_REGISTRATION_RATE_LIMIT)", async () => {
    const open = await createTestApp({ bootstrap: false, env: { AUTHLY_REGISTRATION: "open", AUTHLY_REGISTRATION_RATE_LIMIT: "2" } });
    const body = { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" };
    expect((await register(open, body)).status).toBe(201);
    expect((await register(open, body)).status).toBe(201);
    const third = await register(open, body);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBeTruthy();
  });
});

const user = await createOidcUser(t.deps);
describe("OIDF Dynamic plan registration modules", () => {
  async function consentPageOf(clientId: string, redirectUri: string): Promise<string> {
    const b = Browser.forApp(t);
    const { challenge } = pkce();
    let page = await b.open(authorizeUrl({ client_id: clientId, redirect_uri: redirectUri, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" }));
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    return page.html;
  }

  test("oidcc-registration-logo-uri: the registered logo is kept, and shown only as fetched by the server (never hot-linked)", async () => {
    // A logo that loads is fetched through the outbound rules and inlined as a data: URI
    // (test/integration/i18n-branding.test.ts, over real TLS); this one cannot load (no such host
    // is reachable here), so the page shows the application's initial instead of a broken image.
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], logo_uri: "https://rp.example.com/logo.png", client_name: "Logo RP" });
    expect(r.body.logo_uri).toBe("https://rp.example.com/logo.png");
    const html = await consentPageOf(r.body.client_id, "https://rp.example.com/cb");
    expect(html).toContain('<span class="initial" aria-hidden="true">L</span><div><h1>Logo RP</h1>');
    expect(html).not.toContain("rp.example.com/logo.png");
  });

  test("oidcc-registration-policy-uri: the registered policy link is shown to the user", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], policy_uri: "https://rp.example.com/privacy" });
    expect(r.body.policy_uri).toBe("https://rp.example.com/privacy");
    expect(await consentPageOf(r.body.client_id, "https://rp.example.com/cb")).toContain('href="https://rp.example.com/privacy"');
  });

  test("oidcc-registration-tos-uri: the registered terms link is shown to the user", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], tos_uri: "https://rp.example.com/tos" });
    expect(r.body.tos_uri).toBe("https://rp.example.com/tos");
    expect(await consentPageOf(r.body.client_id, "https://rp.example.com/cb")).toContain('href="https://rp.example.com/tos"');
  });

  test("oidcc-registration-jwks-uri: a client registered with jwks_uri authenticates with private_key_jwt", async () => {
    const r = await register(t, { grant_types: ["client_credentials"], token_endpoint_auth_method: "private_key_jwt", jwks_uri: local("/jwks") });
    expect(r.status).toBe(201);
    expect(r.body.jwks_uri).toBe(local("/jwks"));
    const assertion = await keys.sign(r.body.client_id, `${t.issuer}/oauth/token`);
    const tok = await t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion }).toString() });
    expect(tok.status).toBe(200);
  });

  test("oidcc-registration-sector-uri: a sector identifier listing every redirect URI is accepted", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], sector_identifier_uri: local("/sector-good") });
    expect(r.status).toBe(201);
  });

  test("oidcc-registration-sector-bad: a sector identifier missing a redirect URI is refused", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb"], sector_identifier_uri: local("/sector-bad") });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_client_metadata");
    expect(r.body.error_description).toContain("sector_identifier_uri");
  });

  test("oidcc-redirect-uri-regfrag: registering a redirect URI with a fragment is refused", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb#frag"] });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_redirect_uri");
  });

  test("oidcc-redirect-uri-query-OK / -mismatch / -added: a registered query must match exactly", async () => {
    const r = await register(t, { redirect_uris: ["https://rp.example.com/cb?foo=bar"], token_endpoint_auth_method: "none" });
    expect(r.status).toBe(201);
    const { challenge } = pkce();
    const open = (redirect: string) => Browser.forApp(t).open(authorizeUrl({ client_id: r.body.client_id, redirect_uri: redirect, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" }));
    const ok = await open("https://rp.example.com/cb?foo=bar");
    expect(isLoginPage(ok)).toBe(true);
    const mismatch = await open("https://rp.example.com/cb?foo=baz");
    expect(mismatch.status).toBe(400);
    expect(mismatch.location).toBeUndefined();
    const plain = await register(t, { redirect_uris: ["https://rp.example.com/cb"], token_endpoint_auth_method: "none" });
    const added = await Browser.forApp(t).open(authorizeUrl({ client_id: plain.body.client_id, redirect_uri: "https://rp.example.com/cb?foo=bar", response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" }));
    expect(added.status).toBe(400);
    expect(added.location).toBeUndefined();
  });
});
