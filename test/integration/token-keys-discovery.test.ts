// Signing keys and metadata: JWKS with public members only and caching headers, rotation without
// downtime (the next key is published before it signs; old tokens keep verifying), scheduled
// rotation, key revocation, a wrong JWT_SECRET_KEY, and RFC 8414 / OIDC Discovery documents.
import { describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { createTestApp, TEST_SECRETS, type TestApp } from "../support/app";
import { createClient, createUser, post } from "../support/fixtures";
import { KeyDecryptionError, KeyService, signCompactJws } from "../../src/keys/service";
import { buildDeps } from "../../src/server";
import { issueAccessToken } from "../../src/tokens/access-token";
import { verifyIdTokenHint } from "../../src/oidc/id-token-hint";

const t: TestApp = await createTestApp({ bootstrap: false });
const svc = await createClient(t.deps, { client_id: "svc", grant_types: ["client_credentials"], scopes: ["api:read"] });
const ALG = t.deps.config.accessTokenAlg;

async function jwks(): Promise<JSONWebKeySet> {
  return (await t.request("/.well-known/jwks.json")).json();
}
async function issue(): Promise<string> {
  const r = await t.request("/oauth/token", post({ grant_type: "client_credentials" }, { id: "svc", secret: svc.secret! }));
  return ((await r.json()) as { access_token: string }).access_token;
}
async function active(token: string): Promise<boolean> {
  const r = await t.request("/oauth/introspect", post({ token }, { id: "svc", secret: svc.secret! }));
  return ((await r.json()) as { active: boolean }).active;
}
async function keyStates() {
  return t.deps.sql<{ kid: string; alg: string; state: string }[]>`SELECT kid, alg, state FROM signing_keys ORDER BY created_at`;
}

describe("JWKS (RFC 7517)", () => {
  test("publishes public members only, with caching headers and an ETag", async () => {
    const r = await t.request("/.well-known/jwks.json");
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(r.headers.get("content-type")).toContain("json");
    const etag = r.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const body = (await r.json()) as JSONWebKeySet;
    for (const k of body.keys) {
      for (const priv of ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]) expect(k).not.toHaveProperty(priv);
      expect(typeof k.kid).toBe("string");
      expect(k.use).toBe("sig");
    }
    expect(new Set(body.keys.map((k) => k.alg))).toEqual(new Set(["RS256", "ES256", "EdDSA"]));
    const cached = await t.request("/.well-known/jwks.json", { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
  });

  test("publishes the next key of every algorithm before it signs", async () => {
    const published = new Set((await jwks()).keys.map((k) => k.kid));
    for (const k of await keyStates()) if (k.state === "next" || k.state === "active") expect(published.has(k.kid)).toBe(true);
  });
});

describe("rotation without downtime", () => {
  test("new tokens use the former next key; old tokens still verify and introspect", async () => {
    const before = await keyStates();
    const next = before.find((k) => k.alg === ALG && k.state === "next")!.kid;
    const oldToken = await issue();
    const oldKid = decodeProtectedHeader(oldToken).kid;
    expect(before.find((k) => k.kid === oldKid)!.state).toBe("active");
    const rotated = await t.deps.keys.rotate(ALG);
    expect(rotated.activated).toBe(next);
    expect(rotated.retired).toEqual([oldKid!]);
    const newToken = await issue();
    expect(decodeProtectedHeader(newToken).kid).toBe(next);
    const set = createLocalJWKSet(await jwks());
    await jwtVerify(oldToken, set, { issuer: t.issuer });
    await jwtVerify(newToken, set, { issuer: t.issuer });
    expect(await active(oldToken)).toBe(true);
    expect(await active(newToken)).toBe(true);
    // The retired key stays published and a fresh next key is published already.
    const kids = new Set((await jwks()).keys.map((k) => k.kid));
    expect(kids.has(oldKid!)).toBe(true);
    expect(kids.has(rotated.next)).toBe(true);
  });

  test("another worker (its own key cache) verifies tokens of the new key at once", async () => {
    const other = new KeyService(t.deps.sql, TEST_SECRETS.JWT_SECRET_KEY, { publishRetiredSeconds: 3900 });
    await other.refresh();
    const rotated = await t.deps.keys.rotate(ALG);
    const key = await other.verificationKey(rotated.activated);
    expect(key?.kid).toBe(rotated.activated);
  });

  test("scheduled rotation rotates only keys older than the interval, once", async () => {
    expect(await t.deps.keys.rotateDue(30)).toEqual([]);
    await t.deps.sql`UPDATE signing_keys SET activated_at = now() - interval '31 days' WHERE alg = 'EdDSA' AND state = 'active'`;
    const [a, b] = await Promise.all([t.deps.keys.rotateDue(30), t.deps.keys.rotateDue(30)]);
    const all = [...a!, ...b!];
    expect(all.map((r) => r.alg)).toEqual(["EdDSA"]);
    expect(await t.deps.keys.rotateDue(30)).toEqual([]);
    expect(await t.deps.keys.rotateDue(0)).toEqual([]);
  });

  test("a revoked key no longer verifies its tokens", async () => {
    const token = await issue();
    const kid = decodeProtectedHeader(token).kid!;
    await t.deps.keys.rotate(ALG);
    expect(await active(token)).toBe(true);
    expect(await t.deps.keys.revoke(kid)).toMatchObject({ kid, already: false });
    expect(await active(token)).toBe(false);
    expect((await jwks()).keys.some((k) => k.kid === kid)).toBe(false);
  });

  test("revoking the active key promotes the next key: signing goes on with a published key", async () => {
    const token = await issue();
    const kid = decodeProtectedHeader(token).kid!;
    const next = (await keyStates()).find((k) => k.alg === ALG && k.state === "next")!.kid;
    expect(await t.deps.keys.revoke(kid)).toMatchObject({ kid, already: false });
    expect(await active(token)).toBe(false);
    const fresh = await issue();
    expect(decodeProtectedHeader(fresh).kid).toBe(next);
    expect(await active(fresh)).toBe(true);
    const states = await keyStates();
    expect(states.filter((k) => k.alg === ALG && k.state === "active").map((k) => k.kid)).toEqual([next]);
    expect(states.filter((k) => k.alg === ALG && k.state === "next").length).toBe(1);
  });

  test("a key revoked on another node: its tokens are refused here at once (introspection, UserInfo, id_token_hint) and it leaves this node's JWKS", async () => {
    // Node 2: another process on the same database, with its own key cache.
    const node2 = buildDeps(t.deps.config, t.deps.sql);
    const user = await createUser(t.deps, { username: `rev-${crypto.randomUUID().slice(0, 8)}` });
    const userToken = (await issueAccessToken(t.deps, { clientId: "svc", sub: user.id, userId: user.id, scope: "openid profile" })).token;
    const clientToken = await issue();
    const kid = decodeProtectedHeader(clientToken).kid!;
    expect(decodeProtectedHeader(userToken).kid).toBe(kid);
    const idKey = await t.deps.keys.signingKey(t.deps.config.idTokenAlg);
    const now = Math.floor(Date.now() / 1000);
    const idToken = await signCompactJws(idKey, { typ: "JWT" }, { iss: t.deps.config.issuer, sub: user.id, aud: "svc", iat: now, exp: now + 300 });
    // This node has every key cached and the tokens verified.
    expect(await active(clientToken)).toBe(true);
    expect((await t.request("/oidc/userinfo", { headers: { authorization: `Bearer ${userToken}` } })).status).toBe(200);
    expect(await verifyIdTokenHint(t.deps, idToken)).toMatchObject({ sub: user.id });
    expect((await jwks()).keys.some((k) => k.kid === kid)).toBe(true);

    expect(await node2.keys.revoke(kid)).toMatchObject({ kid, already: false });
    expect(await node2.keys.revoke(idKey.kid)).toMatchObject({ kid: idKey.kid });

    expect(await active(clientToken)).toBe(false);
    const info = await t.request("/oidc/userinfo", { headers: { authorization: `Bearer ${userToken}` } });
    expect(info.status).toBe(401);
    expect(info.headers.get("www-authenticate")).toContain("invalid_token");
    expect(await verifyIdTokenHint(t.deps, idToken)).toBeUndefined();
    // Meeting a token of the revoked key reloaded this node's keys: the JWKS no longer lists it.
    expect((await jwks()).keys.some((k) => k.kid === kid || k.kid === idKey.kid)).toBe(false);
    // Signing goes on with the promoted key.
    expect(await active(await issue())).toBe(true);
  });

  test("a wrong JWT_SECRET_KEY is a clear error, not garbage tokens", async () => {
    const wrong = new KeyService(t.deps.sql, "a-completely-different-secret-key-0123456789", { publishRetiredSeconds: 3900 });
    await expect(wrong.refresh()).rejects.toBeInstanceOf(KeyDecryptionError);
  });

  test("private keys are stored encrypted", async () => {
    const rows = await t.deps.sql<{ private_jwk_encrypted: string }[]>`SELECT private_jwk_encrypted FROM signing_keys`;
    for (const r of rows) {
      expect(r.private_jwk_encrypted.startsWith("v1.")).toBe(true);
      expect(r.private_jwk_encrypted).not.toContain('"d"');
    }
  });
});

describe("metadata (RFC 8414, OIDC Discovery 1.0)", () => {
  test("both documents are the same, exact issuer, every endpoint of the contract", async () => {
    const a = await t.request("/.well-known/oauth-authorization-server");
    const o = await t.request("/.well-known/openid-configuration");
    expect(a.status).toBe(200);
    expect(o.headers.get("cache-control")).toMatch(/max-age/);
    const as = (await a.json()) as Record<string, unknown>;
    const op = (await o.json()) as Record<string, unknown>;
    expect(as).toEqual(op);
    expect(op.issuer).toBe(t.issuer);
    expect(op.token_endpoint).toBe(`${t.issuer}/oauth/token`);
    expect(op.authorization_endpoint).toBe(`${t.issuer}/oauth/authorize`);
    expect(op.jwks_uri).toBe(`${t.issuer}/.well-known/jwks.json`);
    expect(op.revocation_endpoint).toBe(`${t.issuer}/oauth/revoke`);
    expect(op.introspection_endpoint).toBe(`${t.issuer}/oauth/introspect`);
    expect(op.userinfo_endpoint).toBe(`${t.issuer}/oidc/userinfo`);
    expect(op.end_session_endpoint).toBe(`${t.issuer}/oidc/logout`);
    expect(op.response_types_supported).toEqual(["code"]);
    expect(op.code_challenge_methods_supported).toEqual(["S256"]);
    expect(op.subject_types_supported).toEqual(["public"]);
    expect(op.grant_types_supported).toEqual(["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"]);
    expect(op.device_authorization_endpoint).toBe(`${t.issuer}/oauth/device_authorization`);
    expect(op.token_endpoint_auth_methods_supported).toEqual(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);
    expect((op.id_token_signing_alg_values_supported as string[])[0]).toBe("RS256");
    expect(op.request_parameter_supported).toBe(true); // RFC 9101 request objects by value (docs/fapi2.md)
    expect(op.request_uri_parameter_supported).toBe(false); // request_uri only as a PAR URN of ours, never fetched
    expect(op.authorization_response_iss_parameter_supported).toBe(true);
    expect(op.scopes_supported).toContain("openid");
    expect(op.claims_supported).toContain("sub");
    expect(typeof op.claims_parameter_supported).toBe("boolean");
  });

  test("served the same every time, static (no per-request header), with CORS for browser clients", async () => {
    const first = await t.request("/.well-known/openid-configuration", { headers: { Origin: "https://spa.example" } });
    const second = await t.request("/.well-known/openid-configuration");
    expect(await first.text()).toBe(await second.text());
    expect(first.headers.get("access-control-allow-origin")).toBe("*");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    // A public, cacheable document: byte-identical answers, headers included (no request id).
    expect([...first.headers.entries()]).toEqual([...second.headers.entries()]);
    expect(first.headers.get("content-type")).toContain("application/json");
    const keys = await t.request("/.well-known/jwks.json", { headers: { Origin: "https://spa.example" } });
    expect(keys.headers.get("access-control-allow-origin")).toBe("*");
    expect(keys.headers.get("x-content-type-options")).toBe("nosniff");
    expect(keys.headers.get("etag")).toBeTruthy();
    // Every other endpoint still names its request.
    expect((await t.request("/health/live")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("the issuer equals the iss of every token", async () => {
    const op = (await (await t.request("/.well-known/openid-configuration")).json()) as { issuer: string };
    const { payload } = await jwtVerify(await issue(), createLocalJWKSet(await jwks()));
    expect(payload.iss).toBe(op.issuer);
  });
});
