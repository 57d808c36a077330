// grant_type=refresh_token (RFC 6749 §6; RFC 9700 §4.14.2): rotation on every use, family
// revocation on reuse, scope narrowing only, binding to the client, ID tokens on refresh.
import { beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createCode, createUser, post, type CreatedClient } from "../support/fixtures";
import type { UserRecord } from "../../src/accounts/model";

const t: TestApp = await createTestApp({ bootstrap: false });
let app: CreatedClient;
let other: CreatedClient;
let user: UserRecord;

async function call(path: string, init: RequestInit) {
  const r = await t.request(path, init);
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}
const creds = () => ({ id: app.clientId, secret: app.secret! });

async function login(scope = "openid profile offline_access api:read", client = app) {
  const c = await createCode(t.deps, { clientId: client.clientId, userId: user.id, scope });
  const r = await call("/oauth/token", post({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri }, { id: client.clientId, secret: client.secret! }));
  expect(r.status).toBe(200);
  return r.body as { access_token: string; refresh_token: string; id_token?: string; scope: string };
}
const refresh = (token: string, extra: Record<string, string> = {}, c = creds()) => call("/oauth/token", post({ grant_type: "refresh_token", refresh_token: token, ...extra }, c));
const introspect = async (token: string) => (await call("/oauth/introspect", post({ token }, creds()))).body;

beforeAll(async () => {
  app = await createClient(t.deps, { client_id: "web-app" });
  other = await createClient(t.deps, { client_id: "other-app" });
  user = await createUser(t.deps, { username: "carol" });
});

describe("rotation (RFC 9700 §4.14.2)", () => {
  test("every use returns a new refresh token; refresh tokens are stored only as hashes", async () => {
    const first = await login();
    const r = await refresh(first.refresh_token);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(typeof r.body.refresh_token).toBe("string");
    expect(r.body.refresh_token).not.toBe(first.refresh_token);
    expect(r.body.scope).toBe("openid profile offline_access api:read");
    const stored = await t.deps.sql`SELECT token_hash FROM refresh_tokens WHERE token_hash = ${first.refresh_token} OR token_hash = ${String(r.body.refresh_token)}`;
    expect(stored.length).toBe(0);
    const r2 = await refresh(String(r.body.refresh_token));
    expect(r2.status).toBe(200);
  });

  test("reusing a rotated token is invalid_grant and revokes the whole family, with an audit record", async () => {
    const first = await login();
    const second = await refresh(first.refresh_token);
    const third = await refresh(String(second.body.refresh_token));
    expect(third.status).toBe(200);
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    // Every member of the family is dead: the newest refresh token and all access tokens.
    expect((await refresh(String(third.body.refresh_token))).body.error).toBe("invalid_grant");
    for (const at of [first.access_token, second.body.access_token, third.body.access_token]) expect(await introspect(String(at))).toEqual({ active: false });
    const audits = await t.deps.sql`SELECT details FROM audit_log WHERE action = 'token.family_revoked'`;
    expect(audits.some((a) => (a.details as { reason: string }).reason === "refresh_token_reuse")).toBe(true);
  });

  test("a refresh token of another client is invalid_grant and stays usable by its owner", async () => {
    const first = await login();
    const stolen = await refresh(first.refresh_token, {}, { id: other.clientId, secret: other.secret! });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe("invalid_grant");
    expect((await refresh(first.refresh_token)).status).toBe(200);
  });

  test("unknown, expired and revoked refresh tokens are invalid_grant", async () => {
    expect((await refresh("not-a-token")).body.error).toBe("invalid_grant");
    const first = await login();
    await t.deps.sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE client_id = 'web-app' AND rotated_at IS NULL`;
    expect((await refresh(first.refresh_token)).body.error).toBe("invalid_grant");
    const again = await login();
    expect((await t.request("/oauth/revoke", post({ token: again.refresh_token }, creds()))).status).toBe(200);
    expect((await refresh(again.refresh_token)).body.error).toBe("invalid_grant");
  });

  test("a missing refresh_token is invalid_request", async () => {
    const r = await call("/oauth/token", post({ grant_type: "refresh_token" }, creds()));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });

  test("a deactivated user's refresh token is invalid_grant", async () => {
    const dave = await createUser(t.deps, { username: "dave" });
    const c = await createCode(t.deps, { clientId: app.clientId, userId: dave.id, scope: "api:read" });
    const r = await call("/oauth/token", post({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri }, creds()));
    await t.deps.sql`UPDATE users SET is_active = false WHERE id = ${dave.id}`;
    expect((await refresh(String(r.body.refresh_token))).body.error).toBe("invalid_grant");
  });
});

describe("scope (RFC 6749 §6)", () => {
  test("may be narrowed: the access token gets less, the new refresh token keeps the original scope", async () => {
    const first = await login();
    const narrowed = await refresh(first.refresh_token, { scope: "api:read" });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("api:read");
    expect(decodeJwt(String(narrowed.body.access_token)).scope).toBe("api:read");
    expect(narrowed.body.id_token).toBeUndefined();
    const full = await refresh(String(narrowed.body.refresh_token));
    expect(full.body.scope).toBe("openid profile offline_access api:read");
  });

  test("may never be widened: invalid_scope, and the refresh token is not spent", async () => {
    const first = await login("openid offline_access");
    const wide = await refresh(first.refresh_token, { scope: "openid offline_access api:write" });
    expect(wide.status).toBe(400);
    expect(wide.body.error).toBe("invalid_scope");
    expect((await refresh(first.refresh_token)).status).toBe(200);
  });
});

describe("ID tokens on refresh (OIDC Core §12.2)", () => {
  test("a new ID token when openid was granted, with the original auth_time and no nonce", async () => {
    const first = await login();
    const r = await refresh(first.refresh_token);
    const id = decodeJwt(String(r.body.id_token));
    expect(id.sub).toBe(user.id);
    expect(id.aud).toBe("web-app");
    expect(id.nonce).toBeUndefined();
    expect(id.auth_time).toBe(decodeJwt(first.id_token!).auth_time);
  });

  test("no ID token for a plain OAuth grant", async () => {
    const first = await login("api:read");
    const r = await refresh(first.refresh_token);
    expect(r.status).toBe(200);
    expect(r.body.id_token).toBeUndefined();
  });
});

describe("public clients", () => {
  test("refresh with client_id only, and rotation is enforced", async () => {
    const spa = await createClient(t.deps, { client_id: "spa", token_endpoint_auth_method: "none" });
    const c = await createCode(t.deps, { clientId: "spa", userId: user.id, scope: "openid offline_access" });
    const r = await call("/oauth/token", post({ grant_type: "authorization_code", client_id: spa.clientId, code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri }));
    const next = await call("/oauth/token", post({ grant_type: "refresh_token", client_id: "spa", refresh_token: String(r.body.refresh_token) }));
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(r.body.refresh_token);
    const reuse = await call("/oauth/token", post({ grant_type: "refresh_token", client_id: "spa", refresh_token: String(r.body.refresh_token) }));
    expect(reuse.body.error).toBe("invalid_grant");
  });
});

describe("absolute grant lifetime (AUTHLY_REFRESH_GRANT_MAX_LIFETIME)", () => {
  const MAX = 90 * 86400;
  const grantOf = async (refreshToken: string) => {
    // A user's access token names its grant (tokens/access-token.ts: it is not recorded).
    const [row] = await t.deps.sql<{ grant_id: string }[]>`SELECT grant_id FROM refresh_tokens r WHERE r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.grant_id = ${String(decodeJwt(refreshToken).gid)}::uuid`;
    return row!.grant_id;
  };

  test("a refresh grant older than the maximum lifetime is invalid_grant, however often it was used", async () => {
    const first = await login();
    const grantId = await grantOf(first.access_token);
    // The grant began just over 90 days ago (its refresh token itself is fresh and unexpired).
    await t.deps.sql`UPDATE grants SET created_at = now() - make_interval(secs => ${MAX + 5}) WHERE id = ${grantId}`;
    const r = await refresh(first.refresh_token);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_grant");
    expect(t.deps.config.refreshGrantMaxLifetime).toBe(MAX);
  });

  test("a rotated refresh token never expires after the grant's absolute lifetime", async () => {
    const first = await login();
    const grantId = await grantOf(first.access_token);
    // 10 days left of the grant; the refresh TTL (30 days) would reach past it.
    const shift = MAX - 10 * 86400;
    await t.deps.sql`UPDATE grants SET created_at = created_at - make_interval(secs => ${shift}), expires_at = expires_at - make_interval(secs => ${shift}) WHERE id = ${grantId}`;
    const r = await refresh(first.refresh_token);
    expect(r.status).toBe(200);
    const [row] = await t.deps.sql<{ past: boolean; grant_past: boolean }[]>`
      SELECT bool_or(r.expires_at > g.created_at + make_interval(secs => ${MAX})) AS past, bool_or(g.expires_at > g.created_at + make_interval(secs => ${MAX})) AS grant_past
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE g.id = ${grantId} AND r.rotated_at IS NULL`;
    expect(row).toEqual({ past: false, grant_past: false });
  });

  test("the first refresh token of a grant expires within the maximum lifetime when it is shorter than the refresh TTL", async () => {
    const short = await createTestApp({ bootstrap: false, env: { AUTHLY_REFRESH_GRANT_MAX_LIFETIME: "3600" } });
    const c = await createClient(short.deps, { client_id: "short-app" });
    const u = await createUser(short.deps, { username: "dora" });
    const code = await createCode(short.deps, { clientId: c.clientId, userId: u.id, scope: "openid offline_access" });
    const r = await short.request("/oauth/token", post({ grant_type: "authorization_code", code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri }, { id: c.clientId, secret: c.secret! }));
    expect(r.status).toBe(200);
    const [row] = await short.deps.sql<{ n: number; within: boolean }[]>`SELECT count(*)::int AS n, bool_and(r.expires_at <= g.created_at + interval '3600 seconds') AS within FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id`;
    expect(row).toEqual({ n: 1, within: true });
  });
});
