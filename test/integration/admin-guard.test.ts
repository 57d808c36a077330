// The admin guard: network rule (loopback by default), bearer token of an active admin user with
// the route's scope, per-token rate limit kept in PostgreSQL, and AUTHLY_ADMIN_API_ENABLED.
import { afterAll, describe, expect, test } from "bun:test";
import { buildDeps, listen } from "../../src/server";
import { issueAccessToken } from "../../src/tokens/access-token";
import { auditRows, makeUser, startAdminApi, tokenFor, type AdminApi } from "../support/admin";
import { freePort, sendRaw } from "../support/app";
import { DENIAL_ROWS_PER_SOURCE } from "../../src/audit/service";
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

describe("admin API network rule behind a same-host proxy", () => {
  test("a request relayed by an untrusted proxy on 127.0.0.1 (X-Forwarded-For, Forwarded, X-Real-IP) is not loopback: 403", async () => {
    // AUTHLY_TRUSTED_PROXIES unset: the peer 127.0.0.1 is a reverse proxy relaying a remote client.
    for (const header of ["X-Forwarded-For: 203.0.113.9", "Forwarded: for=203.0.113.9;proto=https", "X-Real-IP: 203.0.113.9"]) {
      const raw = await sendRaw(a.url, `GET /admin/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${a.token}\r\n${header}\r\nConnection: close\r\n\r\n`);
      expect(`${header} -> ${raw.split("\r\n")[0]}`).toBe(`${header} -> HTTP/1.1 403 Forbidden`);
      expect(raw).toContain("AUTHLY_TRUSTED_PROXIES");
    }
    const direct = await sendRaw(a.url, `GET /admin/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${a.token}\r\nConnection: close\r\n\r\n`);
    expect(direct.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
  });

  test("a proxy in AUTHLY_TRUSTED_PROXIES relaying a loopback client is loopback", async () => {
    const t = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback" });
    expect((await t.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "127.0.0.1" } })).status).toBe(200);
  });

  test("with localhost-only off and no allow-list, a relayed request is admitted (the rule is open)", async () => {
    const t = await startAdminApi({ AUTHLY_ADMIN_API_LOCALHOST_ONLY: "false" });
    expect((await t.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(200);
  });
});

/** The admin.denied events as `GET /admin/audit` shows them (newest first). */
async function deniedEvents(api: AdminApi): Promise<{ actor: string | null; target_id: string; outcome: string; source_ip: string; details: Record<string, any> }[]> {
  const r = await api.call("GET", "/admin/audit?action=admin.denied&limit=100");
  expect(r.status).toBe(200);
  return r.body.events;
}

describe("every admin API denial is audited as admin.denied (reason, source, route, actor; never the token)", () => {
  const d: AdminApi = a;

  test("401 without a token", async () => {
    expect((await d.call("GET", "/admin/scopes", { token: null })).status).toBe(401);
    const [e] = await deniedEvents(d);
    expect(e).toMatchObject({ actor: null, outcome: "denied", source_ip: "127.0.0.1", target_id: "GET /admin/scopes", details: { reason: "missing_token", status: 401 } });
  });

  test("401 with an invalid or forged token, and the token is not written", async () => {
    const forged = d.token.slice(0, -6) + (d.token.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
    expect((await d.call("GET", "/admin/scopes", { token: forged })).status).toBe(401);
    const events = await deniedEvents(d);
    expect(events[0]).toMatchObject({ source_ip: "127.0.0.1", target_id: "GET /admin/scopes", details: { reason: "invalid_token", status: 401 } });
    expect(JSON.stringify(events)).not.toContain(forged.split(".")[2]!);
    expect(JSON.stringify(events)).not.toContain(d.token.split(".")[2]!);
  });

  test("403 for a token that is not a user's", async () => {
    await createClient(d.deps, { client_id: "svc-audit", grant_types: ["client_credentials"], scopes: ["admin:clients:read"] });
    const t = await issueAccessToken(d.deps, { clientId: "svc-audit", sub: "svc-audit", scope: "admin:clients:read" });
    expect((await d.call("GET", "/admin/clients", { token: t.token })).status).toBe(403);
    const [e] = await deniedEvents(d);
    expect(e).toMatchObject({ actor: null, target_id: "GET /admin/clients", details: { reason: "not_a_user", status: 403, token_sub: "svc-audit" } });
  });

  test("403 for a token without the route's scope, with the admin as actor", async () => {
    const token = await tokenFor(d.deps, d.admin, "admin:clients:read");
    expect((await d.call("GET", "/admin/users", { token })).status).toBe(403);
    const [e] = await deniedEvents(d);
    expect(e).toMatchObject({ actor: d.admin.id, target_id: "GET /admin/users", details: { reason: "missing_scope", scope: "admin:users:read" } });
  });

  test("403 while the temporary password is not changed", async () => {
    const temp = await makeUser(d.deps, "temp-admin", { admin: true });
    await d.deps.sql`UPDATE users SET requires_password_change = true WHERE id = ${temp.id}`;
    expect((await d.call("GET", "/admin/clients", { token: await tokenFor(d.deps, temp) })).status).toBe(403);
    const [e] = await deniedEvents(d);
    expect(e).toMatchObject({ actor: temp.id, target_id: "GET /admin/clients", details: { reason: "password_change_required", status: 403 } });
  });

  test("403 from a source the network rule refuses, with the forwarded client as source", async () => {
    const t = await startAdminApi({ AUTHLY_TRUSTED_PROXIES: "loopback" });
    expect((await t.call("GET", "/admin/clients", { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(403);
    const [e] = await deniedEvents(t);
    expect(e).toMatchObject({ source_ip: "203.0.113.9", target_id: "GET /admin/clients", details: { reason: "source_not_allowed", status: 403 } });
  });

  test("429 over the rate limit", async () => {
    const t = await startAdminApi({ AUTHLY_ADMIN_RATE_LIMIT: "3" });
    const statuses: number[] = [];
    for (let i = 0; i < 8 && !statuses.includes(429); i++) statuses.push((await t.call("GET", "/admin/health", { token: null })).status);
    expect(statuses).toContain(429);
    const events = await deniedEvents(t);
    expect(events[0]).toMatchObject({ source_ip: "127.0.0.1", target_id: "GET /admin/health", details: { reason: "rate_limited", status: 429 } });
  });

  test(`a flood of denials from one source writes at most ${DENIAL_ROWS_PER_SOURCE} rows per minute`, async () => {
    const t = await startAdminApi();
    const sent = DENIAL_ROWS_PER_SOURCE * 3;
    for (let i = 0; i < sent; i++) expect((await t.call("GET", "/admin/clients", { token: null })).status).toBe(401);
    const rows = await auditRows(t.deps, "admin.denied");
    // The flood may straddle a minute boundary: at most two windows' worth.
    expect(rows.length).toBeGreaterThanOrEqual(DENIAL_ROWS_PER_SOURCE);
    expect(rows.length).toBeLessThanOrEqual(2 * DENIAL_ROWS_PER_SOURCE);
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
