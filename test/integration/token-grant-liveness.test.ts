// A user's access token lives and dies with its grant (issue 19: it is not recorded at issuance,
// it names its grant): revoking the family (RFC 9700 §4.14.2 reuse, RFC 7009 refresh token
// revocation, a deactivated client) ends it at once on every node; revoking the access token alone
// (RFC 7009 §2.1) ends only it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { createApp } from "../../src/app";
import { createSql } from "../../src/db/sql";
import { POOL_SETTINGS } from "../../src/modes";
import { buildDeps } from "../../src/server";
import type { UserRecord } from "../../src/accounts/model";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createCode, createUser, post, type CreatedClient } from "../support/fixtures";

const t: TestApp = await createTestApp({ bootstrap: false });
// A second node on the same database: its own pool, caches and app.
const sql2 = createSql({ url: t.db.url, pool: POOL_SETTINGS.testing });
const node2 = createApp(buildDeps(t.deps.config, sql2), { accessLog: false });
afterAll(() => sql2.end({ timeout: 1 }));
let app: CreatedClient;
let user: UserRecord;

const as = (c: CreatedClient) => ({ id: c.clientId, secret: c.secret! });
async function call(path: string, init: RequestInit, on: "node1" | "node2" = "node1") {
  const r = on === "node1" ? await t.request(path, init) : await node2.handle(new Request(new URL(path, "http://localhost"), init));
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}
const introspect = (token: string, on: "node1" | "node2" = "node1") => call("/oauth/introspect", post({ token }, as(app)), on);
const revoke = (token: string) => call("/oauth/revoke", post({ token }, as(app)));
const refresh = (refreshToken: string) => call("/oauth/token", post({ grant_type: "refresh_token", refresh_token: refreshToken }, as(app)));
const active = async (token: string) => [(await introspect(token)).body.active, (await introspect(token, "node2")).body.active];

async function codeFlow() {
  const c = await createCode(t.deps, { clientId: app.clientId, userId: user.id, scope: "openid offline_access api:read" });
  const r = await call("/oauth/token", post({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri }, as(app)));
  expect(r.status).toBe(200);
  return r.body as { access_token: string; refresh_token: string };
}

beforeAll(async () => {
  app = await createClient(t.deps, { client_id: "liveness-app" });
  user = await createUser(t.deps, { username: "grace" });
});

describe("a user's access token lives with its grant", () => {
  test("issuance and rotation write no access-token row; the token names its grant and is active on every node", async () => {
    const first = await codeFlow();
    const next = await refresh(first.refresh_token);
    expect(next.status).toBe(200);
    for (const token of [first.access_token, String(next.body.access_token)]) {
      const { jti, gid } = decodeJwt(token);
      expect((await t.deps.sql`SELECT 1 FROM access_tokens WHERE jti = ${String(jti)}`).length).toBe(0);
      const [grant] = await t.deps.sql<{ user_id: string }[]>`SELECT user_id FROM grants WHERE id = ${String(gid)}::uuid`;
      expect(grant?.user_id).toBe(user.id);
      expect(await active(token)).toEqual([true, true]);
    }
  });

  test("reuse of a rotated refresh token revokes the family: every access token of it is inactive at once on every node (RFC 9700 §4.14.2)", async () => {
    const first = await codeFlow();
    const next = await refresh(first.refresh_token);
    expect(await active(String(next.body.access_token))).toEqual([true, true]);
    const reuse = await refresh(first.refresh_token);
    expect(reuse.body.error).toBe("invalid_grant");
    expect(await active(first.access_token)).toEqual([false, false]);
    expect(await active(String(next.body.access_token))).toEqual([false, false]);
    expect((await refresh(String(next.body.refresh_token))).body.error).toBe("invalid_grant");
  });

  test("revoking the refresh token (RFC 7009 §2.1) ends the grant's access tokens on every node", async () => {
    const tokens = await codeFlow();
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    expect(await active(tokens.access_token)).toEqual([false, false]);
  });

  test("revoking one access token (RFC 7009) ends only it: the grant's refresh token and other access tokens live on", async () => {
    const tokens = await codeFlow();
    const next = await refresh(tokens.refresh_token);
    expect((await revoke(tokens.access_token)).status).toBe(200);
    expect(await active(tokens.access_token)).toEqual([false, false]);
    // Recorded as revoked, only as a hash-free id with its grant: nothing secret at rest.
    const [row] = await t.deps.sql<{ grant_id: string; revoked: boolean }[]>`SELECT grant_id, revoked_at IS NOT NULL AS revoked FROM access_tokens WHERE jti = ${String(decodeJwt(tokens.access_token).jti)}`;
    expect(row).toEqual({ grant_id: String(decodeJwt(tokens.access_token).gid), revoked: true });
    expect(await active(String(next.body.access_token))).toEqual([true, true]);
    expect((await refresh(String(next.body.refresh_token))).status).toBe(200);
  });

  test("another client cannot revoke the token, and a token naming a grant of another client is not active", async () => {
    const other = await createClient(t.deps, { client_id: "liveness-other" });
    const tokens = await codeFlow();
    expect((await call("/oauth/revoke", post({ token: tokens.access_token }, as(other)))).status).toBe(200);
    expect(await active(tokens.access_token)).toEqual([true, true]);
  });

  test("deactivating the client ends its users' access tokens on every node", async () => {
    const tokens = await codeFlow();
    await t.deps.sql`UPDATE grants SET revoked_at = now(), revoked_reason = 'client_deactivated' WHERE client_id = ${app.clientId} AND revoked_at IS NULL`;
    expect(await active(tokens.access_token)).toEqual([false, false]);
  });
});
