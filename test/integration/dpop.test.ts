// DPoP (RFC 9449): proofs at the token endpoint for every grant (§4.3 checks, §5 binding, §8
// nonces), codes bound by dpop_jkt (§10), refresh tokens of public clients bound (§5), DPoP-bound
// tokens at UserInfo and the admin API (§7), introspection (§6.2), discovery (§5.1), and one jti
// raced at two nodes on one database. Multi-node parts skip on PGlite (one backend).
import { afterAll, describe, expect, test } from "bun:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { createApp } from "../../src/app";
import { updateClient } from "../../src/clients/service";
import { loadConfig } from "../../src/config";
import { buildDeps } from "../../src/server";
import { thumbprint } from "../../src/oauth/dpop";
import { createDpopProof, generateDpopKey, type DpopKey } from "../../src/lib/dpop-proof";
import { randomToken } from "../../src/lib/crypto";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { createSecondNode, createTestApp, testEnv, type TestApp } from "../support/app";
import { startAdminApi } from "../support/admin";
import { Browser, authorizeUrl, callbackParams, pkce } from "../support/browser";
import { post } from "../support/fixtures";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { authParams, jwtPayload, signIn } from "../support/oidc-flow";

const t: TestApp = await createTestApp();
const TOKEN = `${t.issuer}/oauth/token`;
const USERINFO = `${t.issuer}/oidc/userinfo`;
const ACTOR = { userId: null, ip: "127.0.0.1" };
const user = await createOidcUser(t.deps);
const service = await createOidcClient(t.deps, { client_name: "DPoP service", grant_types: ["client_credentials"], scopes: ["openid"] });
const serviceAuth = { id: service.client_id, secret: service.client_secret! };
const rp = await createOidcClient(t.deps, { client_name: "DPoP RP" });
const spa = await createOidcClient(t.deps, { client_type: "public", client_name: "DPoP SPA" });
const keyA = await generateDpopKey("ES256");
const keyB = await generateDpopKey("EdDSA");

async function token(params: Record<string, string | undefined>, auth: { id: string; secret: string } | undefined, proof?: string | string[]): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  const init = post(params, auth, headers);
  const h = new Headers(init.headers);
  for (const p of proof === undefined ? [] : Array.isArray(proof) ? proof : [proof]) h.append("DPoP", p);
  const r = await t.request("/oauth/token", { ...init, headers: h });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

const proofFor = (key: DpopKey, extra: Partial<{ htm: string; htu: string; accessToken: string; nonce: string }> = {}) => createDpopProof(key, { htm: "POST", htu: TOKEN, ...extra });

/** A proof with any header and claims (to break one rule at a time). */
async function rawProof(key: DpopKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ htm: "POST", htu: TOKEN, jti: randomToken(12), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk, ...header } as never)
    .sign(key.privateKey);
}

const cc = (proof?: string | string[]) => token({ grant_type: "client_credentials" }, serviceAuth, proof);

describe("token endpoint (RFC 9449 §5)", () => {
  test("a valid proof makes a DPoP-bound token: token_type DPoP and cnf.jkt is the key's thumbprint (RFC 9449 §5, §6.1)", async () => {
    const r = await cc(await proofFor(keyA));
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe("DPoP");
    expect(jwtPayload(r.body.access_token).cnf).toEqual({ jkt: thumbprint(keyA.publicJwk) });
    const plain = await cc();
    expect(plain.body.token_type).toBe("Bearer");
    expect(jwtPayload(plain.body.access_token).cnf).toBeUndefined();
  });

  test("introspection returns cnf.jkt and token_type DPoP for a bound token (RFC 9449 §6.2)", async () => {
    const r = await cc(await proofFor(keyB));
    const i = await t.request("/oauth/introspect", post({ token: r.body.access_token }, serviceAuth));
    const body = (await i.json()) as any;
    expect(body.active).toBe(true);
    expect(body.cnf).toEqual({ jkt: thumbprint(keyB.publicJwk) });
    expect(body.token_type).toBe("DPoP");
  });

  test("every advertised algorithm is accepted (RFC 9449 §5.1 dpop_signing_alg_values_supported)", async () => {
    for (const alg of ["ES256", "EdDSA", "PS256", "RS256"] as const) {
      const r = await cc(await proofFor(await generateDpopKey(alg)));
      expect([alg, r.status, r.body.token_type]).toEqual([alg, 200, "DPoP"]);
    }
  });

  test("each failed proof check is invalid_dpop_proof, 400 (RFC 9449 §4.3 checks 1-11)", async () => {
    const hmac = await new SignJWT({ htm: "POST", htu: TOKEN, jti: randomToken(8), iat: Math.floor(Date.now() / 1000) }).setProtectedHeader({ typ: "dpop+jwt", alg: "HS256", jwk: { kty: "oct", k: "AAAA" } } as never).sign(new Uint8Array(32));
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const other = await generateDpopKey("ES256");
    const wrongSig = (await proofFor(keyA)).split(".").slice(0, 2).join(".") + "." + (await proofFor(other)).split(".")[2];
    const now = Math.floor(Date.now() / 1000);
    // A 1024-bit RSA key (jose itself refuses to sign with one: signed by hand through WebCrypto).
    const short = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const { kty, n, e } = await exportJWK(short.publicKey);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const input = `${b64({ typ: "dpop+jwt", alg: "RS256", jwk: { kty, n, e } })}.${b64({ htm: "POST", htu: TOKEN, jti: randomToken(12), iat: now })}`;
    const shortRsaProof = `${input}.${Buffer.from(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", short.privateKey, Buffer.from(input))).toString("base64url")}`;
    const cases: [string, string | string[]][] = [
      ["RSA key under 2048 bits (check 6; RFC 7518 §3.3)", shortRsaProof],
      ["two proofs (check 1)", [await proofFor(keyA), await proofFor(keyA)]],
      ["not a JWS (check 2)", "not-a-jwt"],
      ["typ JWT (check 4)", await rawProof(keyA, { typ: "JWT" }, {})],
      ["symmetric alg (check 5)", hmac],
      ["alg none (check 5)", `${Buffer.from(JSON.stringify({ typ: "dpop+jwt", alg: "none", jwk: keyA.publicJwk })).toString("base64url")}.${Buffer.from(JSON.stringify({ htm: "POST", htu: TOKEN, jti: "x", iat: now })).toString("base64url")}.`],
      ["bad signature (check 6)", wrongSig],
      ["private key in jwk (check 7)", await rawProof(keyA, { jwk: privateJwk }, {})],
      ["no jwk (check 3)", await rawProof(keyA, { jwk: undefined }, {})],
      ["htm GET (check 8)", await rawProof(keyA, {}, { htm: "GET" })],
      ["htu of another endpoint (check 9)", await rawProof(keyA, {}, { htu: `${t.issuer}/oauth/par` })],
      ["htu of another host (check 9)", await rawProof(keyA, {}, { htu: "https://evil.example/oauth/token" })],
      ["iat too old (check 11)", await rawProof(keyA, {}, { iat: now - 600 })],
      ["iat in the future (check 11)", await rawProof(keyA, {}, { iat: now + 600 })],
      ["no jti (check 3)", await rawProof(keyA, {}, { jti: undefined })],
    ];
    for (const [name, proof] of cases) {
      const r = await cc(proof);
      expect([name, r.status, r.body.error]).toEqual([name, 400, "invalid_dpop_proof"]);
    }
  });

  test("htu is compared without query and fragment, normalised (RFC 9449 §4.3 check 9)", async () => {
    const r = await cc(await rawProof(keyA, {}, { htu: `${t.issuer.toUpperCase().replace("HTTP://", "http://")}/oauth/token?x=1#frag` }));
    expect(r.status).toBe(200);
  });

  test("a proof is used once: a replay is refused (RFC 9449 §11.1)", async () => {
    const proof = await proofFor(keyA);
    expect((await cc(proof)).status).toBe(200);
    const again = await cc(proof);
    expect([again.status, again.body.error]).toEqual([400, "invalid_dpop_proof"]);
    const stored = await t.deps.sql`SELECT count(*)::int AS n FROM dpop_jtis WHERE expires_at > now()`;
    expect(stored[0]!.n).toBeGreaterThan(0);
  });

  test("one proof jti sent many times at once is accepted once (RFC 9449 §11.1, micro-batched writes)", async () => {
    const proof = await proofFor(keyA);
    const results = await Promise.all(Array.from({ length: 6 }, () => cc(proof)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
  });

  test("a client registered with dpop_bound_access_tokens must send a proof (RFC 9449 §5.2)", async () => {
    const strict = await createOidcClient(t.deps, { client_name: "Strict DPoP", grant_types: ["client_credentials"], scopes: ["openid"] });
    const updated = await updateClient(t.deps, ACTOR, strict.client_id, { dpop_bound_access_tokens: true });
    expect(updated.dpop_bound_access_tokens).toBe(true);
    const auth = { id: strict.client_id, secret: strict.client_secret! };
    const none = await token({ grant_type: "client_credentials" }, auth);
    expect([none.status, none.body.error]).toEqual([400, "invalid_dpop_proof"]);
    const ok = await token({ grant_type: "client_credentials" }, auth, await proofFor(keyA));
    expect(ok.body.token_type).toBe("DPoP");
  });
});

describe("authorization code and refresh token (RFC 9449 §5, §10)", () => {
  test("dpop_jkt binds the code: no proof or another key is invalid_grant and leaves the code usable; the key redeems it (RFC 9449 §10)", async () => {
    const b = Browser.forApp(t);
    const flow = await signIn(b, rp, user, { dpop_jkt: thumbprint(keyA.publicJwk) });
    const exchange = (proof?: string) => token({ grant_type: "authorization_code", code: flow.callback.code, redirect_uri: rp.redirect_uri, code_verifier: flow.verifier }, { id: rp.client_id, secret: rp.client_secret! }, proof);
    expect((await exchange()).body.error).toBe("invalid_grant");
    expect((await exchange(await proofFor(keyB))).body.error).toBe("invalid_grant");
    const ok = await exchange(await proofFor(keyA));
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe("DPoP");
    expect(jwtPayload(ok.body.access_token).cnf.jkt).toBe(thumbprint(keyA.publicJwk));
  });

  test("a malformed dpop_jkt is invalid_request at the authorization endpoint (RFC 9449 §10)", async () => {
    const { challenge } = pkce();
    const r = await t.request(authorizeUrl(authParams(rp, challenge, { dpop_jkt: "short" })));
    expect(r.status).toBe(303);
    expect(callbackParams(r.headers.get("location")!).error).toBe("invalid_request");
  });

  test("a DPoP proof sent to PAR binds the code to its key (RFC 9449 §10.1)", async () => {
    const { verifier, challenge } = pkce();
    const par = await t.request("/oauth/par", { ...post(authParams(rp, challenge), { id: rp.client_id, secret: rp.client_secret! }), headers: { ...(post({}, { id: rp.client_id, secret: rp.client_secret! }).headers as Record<string, string>), DPoP: await proofFor(keyB, { htu: `${t.issuer}/oauth/par` }) } });
    expect(par.status).toBe(201);
    const { request_uri } = (await par.json()) as any;
    const b = Browser.forApp(t);
    let page = await b.open(authorizeUrl({ client_id: rp.client_id, request_uri }));
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    if (/wants to access your account/.test(page.html)) page = await b.submit(page, "/consent", { decision: "allow" });
    const code = callbackParams(page.location!).code!;
    const exchange = (proof?: string) => token({ grant_type: "authorization_code", code, redirect_uri: rp.redirect_uri, code_verifier: verifier }, { id: rp.client_id, secret: rp.client_secret! }, proof);
    expect((await exchange(await proofFor(keyA))).body.error).toBe("invalid_grant");
    expect((await exchange(await proofFor(keyB))).body.token_type).toBe("DPoP");
  });

  test("a public client's refresh token is bound to its key: another key or none is invalid_grant, the token stays usable (RFC 9449 §5)", async () => {
    const b = Browser.forApp(t);
    const flow = await signIn(b, spa, user, { scope: "openid offline_access", prompt: "consent" });
    const first = await token({ grant_type: "authorization_code", code: flow.callback.code, redirect_uri: spa.redirect_uri, code_verifier: flow.verifier, client_id: spa.client_id }, undefined, await proofFor(keyA));
    expect(first.body.token_type).toBe("DPoP");
    const refresh = (proof?: string) => token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token, client_id: spa.client_id }, undefined, proof);
    expect((await refresh()).body.error).toBe("invalid_grant");
    expect((await refresh(await proofFor(keyB))).body.error).toBe("invalid_grant");
    const ok = await refresh(await proofFor(keyA));
    expect([ok.status, ok.body.token_type]).toEqual([200, "DPoP"]);
  });

  test("a confidential client's refresh token is not bound to the key (RFC 9449 §5: it is bound to the client's authentication)", async () => {
    const b = Browser.forApp(t);
    const flow = await signIn(b, rp, user, { scope: "openid offline_access", prompt: "consent" });
    const auth = { id: rp.client_id, secret: rp.client_secret! };
    const first = await token({ grant_type: "authorization_code", code: flow.callback.code, redirect_uri: rp.redirect_uri, code_verifier: flow.verifier }, auth, await proofFor(keyA));
    const ok = await token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token }, auth, await proofFor(keyB));
    expect(ok.status).toBe(200);
    expect(jwtPayload(ok.body.access_token).cnf.jkt).toBe(thumbprint(keyB.publicJwk));
  });
});

describe("resources: UserInfo (RFC 9449 §7)", () => {
  async function boundUserToken(key: DpopKey): Promise<string> {
    const flow = await signIn(Browser.forApp(t), rp, user);
    const r = await token({ grant_type: "authorization_code", code: flow.callback.code, redirect_uri: rp.redirect_uri, code_verifier: flow.verifier }, { id: rp.client_id, secret: rp.client_secret! }, await proofFor(key));
    return r.body.access_token;
  }
  const ui = (headers: Record<string, string>) => t.request("/oidc/userinfo", { headers });

  test("Authorization: DPoP with a proof carrying ath is served (RFC 9449 §7.1)", async () => {
    const at = await boundUserToken(keyA);
    const r = await ui({ authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "GET", htu: USERINFO, accessToken: at }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).sub).toBe(user.id);
  });

  test("a DPoP-bound token presented as Bearer is refused with a DPoP challenge (RFC 9449 §7.2)", async () => {
    const at = await boundUserToken(keyA);
    const r = await ui({ authorization: `Bearer ${at}` });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^DPoP error="invalid_token".*algs="ES256 EdDSA PS256 RS256"/);
  });

  // Security review (h-audit): the other way a Bearer token reaches UserInfo (RFC 6750 §2.2).
  test("a DPoP-bound token in a UserInfo POST body is refused, even beside a valid proof of its key (RFC 9449 §7.2)", async () => {
    const at = await boundUserToken(keyA);
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const bare = await t.request("/oidc/userinfo", { method: "POST", headers: form, body: new URLSearchParams({ access_token: at }).toString() });
    expect(bare.status).toBe(401);
    const proof = await proofFor(keyA, { htm: "POST", htu: USERINFO, accessToken: at });
    const withProof = await t.request("/oidc/userinfo", { method: "POST", headers: { ...form, DPoP: proof }, body: new URLSearchParams({ access_token: at }).toString() });
    expect(withProof.status).toBe(401);
    expect(withProof.headers.get("www-authenticate")).toMatch(/^DPoP error="invalid_token"/);
  });

  test("no proof, no ath, a wrong ath, another key, another method or URL: 401 invalid_dpop_proof in WWW-Authenticate (RFC 9449 §7.1, §4.3 check 12)", async () => {
    const at = await boundUserToken(keyA);
    const other = await boundUserToken(keyB);
    const cases: [string, Record<string, string>][] = [
      ["no proof", { authorization: `DPoP ${at}` }],
      ["no ath", { authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "GET", htu: USERINFO }) }],
      ["ath of another token", { authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "GET", htu: USERINFO, accessToken: other }) }],
      ["another key", { authorization: `DPoP ${at}`, DPoP: await proofFor(keyB, { htm: "GET", htu: USERINFO, accessToken: at }) }],
      ["htm POST for a GET", { authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "POST", htu: USERINFO, accessToken: at }) }],
      ["htu of the token endpoint", { authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "GET", htu: TOKEN, accessToken: at }) }],
    ];
    for (const [name, headers] of cases) {
      const r = await ui(headers);
      expect([name, r.status, r.headers.get("www-authenticate")?.startsWith('DPoP error="invalid_dpop_proof"')]).toEqual([name, 401, true]);
    }
  });

  test("a proof replayed at UserInfo is refused (RFC 9449 §11.1)", async () => {
    const at = await boundUserToken(keyA);
    const headers = { authorization: `DPoP ${at}`, DPoP: await proofFor(keyA, { htm: "GET", htu: USERINFO, accessToken: at }) };
    expect((await ui(headers)).status).toBe(200);
    expect((await ui(headers)).status).toBe(401);
  });

  test("an unbound token under the DPoP scheme is invalid_token; a Bearer token still works; no token gets both challenges (RFC 9449 §7.1)", async () => {
    const flow = await signIn(Browser.forApp(t), rp, user);
    const plain = (await token({ grant_type: "authorization_code", code: flow.callback.code, redirect_uri: rp.redirect_uri, code_verifier: flow.verifier }, { id: rp.client_id, secret: rp.client_secret! })).body.access_token;
    const r = await ui({ authorization: `DPoP ${plain}`, DPoP: await proofFor(keyA, { htm: "GET", htu: USERINFO, accessToken: plain }) });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toStartWith('DPoP error="invalid_token"');
    expect((await ui({ authorization: `Bearer ${plain}` })).status).toBe(200);
    const none = await ui({});
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(none.headers.get("www-authenticate")).toContain('DPoP realm="userinfo"');
  });
});

const n = await createTestApp({ env: { AUTHLY_DPOP_NONCE: "true" } });
const svc = await createOidcClient(n.deps, { grant_types: ["client_credentials"], scopes: ["openid"] });

describe("server nonces (RFC 9449 §8, §9)", () => {
  const auth = { id: svc.client_id, secret: svc.client_secret! };
  const req = async (proof: string) => {
    const init = post({ grant_type: "client_credentials" }, auth, {});
    const h = new Headers(init.headers);
    h.set("DPoP", proof);
    const r = await n.request("/oauth/token", { ...init, headers: h });
    return { status: r.status, body: (await r.json()) as any, nonce: r.headers.get("dpop-nonce") };
  };

  test("a proof without the server's nonce gets use_dpop_nonce with DPoP-Nonce; with it, the token (RFC 9449 §8)", async () => {
    const first = await req(await createDpopProof(keyA, { htm: "POST", htu: TOKEN }));
    expect([first.status, first.body.error]).toEqual([400, "use_dpop_nonce"]);
    expect(first.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ok = await req(await createDpopProof(keyA, { htm: "POST", htu: TOKEN, nonce: first.nonce! }));
    expect([ok.status, ok.body.token_type]).toEqual([200, "DPoP"]);
    expect(ok.nonce).toBe(first.nonce);
    const forged = await req(await createDpopProof(keyA, { htm: "POST", htu: TOKEN, nonce: "A".repeat(43) }));
    expect(forged.body.error).toBe("use_dpop_nonce");
  });

  test("the nonce is valid at another node of the same server with nothing stored per nonce (RFC 9449 §8)", async () => {
    const config = loadConfig(testEnv(n.db, { AUTHLY_DPOP_NONCE: "true" }), { purpose: "server" });
    const deps = buildDeps(config, n.deps.sql);
    deps.health.ready = true;
    const nodeB = createApp(deps, { accessLog: false });
    const first = await req(await createDpopProof(keyA, { htm: "POST", htu: TOKEN }));
    const init = post({ grant_type: "client_credentials" }, auth, {});
    const h = new Headers(init.headers);
    h.set("DPoP", await createDpopProof(keyA, { htm: "POST", htu: TOKEN, nonce: first.nonce! }));
    const r = await nodeB.handle(new Request("http://localhost/oauth/token", { ...init, headers: h }));
    expect(r.status).toBe(200);
  });
});

const api = await startAdminApi();
const admin = await createOidcUser(api.deps, { is_admin: true });

describe("admin API with DPoP-bound tokens (RFC 9449 §7)", () => {

  test("the CLI client's token obtained with a proof is DPoP-bound; the admin API takes it with a proof and refuses it as Bearer (RFC 9449 §7.1, §7.2)", async () => {
    const issuer = api.deps.config.issuer;
    const r = await fetch(`${api.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", DPoP: await createDpopProof(keyA, { htm: "POST", htu: `${issuer}/oauth/token` }) },
      body: new URLSearchParams({ grant_type: "password", client_id: CLI_CLIENT_ID, username: admin.username, password: admin.password, scope: "admin:clients:read" }),
    });
    const body = (await r.json()) as any;
    expect([r.status, body.token_type]).toEqual([200, "DPoP"]);
    const at = body.access_token;
    const ok = await api.call("GET", "/admin/clients", { token: null, headers: { authorization: `DPoP ${at}`, DPoP: await createDpopProof(keyA, { htm: "GET", htu: `${issuer}/admin/clients`, accessToken: at }) } });
    expect(ok.status).toBe(200);
    const bearer = await api.call("GET", "/admin/clients", { token: at });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get("www-authenticate")).toStartWith('DPoP error="invalid_token"');
    const stolen = await api.call("GET", "/admin/clients", { token: null, headers: { authorization: `DPoP ${at}`, DPoP: await createDpopProof(keyB, { htm: "GET", htu: `${issuer}/admin/clients`, accessToken: at }) } });
    expect(stolen.status).toBe(401);
  });
});

test("dynamic registration accepts dpop_bound_access_tokens and returns it (RFC 9449 §5.2, RFC 7591 §2)", async () => {
  const r = await t.request("/oauth/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "DCR DPoP", redirect_uris: ["https://dcr.example.com/cb"], dpop_bound_access_tokens: true }) });
  expect(r.status).toBe(201);
  const body = (await r.json()) as any;
  expect(body.dpop_bound_access_tokens).toBe(true);
  const [row] = await t.deps.sql<{ dpop_bound_access_tokens: boolean }[]>`SELECT dpop_bound_access_tokens FROM clients WHERE client_id = ${body.client_id}`;
  expect(row!.dpop_bound_access_tokens).toBe(true);
});

test("the purge job removes expired DPoP jtis (RFC 9449 §11.1: bounded lifetime)", async () => {
  await t.deps.sql`INSERT INTO dpop_jtis (jti_hash, expires_at) VALUES ('expired-one', now() - interval '1 minute'), ('live-one', now() + interval '1 minute')`;
  const { PURGE_RULES } = await import("../../src/maintenance/store");
  const rule = PURGE_RULES.find((r) => r.table === "dpop_jtis")!;
  expect(await rule.purge(t.deps.sql, 1000, 0, 0)).toBeGreaterThanOrEqual(1);
  const left = await t.deps.sql<{ jti_hash: string }[]>`SELECT jti_hash FROM dpop_jtis WHERE jti_hash IN ('expired-one', 'live-one')`;
  expect(left.map((r) => r.jti_hash)).toEqual(["live-one"]);
});

test("discovery advertises dpop_signing_alg_values_supported (RFC 9449 §5.1)", async () => {
  const doc = (await (await t.request("/.well-known/oauth-authorization-server")).json()) as any;
  expect(doc.dpop_signing_alg_values_supported).toEqual(["ES256", "EdDSA", "PS256", "RS256"]);
});

describe("several nodes on one database (RFC 9449 §11.1: the replay store is shared)", () => {
  const multiNode = t.db.engine !== "pglite";
  let closeB = async () => {};
  afterAll(() => closeB());

  test.skipIf(!multiNode)("one proof jti raced at two nodes is accepted once (RFC 9449 §11.1)", async () => {
    const nodeB = createSecondNode(t);
    closeB = nodeB.close;
    const appB = nodeB.app;
    for (let round = 0; round < 3; round++) {
      const proof = await proofFor(keyA);
      const send = (handle: (r: Request) => Promise<Response> | Response) => {
        const init = post({ grant_type: "client_credentials" }, serviceAuth, {});
        const h = new Headers(init.headers);
        h.set("DPoP", proof);
        return handle(new Request("http://localhost/oauth/token", { ...init, headers: h }));
      };
      const results = await Promise.all([send((r) => t.app.handle(r)), send((r) => appB.handle(r)), send((r) => t.app.handle(r)), send((r) => appB.handle(r))]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
    }
  });
});

