// The first-party admin CLI login (docs/contracts.md): grant_type=password only for the built-in
// first-party client, never advertised; login throttling, lockout, audit, rehash, last_login_at
// (src/accounts/authenticate.ts).
import { beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createUser, post } from "../support/fixtures";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { AuthenticationError, authenticateUser, SOURCE_FAILURE_FACTOR } from "../../src/accounts/authenticate";
import { hashPassword } from "../../src/accounts/password";

const ADMIN_SCOPES = ["admin:clients:read", "admin:clients:write", "admin:scopes:read", "admin:scopes:write", "admin:users:read", "admin:users:write", "admin:system:read", "admin:system:write"];
const t: TestApp = await createTestApp({ bootstrap: false, env: { AUTHLY_LOGIN_MAX_FAILURES: "3", AUTHLY_PASSWORD_MEMORY_COST: "8192", AUTHLY_PASSWORD_TIME_COST: "1" } });

async function call(path: string, init: RequestInit) {
  const r = await t.request(path, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}
const login = (username: string, password: string, extra: Record<string, string> = {}) =>
  call("/oauth/token", post({ grant_type: "password", client_id: CLI_CLIENT_ID, username, password, ...extra }));

beforeAll(async () => {
  const existing = await t.deps.sql`SELECT 1 FROM clients WHERE client_id = ${CLI_CLIENT_ID}`;
  if (!existing.length) {
    await createClient(t.deps, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: "none", is_first_party: true, grant_types: ["password", "refresh_token"], scopes: ADMIN_SCOPES, redirect_uris: [] });
  }
  await createUser(t.deps, { username: "root", password: "correct horse battery", is_admin: true });
  await createUser(t.deps, { username: "plain", password: "plain password 1" });
});

describe("grant_type=password for the first-party CLI client", () => {
  test("an admin gets the admin scopes, a refresh token and no-store", async () => {
    const r = await login("root", "correct horse battery");
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(String(r.body.scope).split(" ").sort()).toEqual([...ADMIN_SCOPES].sort());
    expect(typeof r.body.refresh_token).toBe("string");
    expect(r.body.token_type).toBe("Bearer");
    const claims = decodeJwt(String(r.body.access_token));
    expect(claims.client_id).toBe(CLI_CLIENT_ID);
    // The CLI refreshes with client_id only and logs out through revocation.
    const refreshed = await call("/oauth/token", post({ grant_type: "refresh_token", client_id: CLI_CLIENT_ID, refresh_token: String(r.body.refresh_token) }));
    expect(refreshed.status).toBe(200);
    const out = await call("/oauth/revoke", post({ client_id: CLI_CLIENT_ID, token: String(refreshed.body.refresh_token) }));
    expect(out.status).toBe(200);
    const again = await call("/oauth/token", post({ grant_type: "refresh_token", client_id: CLI_CLIENT_ID, refresh_token: String(refreshed.body.refresh_token) }));
    expect(again.body.error).toBe("invalid_grant");
  });

  test("username matching is case-insensitive and email works too; last_login_at is set", async () => {
    expect((await login("ROOT", "correct horse battery")).status).toBe(200);
    expect((await login("root@example.test", "correct horse battery")).status).toBe(200);
    const [row] = await t.deps.sql`SELECT last_login_at FROM users WHERE username = 'root'`;
    expect(row!.last_login_at).toBeInstanceOf(Date);
  });

  test("a non-admin gets no admin scopes", async () => {
    const r = await login("plain", "plain password 1");
    expect(r.status).toBe(200);
    expect(String(r.body.scope)).not.toContain("admin:");
  });

  test("scope narrowing works and a scope beyond the client's is invalid_scope", async () => {
    expect((await login("root", "correct horse battery", { scope: "admin:clients:read" })).body.scope).toBe("admin:clients:read");
    expect((await login("root", "correct horse battery", { scope: "openid" })).body.error).toBe("invalid_scope");
  });

  test("wrong password and unknown user are the same invalid_grant", async () => {
    const a = await login("plain", "wrong");
    const b = await login("no-such-user", "wrong");
    expect(a.status).toBe(400);
    expect(a.body).toEqual(b.body);
    expect(a.body.error).toBe("invalid_grant");
  });

  test("missing username or password is invalid_request", async () => {
    expect((await call("/oauth/token", post({ grant_type: "password", client_id: CLI_CLIENT_ID, username: "root" }))).body.error).toBe("invalid_request");
  });

  test("a third-party client is refused with unsupported_grant_type even when it registers password", async () => {
    const c = await createClient(t.deps, { client_id: "sneaky", grant_types: ["password", "refresh_token"], scopes: ADMIN_SCOPES });
    const r = await call("/oauth/token", post({ grant_type: "password", username: "root", password: "correct horse battery" }, { id: c.clientId, secret: c.secret! }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unsupported_grant_type");
  });

  test("discovery never advertises the password grant", async () => {
    const d = await call("/.well-known/openid-configuration", {});
    expect(d.body.grant_types_supported).not.toContain("password");
  });
});

describe("login throttling and lockout (authenticateUser)", () => {
  test("locks the (account, source) pair after AUTHLY_LOGIN_MAX_FAILURES failures, even for the right password; audited", async () => {
    await createUser(t.deps, { username: "victim", password: "victim password" });
    for (let i = 0; i < 3; i++) expect((await login("victim", `bad-${i}`)).body.error).toBe("invalid_grant");
    const locked = await login("victim", "victim password");
    expect(locked.body.error).toBe("invalid_grant");
    expect(String(locked.body.error_description)).toMatch(/too many/i);
    const actions = (await t.deps.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE action LIKE 'login.%'`).map((r) => r.action);
    expect(actions).toContain("login.failure");
    expect(actions).toContain("login.lockout");
    expect(actions).toContain("login.success");
    // After the lockout the account works again.
    await t.deps.sql`UPDATE login_failures SET locked_until = now() - interval '1 second' WHERE locked_until IS NOT NULL AND key LIKE 'pair:%'`;
    expect((await login("victim", "victim password")).status).toBe(200);
  });

  test("an unknown user is locked the same way (no account enumeration through lockout)", async () => {
    for (let i = 0; i < 3; i++) await login("ghost", "x");
    const r = await login("ghost", "x");
    expect(String(r.body.error_description)).toMatch(/too many/i);
  });

  test("a source address is locked after more failures across many accounts", async () => {
    const ip = "203.0.113.9";
    let last: unknown;
    for (let i = 0; i < 3 * SOURCE_FAILURE_FACTOR; i++) {
      await authenticateUser(t.deps, { login: `spray-${i}`, password: "x", ip }).catch((e) => (last = e));
    }
    expect((last as AuthenticationError).code).toBe("invalid_credentials");
    await createUser(t.deps, { username: "bystander", password: "bystander password" });
    const err = await authenticateUser(t.deps, { login: "bystander", password: "bystander password", ip }).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).code).toBe("locked");
    expect((await authenticateUser(t.deps, { login: "bystander", password: "bystander password", ip: "203.0.113.10" })).username).toBe("bystander");
  });

  test("a hash with old parameters is rehashed on login", async () => {
    const old = await hashPassword("rehash me please", { memoryCost: 8192, timeCost: 2 });
    const u = await createUser(t.deps, { username: "oldhash" });
    await t.deps.sql`UPDATE users SET password_hash = ${old} WHERE id = ${u.id}`;
    await authenticateUser(t.deps, { login: "oldhash", password: "rehash me please", ip: "198.51.100.1" });
    const [row] = await t.deps.sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE id = ${u.id}`;
    expect(row!.password_hash).not.toBe(old);
    expect(row!.password_hash).toContain("m=8192,t=1,");
    expect((await authenticateUser(t.deps, { login: "oldhash", password: "rehash me please", ip: "198.51.100.1" })).id).toBe(u.id);
  });

  test("an inactive user cannot log in", async () => {
    const u = await createUser(t.deps, { username: "gone", password: "gone password" });
    await t.deps.sql`UPDATE users SET is_active = false WHERE id = ${u.id}`;
    const err = await authenticateUser(t.deps, { login: "gone", password: "gone password", ip: "198.51.100.2" }).catch((e) => e);
    expect((err as AuthenticationError).code).toBe("invalid_credentials");
  });
});
