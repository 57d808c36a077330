// FAPI 2.0 Security Profile (final) mode, per client (`fapi_profile`) and server-wide
// (AUTHLY_FAPI_PROFILE): each rule of the profile for the authorization server, named by its
// clause (§5.3.2.1 general requirements, §5.3.2.2 authorization code flow, §5.4.1 algorithms).
import { describe, expect, test } from "bun:test";
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { updateClient } from "../../src/clients/service";
import { ValidationError } from "../../src/errors";
import { randomToken } from "../../src/lib/crypto";
import { createDpopProof, generateDpopKey } from "../../src/lib/dpop-proof";
import { createTestApp, type TestApp } from "../support/app";
import { Browser, authorizeUrl, callbackParams, pkce } from "../support/browser";
import { createOidcClient, createOidcUser, type OidcTestClient } from "../support/oidc-fixtures";
import { authParams } from "../support/oidc-flow";

const ACTOR = { userId: null, ip: "127.0.0.1" };
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async function signingKey(alg: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: randomToken(8), alg, use: "sig" };
  return { jwk, privateKey: privateKey as CryptoKey, alg };
}

/** A FAPI world: an app, a FAPI client (confidential, private_key_jwt, ES256 and RS256 keys), a user. */
async function world(env: Record<string, string> = {}, perClient = true) {
  const t: TestApp = await createTestApp({ env });
  const user = await createOidcUser(t.deps);
  const es = await signingKey("ES256");
  const rs = await signingKey("RS256");
  const c: OidcTestClient = await createOidcClient(t.deps, { client_name: "FAPI RP", token_endpoint_auth_method: "private_key_jwt", id_token_signed_response_alg: "RS256" });
  await t.deps.sql`UPDATE clients SET secret_hash = NULL, jwks = ${t.deps.sql.json({ keys: [es.jwk, rs.jwk] } as never)} WHERE client_id = ${c.client_id}`;
  if (perClient) await updateClient(t.deps, ACTOR, c.client_id, { fapi_profile: "fapi2-security" });
  const assertion = (o: { aud?: unknown; key?: typeof es } = {}) => {
    const k = o.key ?? es;
    return new SignJWT({ aud: o.aud ?? t.issuer } as never).setProtectedHeader({ alg: k.alg, kid: k.jwk.kid }).setIssuer(c.client_id).setSubject(c.client_id).setIssuedAt().setExpirationTime("60s").setJti(randomToken(12)).sign(k.privateKey);
  };
  const dpop = await generateDpopKey("ES256");
  const proof = (path: string) => createDpopProof(dpop, { htm: "POST", htu: `${t.issuer}${path}` });
  /** POST a form with private_key_jwt (and, unless told otherwise, a DPoP proof). */
  const call = async (path: string, params: Record<string, string | undefined>, o: { aud?: unknown; key?: typeof es; dpop?: string | null } = {}) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries({ client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(o), ...params })) if (v !== undefined) body.set(k, v);
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    const p = o.dpop === undefined ? await proof(path) : o.dpop;
    if (p) headers.DPoP = p;
    const r = await t.request(path, { method: "POST", headers, body: body.toString() });
    return { status: r.status, body: (await r.json()) as any };
  };
  /** PAR -> login -> consent -> code -> tokens. */
  const flow = async (extra: Record<string, string | undefined> = {}) => {
    const { verifier, challenge } = pkce();
    const par = await call("/oauth/par", { ...authParams(c, challenge, { scope: "openid offline_access" }), ...extra });
    expect(par.status).toBe(201);
    const b = Browser.forApp(t);
    let page = await b.open(authorizeUrl({ client_id: c.client_id, request_uri: par.body.request_uri }));
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    if (/wants to access your account/.test(page.html)) page = await b.submit(page, "/consent", { decision: "allow" });
    const cb = callbackParams(page.location!);
    const tokens = await call("/oauth/token", { grant_type: "authorization_code", code: cb.code, redirect_uri: c.redirect_uri, code_verifier: verifier });
    return { cb, tokens };
  };
  return { t, user, c, es, rs, assertion, call, flow, proof, dpop };
}

const w = await world();

describe("FAPI 2.0 Security Profile per client: authorization code flow (§5.3.2.2)", () => {
  test("§5.3.2.2 PAR required: an authorization request without a pushed request_uri is refused", async () => {
    const { challenge } = pkce();
    const r = await w.t.request(authorizeUrl(authParams(w.c, challenge)));
    expect(r.status).toBe(303);
    expect(callbackParams(r.headers.get("location")!).error).toBe("invalid_request");
  });

  test("§5.3.2.2 PKCE with S256 required: no code_challenge or the plain method is invalid_request at PAR", async () => {
    const { challenge } = pkce();
    expect((await w.call("/oauth/par", authParams(w.c, challenge, { code_challenge: undefined, code_challenge_method: undefined }))).body.error).toBe("invalid_request");
    expect((await w.call("/oauth/par", authParams(w.c, challenge, { code_challenge_method: "plain" }))).body.error).toBe("invalid_request");
  });

  test("§5.3.2.2 only response_type=code", async () => {
    const { challenge } = pkce();
    expect((await w.call("/oauth/par", authParams(w.c, challenge, { response_type: "code id_token" }))).body.error).toBe("unsupported_response_type");
  });

  test("§5.3.2.2 redirect_uri required in the pushed request", async () => {
    const { challenge } = pkce();
    const r = await w.call("/oauth/par", authParams(w.c, challenge, { redirect_uri: undefined }));
    expect([r.status, r.body.error]).toEqual([400, "invalid_request"]);
  });

  test("§5.3.2.2 iss in the authorization response (RFC 9207); §5.3.2.1 DPoP-bound access token; the code lives at most 60 s", async () => {
    const { cb, tokens } = await w.flow();
    expect(cb.iss).toBe(w.t.issuer);
    expect([tokens.status, tokens.body.token_type]).toEqual([200, "DPoP"]);
    const [row] = await w.t.deps.sql<{ s: number }[]>`SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM authorization_codes WHERE client_id = ${w.c.client_id} ORDER BY created_at DESC LIMIT 1`;
    expect(row!.s).toBeLessThanOrEqual(60);
  });

  test("§5.3.2.2 a used authorization code is refused", async () => {
    const { verifier, challenge } = pkce();
    const par = await w.call("/oauth/par", authParams(w.c, challenge));
    const b = Browser.forApp(w.t);
    let page = await b.open(authorizeUrl({ client_id: w.c.client_id, request_uri: par.body.request_uri }));
    page = await b.submit(page, "/login", { login: w.user.username, password: w.user.password });
    if (/wants to access your account/.test(page.html)) page = await b.submit(page, "/consent", { decision: "allow" });
    const code = callbackParams(page.location!).code;
    const exchange = () => w.call("/oauth/token", { grant_type: "authorization_code", code, redirect_uri: w.c.redirect_uri, code_verifier: verifier });
    expect((await exchange()).status).toBe(200);
    expect((await exchange()).body.error).toBe("invalid_grant");
  });
});

describe("FAPI 2.0 Security Profile per client: general requirements (§5.3.2.1) and algorithms (§5.4.1)", () => {
  test("§5.3.2.1 only sender-constrained tokens: a token request without a DPoP proof is refused", async () => {
    const { tokens } = await w.flow();
    const r = await w.call("/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.body.refresh_token }, { dpop: null });
    expect([r.status, r.body.error]).toEqual([400, "invalid_dpop_proof"]);
  });

  test("§5.3.2.1 client assertion aud must be the issuer as a string: the token endpoint URL or an array is invalid_client", async () => {
    const { challenge } = pkce();
    expect((await w.call("/oauth/par", authParams(w.c, challenge), { aud: `${w.t.issuer}/oauth/token` })).body.error).toBe("invalid_client");
    expect((await w.call("/oauth/par", authParams(w.c, challenge), { aud: [w.t.issuer] })).body.error).toBe("invalid_client");
    expect((await w.call("/oauth/par", authParams(w.c, challenge), { aud: w.t.issuer })).status).toBe(201);
  });

  test("§5.3.2.1 confidential clients with private_key_jwt only: a FAPI client cannot be registered otherwise, and one with a secret is refused", async () => {
    const secretClient = await createOidcClient(w.t.deps, { client_name: "Secret RP" });
    await expect(updateClient(w.t.deps, ACTOR, secretClient.client_id, { fapi_profile: "fapi2-security" })).rejects.toBeInstanceOf(ValidationError);
    const pub = await createOidcClient(w.t.deps, { client_type: "public", client_name: "Public RP" });
    await expect(updateClient(w.t.deps, ACTOR, pub.client_id, { fapi_profile: "fapi2-security" })).rejects.toBeInstanceOf(ValidationError);
    // Forced into the mode behind the validator's back, it is still refused at the token endpoint.
    await w.t.deps.sql`UPDATE clients SET fapi_profile = 'fapi2-security' WHERE client_id = ${secretClient.client_id}`;
    const r = await w.t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${secretClient.client_id}:${secretClient.client_secret}`)}` }, body: "grant_type=client_credentials" });
    expect(((await r.json()) as any).error).toBe("invalid_client");
  });

  test("§5.3.2.1 refresh tokens are not rotated: the same refresh token works again (a lost response can be retried)", async () => {
    const { tokens } = await w.flow();
    const first = await w.call("/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.body.refresh_token });
    expect([first.status, first.body.refresh_token]).toEqual([200, undefined]);
    const again = await w.call("/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.body.refresh_token });
    expect(again.status).toBe(200);
    expect(again.body.token_type).toBe("DPoP");
  });

  test("§5.4.1 PS256, ES256 or EdDSA only: tokens the client sees are ES256 though it registered RS256; an RS256 assertion, DPoP proof or request object is refused", async () => {
    const { tokens } = await w.flow();
    expect(decodeProtectedHeader(tokens.body.access_token).alg).toBe("ES256");
    expect(decodeProtectedHeader(tokens.body.id_token).alg).toBe("ES256");
    const { challenge } = pkce();
    expect((await w.call("/oauth/par", authParams(w.c, challenge), { key: w.rs })).body.error).toBe("invalid_client");
    const rsProof = await createDpopProof(await generateDpopKey("RS256"), { htm: "POST", htu: `${w.t.issuer}/oauth/par` });
    expect((await w.call("/oauth/par", authParams(w.c, challenge), { dpop: rsProof })).body.error).toBe("invalid_dpop_proof");
    const now = Math.floor(Date.now() / 1000);
    const ro = await new SignJWT({ ...authParams(w.c, challenge), iss: w.c.client_id, aud: w.t.issuer, exp: now + 60, nbf: now, jti: randomToken(8) }).setProtectedHeader({ alg: "RS256", kid: w.rs.jwk.kid, typ: "oauth-authz-req+jwt" }).sign(w.rs.privateKey);
    expect((await w.call("/oauth/par", { client_id: w.c.client_id, request: ro })).body.error).toBe("invalid_request_object");
  });
});

const s = await world({ AUTHLY_FAPI_PROFILE: "fapi2-security", AUTHLY_AUTH_CODE_TTL: "300" }, false);

describe("FAPI 2.0 Security Profile server-wide (AUTHLY_FAPI_PROFILE)", () => {

  test("every third-party client is in the mode; codes live at most 60 s even with AUTHLY_AUTH_CODE_TTL=300 (§5.3.2.2)", async () => {
    const { tokens } = await s.flow();
    expect(tokens.body.token_type).toBe("DPoP");
    const [row] = await s.t.deps.sql<{ s: number }[]>`SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM authorization_codes ORDER BY created_at DESC LIMIT 1`;
    expect(row!.s).toBeLessThanOrEqual(60);
  });

  test("§5.3.2.1 a public client is refused (confidential clients only)", async () => {
    const pub = await createOidcClient(s.t.deps, { client_type: "public", client_name: "SPA" });
    const { challenge } = pkce();
    const r = await s.t.request("/oauth/par", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(authParams(pub, challenge) as Record<string, string>).toString() });
    expect(((await r.json()) as any).error).toBe("invalid_client");
  });

  test("discovery says PAR is required and lists only PS256, ES256 and EdDSA (§5.3.2.1 metadata, §5.4.1)", async () => {
    const doc = (await (await s.t.request("/.well-known/openid-configuration")).json()) as any;
    expect(doc.require_pushed_authorization_requests).toBe(true);
    for (const k of ["id_token_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported", "request_object_signing_alg_values_supported", "dpop_signing_alg_values_supported"]) {
      expect([k, doc[k].every((a: string) => ["PS256", "ES256", "EdDSA"].includes(a)), doc[k].length > 0]).toEqual([k, true, true]);
    }
  });

  test("the built-in first-party CLI client is outside the mode: its password login still works", async () => {
    const admin = await createOidcUser(s.t.deps, { is_admin: true });
    const r = await s.t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username: admin.username, password: admin.password, scope: "admin:clients:read" }).toString() });
    expect(r.status).toBe(200);
  });
});

// Security review (h-audit): in server-wide FAPI mode a client that registers itself must not opt
// out of the profile by sending fapi_profile "none" (dynamic registration, RFC 7592 update).
describe("FAPI 2.0 server-wide mode and dynamic registration", async () => {
  const reg = await createTestApp({ env: { AUTHLY_FAPI_PROFILE: "fapi2-security", AUTHLY_REGISTRATION: "open" } });
  const register = async (body: unknown, uri = "/oauth/register", method = "POST", token?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await reg.request(uri, { method, headers, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  /** An authorization request sent straight to /oauth/authorize (no PAR, client_secret_basic client). */
  const plainAuthorize = async (clientId: string) => {
    const { challenge } = pkce();
    const r = await reg.request(authorizeUrl({ client_id: clientId, redirect_uri: "https://rp.example/cb", response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256", state: "s1" }), { redirect: "manual" });
    return { status: r.status, location: r.headers.get("location") };
  };

  test("fapi_profile \"none\" sent at registration does not take a client out of the server-wide mode", async () => {
    const r = await register({ redirect_uris: ["https://rp.example/cb"], client_name: "Opt-out attempt", fapi_profile: "none" });
    expect(r.status).toBe(201);
    expect(r.body.fapi_profile ?? null).toBeNull();
    // The profile applies: no authorization request outside PAR, no client_secret_basic client.
    const a = await plainAuthorize(r.body.client_id);
    expect(a.status).toBe(303);
    expect(a.location!.startsWith("https://rp.example/cb?")).toBe(true);
    expect(callbackParams(a.location!).error).toBe("invalid_request");
  });

  test("nor does an RFC 7592 update that sets fapi_profile \"none\"", async () => {
    const r = await register({ redirect_uris: ["https://rp.example/cb"], client_name: "Later opt-out" });
    expect(r.status).toBe(201);
    const u = await register({ client_id: r.body.client_id, redirect_uris: ["https://rp.example/cb"], client_name: "Later opt-out", fapi_profile: "none" }, new URL(r.body.registration_client_uri).pathname, "PUT", r.body.registration_access_token);
    expect(u.status).toBe(200);
    expect(u.body.fapi_profile ?? null).toBeNull();
    const a = await plainAuthorize(r.body.client_id);
    expect(a.location!.startsWith("https://rp.example/cb?")).toBe(true);
    expect(callbackParams(a.location!).error).toBe("invalid_request");
  });
});
