// Admin API authorization matrix (issue 8): every admin route — listed from the admin API's own
// route table, so a new route is covered without touching this file — refuses a missing token, an
// expired, revoked, foreign-issuer, unknown-key, unsigned or wrong-audience token, an ID token
// presented as an access token, a client_credentials token, the token of a non-admin or
// deactivated user, and a token lacking the route's scope; a token with the scope gets through.
import { describe, expect, test } from "bun:test";
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from "jose";
import type { KeyObject } from "node:crypto";
import { adminRouteSpecs } from "../../src/admin/routes";
import type { AdminRouteSpec } from "../../src/admin/spec";
import { findClientByClientId } from "../../src/clients/store";
import { findUserById } from "../../src/accounts/store";
import { issueAccessToken } from "../../src/tokens/access-token";
import { issueIdToken } from "../../src/oidc/id-token";
import { ADMIN_SCOPES } from "../../src/scopes/model";
import { ALL_ADMIN_SCOPES, makeUser, startAdminApi, tokenFor } from "../support/admin";
import { createOidcClient } from "../support/oidc-fixtures";

const api = await startAdminApi();
const deps = api.deps;
const specs = adminRouteSpecs(deps);
const guarded = specs.filter((s) => s.scope !== null);

// Path parameters that exist nowhere: the guard must answer before any lookup, and a request
// that gets through ends in 404, never in a change.
const fill = (s: AdminRouteSpec) => s.path.replace(/:client_id/g, "no-such-client").replace(/:name/g, "no:such:scope").replace(/:id/g, "00000000-0000-4000-8000-000000000000").replace(/:[a-z_]+/g, "x");

async function call(s: AdminRouteSpec, token: string | null): Promise<{ status: number; body: any }> {
  const r = await api.call(s.method, fill(s), { token, ...(s.method === "POST" || s.method === "PATCH" ? { body: {} } : {}) });
  return { status: r.status, body: r.body };
}

/** Every guarded route must answer `status` with `error` for this token. */
async function expectAll(token: string | null, status: number, error: string, routes = guarded): Promise<void> {
  const wrong: string[] = [];
  for (const s of routes) {
    const r = await call(s, token);
    if (r.status !== status || r.body?.error !== error) wrong.push(`${s.method} ${s.path}: ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
  }
  expect(wrong).toEqual([]);
}

// --- tokens ------------------------------------------------------------------------------------
const admin = api.admin;
const sign = (payload: Record<string, unknown>, header: Record<string, unknown>, key: CryptoKey | KeyObject) => new SignJWT(payload).setProtectedHeader(header as never).sign(key);
const now = () => Math.floor(Date.now() / 1000);
const baseClaims = () => ({ iss: deps.config.issuer, sub: admin.id, aud: deps.config.issuer, client_id: "authly-cli", scope: ALL_ADMIN_SCOPES, jti: crypto.randomUUID(), iat: now(), exp: now() + 600 });

describe("admin API authorization matrix", () => {
  test("the route table lists guarded routes for every admin scope", () => {
    expect(guarded.length).toBeGreaterThan(15);
    const scopes = new Set(guarded.map((s) => s.scope));
    for (const s of ADMIN_SCOPES) expect(scopes.has(s)).toBe(true);
  });

  test("no token: 401 unauthorized on every guarded route", async () => {
    await expectAll(null, 401, "unauthorized");
  });

  test("malformed bearer values: 401", async () => {
    for (const bad of ["x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", ""]) await expectAll(bad || null, 401, "unauthorized", guarded.slice(0, 3));
  });

  test("expired token: 401", async () => {
    const expired = await issueAccessToken(deps, { clientId: "authly-cli", sub: admin.id, userId: admin.id, scope: ALL_ADMIN_SCOPES, ttlSeconds: -120 });
    await expectAll(expired.token, 401, "unauthorized");
  });

  test("revoked token (RFC 7009 revocation by its client): 401", async () => {
    const tok = await tokenFor(deps, admin);
    const r = await fetch(`${api.url}/oauth/revoke`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: tok, client_id: "authly-cli" }).toString() });
    expect(r.status).toBe(200);
    await expectAll(tok, 401, "unauthorized");
  });

  test("token of an admin who was deactivated since: 401", async () => {
    const other = await makeUser(deps, `deact-${crypto.randomUUID().slice(0, 6)}`, { admin: true });
    const tok = await tokenFor(deps, other);
    await deps.sql`UPDATE users SET is_active = false WHERE id = ${other.id}`;
    await expectAll(tok, 401, "unauthorized");
  });

  test("token of a non-admin user carrying every admin scope: 403", async () => {
    const plain = await makeUser(deps, `plain-${crypto.randomUUID().slice(0, 6)}`);
    await expectAll(await tokenFor(deps, plain), 403, "forbidden");
  });

  test("token lacking the route's scope (it has every other admin scope): 403", async () => {
    const wrong: string[] = [];
    for (const s of guarded) {
      const scope = s.scope === "any" ? "openid profile" : ADMIN_SCOPES.filter((x) => x !== s.scope).join(" ");
      const r = await call(s, await tokenFor(deps, admin, scope));
      if (r.status !== 403 || r.body?.error !== "forbidden") wrong.push(`${s.method} ${s.path} (${s.scope}): ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test("token from another issuer, signed with this server's own active key: 401", async () => {
    const key = await deps.keys.signingKey(deps.config.accessTokenAlg);
    const tok = await sign({ ...baseClaims(), iss: "https://evil.example" }, { alg: key.alg, kid: key.kid, typ: "at+jwt" }, key.privateKeyObject!);
    await expectAll(tok, 401, "unauthorized");
  });

  test("token meant for another audience: 401", async () => {
    const tok = await tokenFor(deps, admin, ALL_ADMIN_SCOPES, { aud: "https://api.other.example" });
    await expectAll(tok, 401, "unauthorized");
  });

  test("token signed by an unknown key, with an unknown kid or a known kid: 401", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    await expectAll(await sign(baseClaims(), { alg: "ES256", kid, typ: "at+jwt" }, privateKey), 401, "unauthorized");
    const real = await deps.keys.signingKey("ES256");
    await expectAll(await sign(baseClaims(), { alg: "ES256", kid: real.kid, typ: "at+jwt" }, privateKey), 401, "unauthorized");
    await expectAll(await sign(baseClaims(), { alg: "ES256", typ: "at+jwt" }, privateKey), 401, "unauthorized", guarded.slice(0, 3));
  });

  test("algorithm confusion: HS256 keyed with the public key, and alg none: 401", async () => {
    const real = await deps.keys.signingKey("RS256");
    const pem = new TextEncoder().encode(JSON.stringify(real.publicJwk));
    const hs = await new SignJWT(baseClaims()).setProtectedHeader({ alg: "HS256", kid: real.kid, typ: "at+jwt" }).sign(pem);
    await expectAll(hs, 401, "unauthorized", guarded.slice(0, 5));
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: real.kid, typ: "at+jwt" })).toString("base64url")}.${Buffer.from(JSON.stringify(baseClaims())).toString("base64url")}.`;
    await expectAll(none, 401, "unauthorized", guarded.slice(0, 5));
  });

  test("an ID token presented as an access token, even one whose audience is the issuer: 401", async () => {
    const rp = await createOidcClient(deps, { client_id: deps.config.issuer });
    const client = (await findClientByClientId(deps.sql, rp.client_id))!;
    const user = (await findUserById(deps.sql, admin.id))!;
    const idToken = await issueIdToken(deps, { user, client, scope: `openid ${ALL_ADMIN_SCOPES}`, claims: { scope: ALL_ADMIN_SCOPES, client_id: "authly-cli", jti: crypto.randomUUID() } });
    await expectAll(idToken, 401, "unauthorized");
  });

  test("a client_credentials token (subject is a client, not a user): refused, never a 5xx", async () => {
    const tok = await issueAccessToken(deps, { clientId: "some-service", sub: "some-service", scope: ALL_ADMIN_SCOPES });
    const wrong: string[] = [];
    for (const s of guarded) {
      const r = await call(s, tok.token);
      if (![401, 403].includes(r.status)) wrong.push(`${s.method} ${s.path}: ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test("control: a token with the route's scope gets past the guard on every route", async () => {
    const wrong: string[] = [];
    for (const s of guarded) {
      const scope = s.scope === "any" ? "admin:system:read" : s.scope!;
      const r = await call(s, await tokenFor(deps, admin, scope));
      if ([401, 403, 429].includes(r.status) || r.status >= 500) wrong.push(`${s.method} ${s.path}: ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("the network rule comes first: from a non-loopback address even a valid token gets 403", async () => {
    const remote = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback" });
    const r = await remote.call("GET", "/admin/status", { headers: { "x-forwarded-for": "203.0.113.50" } });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("forbidden");
  });
});
