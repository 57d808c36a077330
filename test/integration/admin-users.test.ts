// Admin API: user accounts. Passwords hashed with argon2id and never shown (a generated one once),
// validation naming every bad field, search and pagination, deactivate/soft/hard delete, password
// reset, sessions and grants, and the last active admin that cannot be removed.
import { describe, expect, test } from "bun:test";
import { hashSecret } from "../../src/lib/crypto";
import { auditRows, startAdminApi, tokenFor } from "../support/admin";

const a = await startAdminApi();

async function passwordHash(id: string): Promise<string | null> {
  const [row] = await a.deps.sql<{ password_hash: string | null }[]>`SELECT password_hash FROM users WHERE id = ${id}`;
  return row?.password_hash ?? null;
}

/** A browser session and a refresh-token grant for the user, as the front channel and token service write them. */
async function giveSession(userId: string) {
  const [s] = await a.deps.sql<{ id: string }[]>`
    INSERT INTO sessions (token_hash, user_id, auth_time, idle_expires_at, expires_at, user_agent, source_ip)
    VALUES (${hashSecret(a.deps.peppers.secrets, crypto.randomUUID())}, ${userId}, now(), now() + interval '1 hour', now() + interval '1 day', 'test-agent', '127.0.0.1')
    RETURNING id`;
  const [g] = await a.deps.sql<{ id: string }[]>`
    INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES ('authly-cli', ${userId}, 'password', 'openid', now() + interval '1 day') RETURNING id`;
  await a.deps.sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES (${crypto.randomUUID()}, ${g!.id}, 'authly-cli', ${userId}, 'openid', now() + interval '1 day')`;
  await a.deps.sql`INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at) VALUES (${crypto.randomUUID()}, ${g!.id}, 'authly-cli', ${userId}, 'openid', now() + interval '1 hour')`;
  return { sessionId: s!.id, grantId: g!.id };
}

describe("POST /admin/users", () => {
  test("with a password: stored as argon2id only, never returned", async () => {
    const r = await a.call("POST", "/admin/users", { body: { username: "alice", email: "alice@example.test", password: "correct horse battery", name: "Alice A", address: { locality: "Paris", country: "FR" }, locale: "fr-FR", birthdate: "1990-04-01" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ username: "alice", email: "alice@example.test", name: "Alice A", address: { locality: "Paris", country: "FR" }, is_admin: false, is_active: true, requires_password_change: false, last_login_at: null });
    expect(r.body.generated_password).toBeUndefined();
    expect(r.body.password_hash).toBeUndefined();
    expect(JSON.stringify(r.body)).not.toContain("correct horse");
    const hash = (await passwordHash(r.body.id))!;
    expect(hash).toStartWith("$argon2id$");
    expect(await Bun.password.verify("correct horse battery", hash)).toBe(true);
    const [audit] = await auditRows(a.deps, "user.create");
    expect(audit).toMatchObject({ actor: a.admin.id, target_type: "user", target_id: r.body.id, details: { username: "alice", password_generated: false } });
    expect(JSON.stringify(audit)).not.toContain("correct horse");
  });

  test("without a password: a strong one is generated, shown once, and must be changed", async () => {
    const r = await a.call("POST", "/admin/users", { body: { username: "bob" } });
    expect(r.status).toBe(201);
    const pw: string = r.body.generated_password;
    expect(pw.length).toBeGreaterThanOrEqual(24);
    expect(r.body.requires_password_change).toBe(true);
    expect(await Bun.password.verify(pw, (await passwordHash(r.body.id))!)).toBe(true);
    const shown = await a.call("GET", `/admin/users/${r.body.id}`);
    expect(shown.body.generated_password).toBeUndefined();
    expect(JSON.stringify(shown.body)).not.toContain(pw);
  });

  test("400 names every bad field", async () => {
    const r = await a.call("POST", "/admin/users", { body: { username: "has space", email: "nope", password: "short", birthdate: "01/04/1990", locale: "not a locale", website: "javascript:alert(1)", address: { planet: "Mars" }, is_admin: "yes" } });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("validation_error");
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["address", "birthdate", "email", "is_admin", "locale", "password", "username", "website"]);
    expect((await a.call("POST", "/admin/users", { body: {} })).body.fields).toEqual([{ field: "username", message: "is required" }]);
  });

  test("409 for a username taken in another case, or a taken email", async () => {
    await a.call("POST", "/admin/users", { body: { username: "carol", email: "carol@example.test" } });
    const r = await a.call("POST", "/admin/users", { body: { username: "CAROL" } });
    expect(r.status).toBe(409);
    expect(r.body.error_description).toContain("username");
    const e = await a.call("POST", "/admin/users", { body: { username: "carol2", email: "Carol@Example.test" } });
    expect(e.status).toBe(409);
    expect(e.body.error_description).toContain("email");
  });
});

describe("GET /admin/users", () => {
  test("search, pagination and include_inactive", async () => {
    for (const n of ["search-1", "search-2", "search-3"]) await a.call("POST", "/admin/users", { body: { username: n, password: "long enough pw" } });
    const all = await a.call("GET", "/admin/users?q=search-&limit=100");
    expect(all.body.total).toBe(3);
    const p1 = await a.call("GET", "/admin/users?q=SEARCH&limit=2");
    const p2 = await a.call("GET", "/admin/users?q=SEARCH&limit=2&offset=2");
    expect(p1.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect([...p1.body.users, ...p2.body.users].map((u: { username: string }) => u.username).sort()).toEqual(["search-1", "search-2", "search-3"]);
    // LIKE wildcards in q are literal.
    expect((await a.call("GET", "/admin/users?q=%25")).body.total).toBe(0);
    const id = all.body.users[0].id;
    await a.call("POST", `/admin/users/${id}/deactivate`);
    expect((await a.call("GET", "/admin/users?q=search-")).body.total).toBe(2);
    expect((await a.call("GET", "/admin/users?q=search-&include_inactive=true")).body.total).toBe(3);
    expect(JSON.stringify(all.body)).not.toContain("password_hash");
  });

  test("400 for bad paging, 404 for unknown ids", async () => {
    const r = await a.call("GET", "/admin/users?limit=abc&offset=x");
    expect(r.status).toBe(400);
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["limit", "offset"]);
    expect((await a.call("GET", `/admin/users/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await a.call("GET", "/admin/users/not-a-uuid")).status).toBe(404);
  });
});

describe("PATCH /admin/users/:id", () => {
  test("updates claims and flags; 409 on a taken username; 400 on bad fields", async () => {
    const u = (await a.call("POST", "/admin/users", { body: { username: "dave", password: "long enough pw" } })).body;
    const r = await a.call("PATCH", `/admin/users/${u.id}`, { body: { given_name: "Dave", family_name: "D", phone_number: "+33123456789", phone_number_verified: true, email: "dave@example.test", email_verified: true, is_admin: true } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ given_name: "Dave", family_name: "D", phone_number: "+33123456789", phone_number_verified: true, email_verified: true, is_admin: true, username: "dave" });
    expect(Date.parse(r.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(u.updated_at));
    const moved = await a.call("PATCH", `/admin/users/${u.id}`, { body: { email: "dave@new.example", phone_number: "+33999999999" } });
    expect(moved.body).toMatchObject({ email: "dave@new.example", email_verified: false, phone_number_verified: false });
    await a.call("POST", "/admin/users", { body: { username: "erin" } });
    expect((await a.call("PATCH", `/admin/users/${u.id}`, { body: { username: "Erin" } })).status).toBe(409);
    const bad = await a.call("PATCH", `/admin/users/${u.id}`, { body: { password: "x", zoneinfo: 5 } });
    expect(bad.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["password", "zoneinfo"]);
    expect((await a.call("PATCH", `/admin/users/${crypto.randomUUID()}`, { body: { name: "x" } })).status).toBe(404);
    const [audit] = await auditRows(a.deps, "user.update");
    expect(audit!.target_id).toBe(u.id);
  });
});

describe("deactivate and delete", () => {
  test("deactivate ends sessions and revokes grants and tokens", async () => {
    const u = (await a.call("POST", "/admin/users", { body: { username: "frank" } })).body;
    const { sessionId, grantId } = await giveSession(u.id);
    const r = await a.call("POST", `/admin/users/${u.id}/deactivate`);
    expect(r.status).toBe(200);
    expect(r.body.is_active).toBe(false);
    expect((await a.deps.sql`SELECT revoked_at FROM sessions WHERE id = ${sessionId}`)[0]!.revoked_at).not.toBeNull();
    expect((await a.deps.sql`SELECT revoked_at FROM grants WHERE id = ${grantId}`)[0]!.revoked_at).not.toBeNull();
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = ${u.id} AND revoked_at IS NULL`)[0]!.n).toBe(0);
    const [audit] = await auditRows(a.deps, "user.deactivate");
    expect(audit).toMatchObject({ target_id: u.id, details: { revoked_sessions: 1, revoked_grants: 1 } });
    expect((await a.call("POST", `/admin/users/${crypto.randomUUID()}/deactivate`)).status).toBe(404);
  });

  test("soft delete keeps the row inactive; hard delete removes it and its sessions", async () => {
    const soft = (await a.call("POST", "/admin/users", { body: { username: "gina" } })).body;
    expect((await a.call("DELETE", `/admin/users/${soft.id}`)).body).toEqual({ id: soft.id, deleted: "soft" });
    expect((await a.call("GET", `/admin/users/${soft.id}`)).body.is_active).toBe(false);

    const hard = (await a.call("POST", "/admin/users", { body: { username: "hank" } })).body;
    await giveSession(hard.id);
    expect((await a.call("DELETE", `/admin/users/${hard.id}?hard=true`)).body).toEqual({ id: hard.id, deleted: "hard" });
    expect((await a.call("GET", `/admin/users/${hard.id}`)).status).toBe(404);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${hard.id}`)[0]!.n).toBe(0);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM access_tokens WHERE user_id = ${hard.id}`)[0]!.n).toBe(0);
    expect((await a.call("DELETE", `/admin/users/${hard.id}`)).status).toBe(404);
    const [audit] = await auditRows(a.deps, "user.delete");
    expect(audit).toMatchObject({ target_id: hard.id, details: { hard: true, username: "hank" } });
  });
});

describe("POST /admin/users/:id/reset-password", () => {
  test("a generated password is returned once, must be changed, and ends sessions", async () => {
    const u = (await a.call("POST", "/admin/users", { body: { username: "ivy", password: "first password" } })).body;
    const { sessionId } = await giveSession(u.id);
    const r = await a.call("POST", `/admin/users/${u.id}/reset-password`);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(u.id);
    expect(r.body.requires_password_change).toBe(true);
    const hash = (await passwordHash(u.id))!;
    expect(await Bun.password.verify(r.body.password, hash)).toBe(true);
    expect(await Bun.password.verify("first password", hash)).toBe(false);
    expect((await a.deps.sql`SELECT revoked_at FROM sessions WHERE id = ${sessionId}`)[0]!.revoked_at).not.toBeNull();
    const [audit] = await auditRows(a.deps, "user.password_reset");
    expect(audit).toMatchObject({ target_id: u.id, details: { password_generated: true } });
    expect(JSON.stringify(audit)).not.toContain(r.body.password);
  });

  test("a given password is not echoed; 400 for a short one; 404 for unknown users", async () => {
    const u = (await a.call("POST", "/admin/users", { body: { username: "jack" } })).body;
    const r = await a.call("POST", `/admin/users/${u.id}/reset-password`, { body: { password: "chosen password", requires_password_change: false } });
    expect(r.body).toEqual({ id: u.id, requires_password_change: false });
    expect(await Bun.password.verify("chosen password", (await passwordHash(u.id))!)).toBe(true);
    const bad = await a.call("POST", `/admin/users/${u.id}/reset-password`, { body: { password: "short" } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("password");
    expect((await a.call("POST", `/admin/users/${crypto.randomUUID()}/reset-password`)).status).toBe(404);
  });
});

describe("sessions and grants", () => {
  test("lists live sessions and grants, then revokes them all", async () => {
    const u = (await a.call("POST", "/admin/users", { body: { username: "kate" } })).body;
    const { sessionId, grantId } = await giveSession(u.id);
    const r = await a.call("GET", `/admin/users/${u.id}/sessions`);
    expect(r.status).toBe(200);
    expect(r.body.sessions).toHaveLength(1);
    expect(r.body.sessions[0]).toMatchObject({ id: sessionId, user_agent: "test-agent", source_ip: "127.0.0.1", amr: ["pwd"] });
    expect(r.body.sessions[0].token_hash).toBeUndefined();
    expect(r.body.grants).toEqual([expect.objectContaining({ id: grantId, client_id: "authly-cli", grant_type: "password", active_access_tokens: 1, active_refresh_tokens: 1 })]);
    const del = await a.call("DELETE", `/admin/users/${u.id}/sessions`);
    expect(del.body).toEqual({ revoked_sessions: 1, revoked_grants: 1, revoked_access_tokens: 1 });
    expect((await a.call("GET", `/admin/users/${u.id}/sessions`)).body).toEqual({ sessions: [], grants: [] });
    const [audit] = await auditRows(a.deps, "user.sessions_revoke");
    expect(audit).toMatchObject({ actor: a.admin.id, target_id: u.id });
    expect((await a.call("GET", `/admin/users/${crypto.randomUUID()}/sessions`)).status).toBe(404);
    expect((await a.call("DELETE", `/admin/users/${crypto.randomUUID()}/sessions`)).status).toBe(404);
  });

  test("admin:users:read cannot write users", async () => {
    const token = await tokenFor(a.deps, a.admin, "admin:users:read");
    expect((await a.call("GET", "/admin/users", { token })).status).toBe(200);
    expect((await a.call("POST", "/admin/users", { token, body: { username: "x" } })).status).toBe(403);
  });
});

describe("GET /admin/me and a pending password change", () => {
  test("/admin/me describes the caller and the token", async () => {
    const r = await a.call("GET", "/admin/me");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: a.admin.id, username: a.admin.username, is_admin: true, requires_password_change: false, client_id: "authly-cli" });
    expect(r.body.scopes).toContain("admin:system:write");
    expect(Date.parse(r.body.token_expires_at)).toBeGreaterThan(Date.now());
    expect((await a.call("GET", "/admin/me", { token: null })).status).toBe(401);
  });

  test("an admin with a generated password gets 403 until it is changed via /admin/me/password", async () => {
    const created = (await a.call("POST", "/admin/users", { body: { username: "new-admin", is_admin: true } })).body;
    expect(created.requires_password_change).toBe(true);
    const [row] = await a.deps.sql`SELECT * FROM users WHERE id = ${created.id}`;
    const token = await tokenFor(a.deps, row as never);
    const blocked = await a.call("GET", "/admin/clients", { token });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error_description).toContain("password must be changed");
    expect((await a.call("GET", "/admin/me", { token })).body.requires_password_change).toBe(true);

    const wrong = await a.call("POST", "/admin/me/password", { token, body: { current_password: "not it", new_password: "a brand new password" } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.fields).toEqual([{ field: "current_password", message: "is wrong" }]);
    const same = await a.call("POST", "/admin/me/password", { token, body: { current_password: created.generated_password, new_password: created.generated_password } });
    expect(same.body.fields.map((f: { field: string }) => f.field)).toEqual(["new_password"]);
    const short = await a.call("POST", "/admin/me/password", { token, body: { current_password: created.generated_password, new_password: "short" } });
    expect(short.body.fields.map((f: { field: string }) => f.field)).toEqual(["new_password"]);

    const ok = await a.call("POST", "/admin/me/password", { token, body: { current_password: created.generated_password, new_password: "a brand new password" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: created.id, requires_password_change: false, revoked_sessions: 0, revoked_grants: 0, revoked_access_tokens: 0 });
    expect(await Bun.password.verify("a brand new password", (await passwordHash(created.id))!)).toBe(true);
    expect((await a.call("GET", "/admin/clients", { token })).status).toBe(200);
    const rows = await auditRows(a.deps, "user.password_change");
    expect(rows.map((r) => r.details.outcome ?? "ok")).toEqual(["ok", "wrong_current_password"]);
    expect(JSON.stringify(rows)).not.toContain("a brand new password");
  });
});

describe("the last active admin", () => {
  test("cannot be demoted, deactivated or deleted (409)", async () => {
    const admins = (await a.call("GET", "/admin/users?limit=100")).body.users.filter((u: { is_admin: boolean; id: string }) => u.is_admin && u.id !== a.admin.id);
    for (const u of admins) expect((await a.call("POST", `/admin/users/${u.id}/deactivate`)).status).toBe(200);
    const demote = await a.call("PATCH", `/admin/users/${a.admin.id}`, { body: { is_admin: false } });
    expect(demote.status).toBe(409);
    expect(demote.body.error_description).toContain("last active admin");
    expect((await a.call("POST", `/admin/users/${a.admin.id}/deactivate`)).status).toBe(409);
    expect((await a.call("DELETE", `/admin/users/${a.admin.id}?hard=true`)).status).toBe(409);
    expect((await a.call("GET", `/admin/users/${a.admin.id}`)).body).toMatchObject({ is_admin: true, is_active: true });
  });
});

describe("two admins demoting each other at once", () => {
  test("exactly one succeeds; an active admin always remains", async () => {
    const b = await startAdminApi();
    // Leave exactly two active admins: b.admin and a second one.
    await b.deps.sql`UPDATE users SET is_active = false WHERE is_admin AND id <> ${b.admin.id}`;
    const second = (await b.call("POST", "/admin/users", { body: { username: "second", password: "long enough pw", is_admin: true, requires_password_change: false } })).body;
    const [row] = await b.deps.sql`SELECT * FROM users WHERE id = ${second.id}`;
    const secondToken = await tokenFor(b.deps, row as never);
    const [r1, r2] = await Promise.all([
      b.call("PATCH", `/admin/users/${second.id}`, { body: { is_admin: false } }),
      b.call("PATCH", `/admin/users/${b.admin.id}`, { token: secondToken, body: { is_admin: false } }),
    ]);
    // The loser sees 409 (last active admin) or, when it started after the winner committed,
    // 403 (no longer an admin); never 500 and never both.
    const statuses = [r1.status, r2.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]!);
    expect((await b.deps.sql`SELECT count(*)::int AS n FROM users WHERE is_admin AND is_active`)[0]!.n).toBe(1);
  });
});
