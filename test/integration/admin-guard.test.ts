// The admin guard: network rule (loopback by default), bearer token of an active admin user with
// the route's scope, per-token rate limit kept in PostgreSQL, and AUTHLY_ADMIN_API_ENABLED.
import { afterAll, describe, expect, test } from "bun:test";
import { buildDeps, listen } from "../../src/server";
import { issueAccessToken } from "../../src/tokens/access-token";
import { auditRows, makeUser, startAdminApi, tokenFor, type AdminApi } from "../support/admin";
import { freePort } from "../support/app";
import { createClient } from "../support/fixtures";

const a: AdminApi = await startAdminApi();

describe("admin API authorization (401/403)", () => {
  test("/admin/health answers without a token", async () => {
    const r = await a.call("GET", "/admin/health", { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "healthy", database: "connected" });
  });

  test("401 without a token, with WWW-Authenticate", async () => {
    const r = await a.call("GET", "/admin/status", { token: null });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("unauthorized");
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
  });

  test("401 with a malformed or foreign token", async () => {
    expect((await a.call("GET", "/admin/clients", { token: "not-a-jwt" })).status).toBe(401);
    const forged = a.token.slice(0, -4) + (a.token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const r = await a.call("GET", "/admin/clients", { token: forged });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("unauthorized");
  });

  test("401 with a token for another audience", async () => {
    const token = await tokenFor(a.deps, a.admin, "admin:clients:read", { aud: "https://api.other.example" });
    expect((await a.call("GET", "/admin/clients", { token })).status).toBe(401);
  });

  test("401 once the token is revoked (user's sessions revoked)", async () => {
    const other = await makeUser(a.deps, "second-admin", { admin: true });
    const token = await tokenFor(a.deps, other);
    expect((await a.call("GET", "/admin/clients", { token })).status).toBe(200);
    const revoke = await a.call("DELETE", `/admin/users/${other.id}/sessions`);
    expect(revoke.status).toBe(200);
    expect(revoke.body.revoked_access_tokens).toBeGreaterThanOrEqual(1);
    const r = await a.call("GET", "/admin/clients", { token });
    expect(r.status).toBe(401);
    expect(r.body.error_description).toContain("revoked");
  });

  test("401 for a deactivated admin", async () => {
    const gone = await makeUser(a.deps, "deactivated-admin", { admin: true });
    const token = await tokenFor(a.deps, gone);
    await a.deps.sql`UPDATE users SET is_active = false WHERE id = ${gone.id}`;
    expect((await a.call("GET", "/admin/clients", { token })).status).toBe(401);
  });

  test("403 for a user without the admin flag, even with every admin scope; audited", async () => {
    const user = await makeUser(a.deps, "plain-user");
    const token = await tokenFor(a.deps, user);
    const r = await a.call("GET", "/admin/clients", { token });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: "forbidden", error_description: "The account is not an admin" });
    const [row] = await auditRows(a.deps, "admin.denied");
    expect(row).toMatchObject({ actor: user.id, outcome: "denied", target_id: "GET /admin/clients", source_ip: "127.0.0.1" });
  });

  test("403 when the token lacks the route's scope (read scope cannot write)", async () => {
    const token = await tokenFor(a.deps, a.admin, "admin:clients:read admin:scopes:write");
    expect((await a.call("GET", "/admin/clients", { token })).status).toBe(200);
    const r = await a.call("POST", "/admin/clients", { token, body: { client_name: "x", client_type: "public", redirect_uris: ["https://a.example/cb"] } });
    expect(r.status).toBe(403);
    expect(r.body.error_description).toContain("admin:clients:write");
    expect((await a.call("GET", "/admin/users", { token })).status).toBe(403);
    expect((await a.call("GET", "/admin/status", { token })).status).toBe(403);
    expect((await a.call("POST", "/admin/keys/rotate", { token, body: {} })).status).toBe(403);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM clients WHERE client_name = 'x'`)[0]!.n).toBe(0);
  });

  test("403 for a client-credentials token (no user behind it)", async () => {
    // A live client token: its client exists and is active (tokens of unknown clients are dead: 401).
    await createClient(a.deps, { client_id: "svc", grant_types: ["client_credentials"], scopes: ["admin:clients:read"] });
    const t = await issueAccessToken(a.deps, { clientId: "svc", sub: "svc", scope: "admin:clients:read" });
    expect((await a.call("GET", "/admin/clients", { token: t.token })).status).toBe(403);
  });
});

describe("admin API network rule", () => {
  test("loopback only by default: a forwarded public address gets a clear 403", async () => {
    const a = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback" });
    const r = await a.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("forbidden");
    expect(r.body.error_description).toContain("loopback");
    expect(r.body.error_description).toContain("AUTHLY_ADMIN_API_LOCALHOST_ONLY");
    expect(r.body.error_description).toContain("203.0.113.9");
    expect((await a.call("GET", "/admin/health", { token: null, headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(403);
    for (const path of ["/admin/docs", "/admin/openapi.json", "/admin/docs/swagger-ui-bundle.js", "/admin/docs/swagger-ui.css"]) {
      expect((await a.call("GET", path, { token: null, headers: { "x-forwarded-for": "203.0.113.9" } })).status, path).toBe(403);
    }
    // The same request from loopback passes.
    expect((await a.call("GET", "/admin/clients")).status).toBe(200);
  });

  test("AUTHLY_ADMIN_API_ALLOWED_IPS admits listed addresses and CIDR blocks only", async () => {
    const a = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_ADMIN_API_ALLOWED_IPS: "198.51.100.7, 203.0.113.0/24" });
    expect((await a.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "203.0.113.200" } })).status).toBe(200);
    expect((await a.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "198.51.100.7" } })).status).toBe(200);
    expect((await a.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "198.51.100.8" } })).status).toBe(403);
  });

  test("AUTHLY_ADMIN_API_LOCALHOST_ONLY=false admits every address (token still required)", async () => {
    const a = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_ADMIN_API_LOCALHOST_ONLY: "false" });
    expect((await a.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "192.0.2.1" } })).status).toBe(200);
    expect((await a.call("GET", "/admin/clients", { token: null, headers: { "x-forwarded-for": "192.0.2.1" } })).status).toBe(401);
  });
});

describe("admin API rate limit (429)", () => {
  test("per token, shared by every server on the database, with Retry-After", async () => {
    const a = await startAdminApi({ AUTHLY_ADMIN_RATE_LIMIT: "4" });
    // A second server process on the same database (another worker or node).
    const deps2 = buildDeps({ ...a.deps.config, port: await freePort(), host: "127.0.0.1" }, a.deps.sql);
    const second = await listen(deps2);
    afterAll(() => second.server.stop(true));
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await a.call("GET", "/admin/scopes")).status);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${second.url}/admin/scopes`, { headers: { authorization: `Bearer ${a.token}` } });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const r = await a.call("GET", "/admin/scopes");
    // The window may have just rolled over; then the fifth call is the first of a new window.
    if (r.status !== 429) return expect((await a.call("GET", "/admin/scopes")).status).toBe(200);
    expect(r.status).toBe(429);
    expect(r.body.error).toBe("rate_limited");
    const retry = Number(r.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Another admin's token has its own budget.
    const other = await makeUser(a.deps, "other-admin", { admin: true });
    expect((await a.call("GET", "/admin/scopes", { token: await tokenFor(a.deps, other) })).status).toBe(200);
  });

  test("requests without a token are limited per source address", async () => {
    const a = await startAdminApi({ AUTHLY_ADMIN_RATE_LIMIT: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await a.call("GET", "/admin/health", { token: null })).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.slice(0, 2)).not.toContain(429);
  });
});

describe("AUTHLY_ADMIN_API_ENABLED=false", () => {
  test("removes every admin route (404) and leaves the rest", async () => {
    const a = await startAdminApi({ AUTHLY_ADMIN_API_ENABLED: "false" });
    for (const path of ["/admin/health", "/admin/status", "/admin/clients", "/admin/openapi.json", "/admin/docs", "/admin/docs/swagger-ui-bundle.js"]) {
      const r = await a.call("GET", path);
      expect(r.status).toBe(404);
    }
    expect((await a.call("POST", "/admin/clients", { body: {} })).status).toBe(404);
    expect((await fetch(`${a.url}/health`)).status).toBe(200);
  });
});
