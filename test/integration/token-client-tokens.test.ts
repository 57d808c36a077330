// Client tokens (client_credentials, RFC 6749 §4.4) are not recorded at issuance. They must still
// behave as every other token: introspected active while live (RFC 7662 §2.2), revocable by their
// client only (RFC 7009 §2.1), and dead once their client is deactivated or deleted, on every node
// (all state is read from PostgreSQL). Driven through the real endpoints and the admin API.
import { describe, expect, test } from "bun:test";
import { startAdminApi, type AdminApi } from "../support/admin";
import { createClient, post, type CreatedClient } from "../support/fixtures";
import { issueAccessToken } from "../../src/tokens/access-token";

const a: AdminApi = await startAdminApi();
const svc: CreatedClient = await createClient(a.deps, { client_id: "svc-tokens", grant_types: ["client_credentials"], scopes: ["api:read"] });
const other: CreatedClient = await createClient(a.deps, { client_id: "svc-other", grant_types: ["client_credentials"], scopes: ["api:read"] });

const as = (c: CreatedClient) => ({ id: c.clientId, secret: c.secret! });
async function form(path: string, params: Record<string, string>, c: CreatedClient) {
  const init = post(params, as(c));
  const r = await fetch(a.url + path, { method: init.method, headers: init.headers as Record<string, string>, body: init.body as string });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}
async function issue(c: CreatedClient = svc): Promise<string> {
  const r = await form("/oauth/token", { grant_type: "client_credentials", scope: "api:read" }, c);
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}
const active = async (token: string, c: CreatedClient = svc) => (await form("/oauth/introspect", { token }, c)).body.active;
const revoke = (token: string, c: CreatedClient = svc) => form("/oauth/revoke", { token }, c);
const jti = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).jti as string;
/** iat has one-second granularity: a token issued in the second of a revocation counts as revoked. */
const nextSecond = () => Bun.sleep(1000 - (Date.now() % 1000) + 20);

describe("client_credentials tokens", () => {
  test("are introspected active with their claims, without a row per token", async () => {
    const token = await issue();
    const r = await form("/oauth/introspect", { token }, svc);
    expect(r.body).toMatchObject({ active: true, client_id: "svc-tokens", sub: "svc-tokens", scope: "api:read", token_type: "Bearer", jti: jti(token) });
    const rows = await a.deps.sql`SELECT 1 FROM access_tokens WHERE jti = ${jti(token)}`;
    expect(rows.length).toBe(0);
  });

  test("revocation by their client kills that token only; the revocation is recorded (RFC 7009 §2.1)", async () => {
    const [t1, t2] = [await issue(), await issue()];
    expect((await revoke(t1)).status).toBe(200);
    expect(await active(t1)).toBe(false);
    expect(await active(t2)).toBe(true);
    const [row] = await a.deps.sql<{ revoked: boolean; client_id: string }[]>`SELECT revoked_at IS NOT NULL AS revoked, client_id FROM access_tokens WHERE jti = ${jti(t1)}`;
    expect(row).toEqual({ revoked: true, client_id: "svc-tokens" });
    // Revoking again is still 200 and changes nothing.
    expect((await revoke(t1)).status).toBe(200);
    expect(await active(t1)).toBe(false);
  });

  test("another client cannot revoke them (200, nothing changes) nor introspect them", async () => {
    const token = await issue();
    expect((await revoke(token, other)).status).toBe(200);
    expect(await active(token)).toBe(true);
    expect(await active(token, other)).toBe(false);
    expect((await a.deps.sql`SELECT 1 FROM access_tokens WHERE jti = ${jti(token)}`).length).toBe(0);
  });

  test("deactivating the client kills every token it holds; reactivating does not revive them", async () => {
    const c = await createClient(a.deps, { client_id: "svc-deactivated", grant_types: ["client_credentials"], scopes: ["api:read"] });
    const old = await issue(c);
    expect(await active(old, c)).toBe(true);
    expect((await a.call("PATCH", "/admin/clients/svc-deactivated", { body: { is_active: false } })).status).toBe(200);
    expect((await form("/oauth/token", { grant_type: "client_credentials" }, c)).status).toBe(401);
    expect((await a.call("PATCH", "/admin/clients/svc-deactivated", { body: { is_active: true } })).status).toBe(200);
    expect(await active(old, c)).toBe(false);
    await nextSecond();
    const fresh = await issue(c);
    expect(await active(fresh, c)).toBe(true);
    expect(await active(old, c)).toBe(false);
  });

  test("a soft-deleted client's tokens are dead, also for a resource server named in their audience", async () => {
    const c = await createClient(a.deps, { client_id: "svc-soft", grant_types: ["client_credentials"], scopes: ["api:read"] });
    // svc is the resource server of https://svc.example/api (resources/: it introspects tokens for it).
    await a.deps.sql`INSERT INTO api_resources (identifier, name, credentials_client_id) VALUES ('https://svc.example/api', 'Svc', ${svc.clientId})`;
    // A client token with an audience, as the token service signs them (not recorded).
    const { token } = await issueAccessToken(a.deps, { clientId: "svc-soft", sub: "svc-soft", scope: "api:read", aud: [a.deps.config.issuer, "https://svc.example/api"] });
    expect(await active(token, svc)).toBe(true);
    expect((await a.call("DELETE", "/admin/clients/svc-soft")).status).toBe(200);
    expect(await active(token, svc)).toBe(false);
    // The client itself can no longer authenticate to ask.
    expect((await form("/oauth/introspect", { token }, c)).status).toBe(401);
  });

  test("after a hard delete, a new client with the same id does not inherit the old tokens", async () => {
    const c = await createClient(a.deps, { client_id: "svc-hard", grant_types: ["client_credentials"], scopes: ["api:read"] });
    const token = await issue(c);
    expect((await a.call("DELETE", "/admin/clients/svc-hard?hard=true")).status).toBe(200);
    // Creation allows one second of clock skew: the new client comes two seconds later.
    await nextSecond();
    await nextSecond();
    const again = await createClient(a.deps, { client_id: "svc-hard", grant_types: ["client_credentials"], scopes: ["api:read"] });
    expect(await active(token, again)).toBe(false);
    expect(await active(await issue(again), again)).toBe(true);
  });

  test("refused by the endpoints that serve a user: UserInfo (no openid) and the admin API (no user)", async () => {
    const token = await issue();
    const info = await fetch(`${a.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    expect([401, 403]).toContain(info.status);
    expect(info.headers.get("www-authenticate")).toContain("Bearer");
    const admin = await a.call("GET", "/admin/clients", { token });
    expect(admin.status).toBe(403);
  });
});
