// Resource indicators (RFC 8707) and audience-bound tokens: `resource` at the authorization and
// token endpoints (authorization_code, refresh_token, client_credentials), invalid_target, aud
// exactly the selected resources, scopes limited to theirs plus the global ones, the resource's
// lifetime and signing algorithm, consent naming the APIs, and introspection by resource servers
// (RFC 7662 §4).
import { beforeAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { createTestApp } from "../support/app";
import { Browser, authorizeUrl, callbackParams, isConsentPage, isLoginPage, pkce, type Page } from "../support/browser";
import { basic, createClient as createRawClient } from "../support/fixtures";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { jwtPayload } from "../support/oidc-flow";
import { createResource } from "../../src/resources/service";
import { updateClient } from "../../src/clients/service";

const t = await createTestApp({ bootstrap: false });
const actor = { userId: null, ip: null };
const ORDERS = "https://orders.example.com/api";
const BILLING = "https://billing.example.com";
const OTHER = "https://other.example.com";
let ordersCreds: { id: string; secret: string };
let billingCreds: { id: string; secret: string };
let rp: OidcTestClient;
let user: OidcTestUser;

async function form(path: string, params: [string, string][], auth?: { id: string; secret: string }) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (auth) headers.authorization = basic(auth.id, auth.secret);
  const r = await t.request(path, { method: "POST", headers, body: new URLSearchParams(params).toString() });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}
const rpAuth = () => ({ id: rp.client_id, secret: rp.client_secret! });

/** Authorization request with `resource` repeated as given -> login -> consent -> callback. */
async function authorize(resources: string[], scope: string, b = Browser.forApp(t)): Promise<{ page: Page; verifier: string; consentHtml?: string; b: Browser }> {
  const { verifier, challenge } = pkce();
  const url = authorizeUrl({ client_id: rp.client_id, redirect_uri: rp.redirect_uri, response_type: "code", scope, state: "s1", code_challenge: challenge, code_challenge_method: "S256" }) + resources.map((r) => `&resource=${encodeURIComponent(r)}`).join("");
  let page = await b.open(url);
  if (isLoginPage(page)) page = await b.submit(page, "/login", { login: user.username, password: user.password });
  let consentHtml: string | undefined;
  if (isConsentPage(page)) {
    consentHtml = page.html;
    page = await b.submit(page, "/consent", { decision: "allow" });
  }
  return { page, verifier, consentHtml, b };
}

async function codeTokens(resources: string[], scope: string, tokenResources: string[] = []) {
  const a = await authorize(resources, scope);
  const cb = callbackParams(a.page.location!);
  expect(cb.code).toBeTruthy();
  const params: [string, string][] = [["grant_type", "authorization_code"], ["code", cb.code!], ["redirect_uri", rp.redirect_uri], ["code_verifier", a.verifier], ...tokenResources.map((r) => ["resource", r] as [string, string])];
  return { ...(await form("/oauth/token", params, rpAuth())), code: cb.code!, verifier: a.verifier, consentHtml: a.consentHtml };
}

async function jwks() {
  return createLocalJWKSet(await (await t.request("/.well-known/jwks.json")).json());
}

beforeAll(async () => {
  await t.deps.sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'Read the API')`;
  const o = await createResource(t.deps, actor, { identifier: ORDERS, name: "Orders API", scopes: [{ name: "orders:read", description: "Read your orders" }, { name: "orders:write" }], access_token_alg: "EdDSA", access_token_ttl: 300 });
  const b = await createResource(t.deps, actor, { identifier: BILLING, name: "Billing", scopes: [{ name: "billing:read" }] });
  await createResource(t.deps, actor, { identifier: OTHER, name: "Other", scopes: [{ name: "other:read" }] });
  ordersCreds = { id: o.client_id!, secret: o.client_secret! };
  billingCreds = { id: b.client_id!, secret: b.client_secret! };
  rp = await createOidcClient(t.deps, { scopes: ["openid", "offline_access", "api:read"] });
  await updateClient(t.deps, actor, rp.client_id, { resources: [ORDERS, BILLING] });
  user = await createOidcUser(t.deps);
});

describe("authorization code with resources (RFC 8707 §2.1)", () => {
  test("aud is exactly the requested resources; scopes are theirs plus the global ones; consent names the APIs", async () => {
    const r = await codeTokens([ORDERS, BILLING], "openid offline_access api:read orders:read billing:read other:read");
    expect(r.status).toBe(200);
    const claims = jwtPayload(r.body.access_token);
    expect(claims.aud).toEqual([ORDERS, BILLING]);
    // other:read belongs to a resource that was not requested: dropped like an unknown scope.
    expect(r.body.scope).toBe("openid offline_access api:read orders:read billing:read");
    expect(r.consentHtml).toContain("Orders API");
    expect(r.consentHtml).toContain("Billing");
    expect(r.consentHtml).toContain("Read your orders");
  });

  test("the token request may narrow to one granted resource: its alg, lifetime and scopes (RFC 8707 §2.2)", async () => {
    const r = await codeTokens([ORDERS, BILLING], "openid offline_access orders:read billing:read", [ORDERS]);
    expect(r.status).toBe(200);
    expect(decodeProtectedHeader(r.body.access_token).alg).toBe("EdDSA");
    const { payload } = await jwtVerify(r.body.access_token, await jwks(), { audience: ORDERS, issuer: t.issuer, typ: "at+jwt" });
    expect(payload.aud).toBe(ORDERS);
    expect(payload.scope).toBe("openid offline_access orders:read");
    expect(r.body.expires_in).toBe(300);

    // A refresh narrows to the other granted resource, never to one outside the grant.
    const billing = await form("/oauth/token", [["grant_type", "refresh_token"], ["refresh_token", r.body.refresh_token], ["resource", BILLING]], rpAuth());
    expect(billing.status).toBe(200);
    expect(jwtPayload(billing.body.access_token).aud).toBe(BILLING);
    expect(billing.body.scope).toBe("openid offline_access billing:read");
    const widened = await form("/oauth/token", [["grant_type", "refresh_token"], ["refresh_token", billing.body.refresh_token], ["resource", OTHER]], rpAuth());
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe("invalid_target");
    // The refused request spent nothing: the same refresh token still works, for every granted resource.
    const all = await form("/oauth/token", [["grant_type", "refresh_token"], ["refresh_token", billing.body.refresh_token]], rpAuth());
    expect(all.status).toBe(200);
    expect(jwtPayload(all.body.access_token).aud).toEqual([ORDERS, BILLING]);
  });

  test("a token request for a resource outside the authorization is invalid_target and leaves the code unspent", async () => {
    const a = await authorize([ORDERS], "openid orders:read");
    const code = callbackParams(a.page.location!).code!;
    const base: [string, string][] = [["grant_type", "authorization_code"], ["code", code], ["redirect_uri", rp.redirect_uri], ["code_verifier", a.verifier]];
    const bad = await form("/oauth/token", [...base, ["resource", BILLING]], rpAuth());
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_target");
    const ok = await form("/oauth/token", base, rpAuth());
    expect(ok.status).toBe(200);
    expect(jwtPayload(ok.body.access_token).aud).toBe(ORDERS);
  });

  test("unknown, unallowed, relative and fragment resources are invalid_target, redirected with state (RFC 8707 §2)", async () => {
    for (const resource of ["https://unknown.example.com", OTHER, "/relative", `${ORDERS}#frag`]) {
      const a = await authorize([resource], "openid");
      const cb = callbackParams(a.page.location!);
      expect(cb.error, resource).toBe("invalid_target");
      expect(cb.state).toBe("s1");
      expect(cb.iss).toBe(t.issuer);
    }
  });

  test("only resource may repeat: another repeated parameter is still invalid_request", async () => {
    const { challenge } = pkce();
    const url = authorizeUrl({ client_id: rp.client_id, redirect_uri: rp.redirect_uri, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" }) + "&scope=openid";
    const page = await Browser.forApp(t).open(url);
    expect(callbackParams(page.location!).error).toBe("invalid_request");
    const tokenRepeat = await form("/oauth/token", [["grant_type", "client_credentials"], ["scope", "a"], ["scope", "b"]], rpAuth());
    expect(tokenRepeat.body.error).toBe("invalid_request");
  });

  test("consent remembered for one API is asked again for another", async () => {
    await t.deps.sql`DELETE FROM consents WHERE user_id = ${user.id}`;
    const b = Browser.forApp(t);
    const first = await authorize([ORDERS], "openid", b);
    expect(first.consentHtml).toBeTruthy();
    const again = await authorize([ORDERS], "openid", b);
    expect(again.consentHtml).toBeUndefined();
    const other = await authorize([BILLING], "openid", b);
    expect(other.consentHtml).toContain("Billing");
  });

  test("without resource: aud is the issuer as before; with a default resource: aud is that resource", async () => {
    const plain = await codeTokens([], "openid api:read");
    expect(jwtPayload(plain.body.access_token).aud).toBe(t.issuer);
    await updateClient(t.deps, actor, rp.client_id, { default_resource: BILLING });
    try {
      const dflt = await codeTokens([], "openid billing:read");
      expect(jwtPayload(dflt.body.access_token).aud).toBe(BILLING);
      expect(dflt.body.scope).toBe("openid billing:read");
    } finally {
      await updateClient(t.deps, actor, rp.client_id, { default_resource: null });
    }
  });
});

describe("client_credentials with resources", () => {
  let svc: { id: string; secret: string };
  beforeAll(async () => {
    const c = await createRawClient(t.deps, { client_id: "svc", grant_types: ["client_credentials"], scopes: ["api:read"] });
    svc = { id: c.clientId, secret: c.secret! };
    await updateClient(t.deps, actor, "svc", { resources: [ORDERS] });
  });

  test("aud is the resource; the resource's scopes are usable; unknown or unallowed resources are invalid_target", async () => {
    const r = await form("/oauth/token", [["grant_type", "client_credentials"], ["resource", ORDERS]], svc);
    expect(r.status).toBe(200);
    expect(jwtPayload(r.body.access_token).aud).toBe(ORDERS);
    expect(r.body.scope).toBe("api:read orders:read orders:write");
    const narrowed = await form("/oauth/token", [["grant_type", "client_credentials"], ["resource", ORDERS], ["scope", "orders:read"]], svc);
    expect(narrowed.body.scope).toBe("orders:read");
    for (const resource of [BILLING, "https://nope.example.com", "relative", `${ORDERS}#x`]) {
      const bad = await form("/oauth/token", [["grant_type", "client_credentials"], ["resource", resource]], svc);
      expect(bad.status, resource).toBe(400);
      expect(bad.body.error).toBe("invalid_target");
    }
    const noResource = await form("/oauth/token", [["grant_type", "client_credentials"], ["scope", "orders:read"]], svc);
    expect(noResource.body.error).toBe("invalid_scope");
  });

  test("a resource open to any client needs no listing", async () => {
    await t.deps.sql`UPDATE api_resources SET allow_any_client = true WHERE identifier = ${OTHER}`;
    const r = await form("/oauth/token", [["grant_type", "client_credentials"], ["resource", OTHER]], svc);
    expect(r.status).toBe(200);
    expect(jwtPayload(r.body.access_token).aud).toBe(OTHER);
    await t.deps.sql`UPDATE api_resources SET allow_any_client = false WHERE identifier = ${OTHER}`;
  });
});

describe("introspection by resource servers (RFC 7662 §4)", () => {
  test("a resource server sees the tokens whose aud names it, and only those", async () => {
    const r = await codeTokens([ORDERS, BILLING], "openid orders:read billing:read", [ORDERS]);
    const seen = await form("/oauth/introspect", [["token", r.body.access_token]], ordersCreds);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ active: true, aud: ORDERS, client_id: rp.client_id, scope: "openid orders:read", sub: user.id });
    expect((await form("/oauth/introspect", [["token", r.body.access_token]], billingCreds)).body).toEqual({ active: false });
    // Nor a refresh token, which belongs to the client alone.
    expect((await form("/oauth/introspect", [["token", r.body.refresh_token]], ordersCreds)).body).toEqual({ active: false });
    // A token without resource (aud = issuer) is no resource server's business.
    const plain = await codeTokens([], "openid");
    expect((await form("/oauth/introspect", [["token", plain.body.access_token]], ordersCreds)).body).toEqual({ active: false });
  });

  test("revocation holds for the resource server as for the client", async () => {
    const r = await codeTokens([ORDERS], "openid orders:read");
    const rev = await t.request("/oauth/revoke", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(rp.client_id, rp.client_secret!) }, body: new URLSearchParams({ token: r.body.access_token }).toString() });
    expect(rev.status).toBe(200);
    expect((await form("/oauth/introspect", [["token", r.body.access_token]], ordersCreds)).body).toEqual({ active: false });
  });

  test("a resource that may not introspect, or is inactive, sees nothing", async () => {
    const r = await codeTokens([BILLING], "openid billing:read");
    expect((await form("/oauth/introspect", [["token", r.body.access_token]], billingCreds)).body.active).toBe(true);
    await t.deps.sql`UPDATE api_resources SET may_introspect = false WHERE identifier = ${BILLING}`;
    expect((await form("/oauth/introspect", [["token", r.body.access_token]], billingCreds)).body).toEqual({ active: false });
    await t.deps.sql`UPDATE api_resources SET may_introspect = true, is_active = false WHERE identifier = ${BILLING}`;
    expect((await form("/oauth/introspect", [["token", r.body.access_token]], billingCreds)).body).toEqual({ active: false });
    await t.deps.sql`UPDATE api_resources SET is_active = true WHERE identifier = ${BILLING}`;
  });

  test("the resource server's credentials get no token themselves", async () => {
    const r = await form("/oauth/token", [["grant_type", "client_credentials"]], ordersCreds);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unauthorized_client");
  });
});
