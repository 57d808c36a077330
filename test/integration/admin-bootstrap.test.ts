// Bootstrap: the first admin (password generated and printed once, changed at first login unless
// dev mode), the authly-cli first-party client, idempotence with several starters at once, and
// the sample data of `serve --embedded --seed`.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBootstrap } from "../../src/bootstrap";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import { buildDeps } from "../../src/server";
import { hashClientSecret } from "../../src/clients/secrets";
import { POOL_SETTINGS } from "../../src/modes";
import { ADMIN_SCOPES } from "../../src/scopes/model";
import { testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";

async function fresh(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const dataDir = join(mkdtempSync(join(tmpdir(), "authly-bootstrap-")), "data");
  const config = loadConfig(testEnv(db, { AUTHLY_DEV_MODE: "false", AUTHLY_ADMIN_USERNAME: "root", AUTHLY_DATA_DIR: dataDir, ...env }), { purpose: "server" });
  return { db, config, dataDir, deps: buildDeps(config, db.sql) };
}

function capture() {
  const printed: string[] = [];
  return { printed, print: (s: string) => printed.push(s) };
}

describe("first admin", () => {
  test("a generated password is written once to a 0600 file in the data folder, only its path is printed, and it must be changed at first login", async () => {
    const { deps, dataDir } = await fresh();
    const out = capture();
    const r = await runBootstrap(deps, { enabled: true, seed: false, print: out.print });
    const password = r.admin!.password!;
    expect(password.length).toBeGreaterThanOrEqual(24);
    const file = join(dataDir, "initial-admin-password");
    expect(r.admin!.passwordFile).toBe(file);
    expect(readFileSync(file, "utf8")).toBe(`${password}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(out.printed).toHaveLength(1);
    expect(out.printed[0]).not.toContain(password);
    expect(out.printed[0]).toContain(file);
    expect(out.printed[0]).toContain("root");
    const [user] = await deps.sql`SELECT * FROM users WHERE username = 'root'`;
    expect(user).toMatchObject({ is_admin: true, is_active: true, requires_password_change: true });
    expect(await Bun.password.verify(password, user!.password_hash)).toBe(true);
    const [audit] = await deps.sql`SELECT * FROM audit_log WHERE action = 'bootstrap.admin_created'`;
    expect(audit!.target_id).toBe(user!.id);
    expect(JSON.stringify(audit)).not.toContain(password);

    // Idempotent: a second start prints nothing and creates nothing.
    const again = capture();
    const r2 = await runBootstrap(deps, { enabled: true, seed: false, print: again.print });
    expect(r2.admin).toBeUndefined();
    expect(again.printed).toEqual([]);
    expect((await deps.sql`SELECT count(*)::int AS n FROM users`)[0]!.n).toBe(1);
    expect(await Bun.password.verify(password, (await deps.sql`SELECT password_hash FROM users`)[0]!.password_hash)).toBe(true);
  });

  test("dev mode: the password is printed, no file is written, no password change required", async () => {
    const { deps, dataDir } = await fresh({ AUTHLY_DEV_MODE: "true" });
    const out = capture();
    const r = await runBootstrap(deps, { enabled: true, seed: false, print: out.print });
    expect(r.admin!.requiresPasswordChange).toBe(false);
    expect(out.printed[0]).toContain(r.admin!.password!);
    expect(existsSync(join(dataDir, "initial-admin-password"))).toBe(false);
    expect((await deps.sql`SELECT requires_password_change FROM users WHERE username = 'root'`)[0]!.requires_password_change).toBe(false);
  });

  test("AUTHLY_ADMIN_PASSWORD is used and never printed", async () => {
    const { deps, dataDir } = await fresh({ AUTHLY_ADMIN_PASSWORD: "operator-chosen-pw", AUTHLY_ADMIN_EMAIL: "root@example.test" });
    const out = capture();
    const r = await runBootstrap(deps, { enabled: true, seed: false, print: out.print });
    expect(r.admin).toEqual({ username: "root", password: undefined, requiresPasswordChange: false });
    expect(out.printed.join("")).not.toContain("operator-chosen-pw");
    expect(existsSync(join(dataDir, "initial-admin-password"))).toBe(false);
    const [user] = await deps.sql`SELECT * FROM users WHERE username = 'root'`;
    expect(user).toMatchObject({ email: "root@example.test", requires_password_change: false });
    expect(await Bun.password.verify("operator-chosen-pw", user!.password_hash)).toBe(true);
  });

  test("bootstrap disabled: no admin, but the CLI client exists", async () => {
    const { deps } = await fresh();
    const r = await runBootstrap(deps, { enabled: false, seed: false, print: () => {} });
    expect(r.admin).toBeUndefined();
    expect((await deps.sql`SELECT count(*)::int AS n FROM users`)[0]!.n).toBe(0);
    expect((await deps.sql`SELECT count(*)::int AS n FROM clients WHERE client_id = 'authly-cli'`)[0]!.n).toBe(1);
  });
});

describe("the authly-cli client (docs/contracts.md)", () => {
  test("public, auth none, first party, password + refresh_token + device_code (RFC 8628), all eight admin scopes, no redirect URIs", async () => {
    const { deps } = await fresh();
    await runBootstrap(deps, { enabled: true, seed: false, print: () => {} });
    const [c] = await deps.sql`SELECT * FROM clients WHERE client_id = 'authly-cli'`;
    expect(c).toMatchObject({ client_type: "public", token_endpoint_auth_method: "none", is_first_party: true, secret_hash: null, redirect_uris: [], is_active: true });
    expect([...c!.grant_types].sort()).toEqual(["password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]);
    expect([...c!.scopes].sort()).toEqual([...ADMIN_SCOPES].sort());
  });
});

describe("several starters at once", () => {
  test("four workers bootstrapping the same database create one admin and one CLI client, printed once", async () => {
    const { db, config } = await fresh();
    const pools = Array.from({ length: 4 }, () => createSql({ url: db.url, pool: { ...POOL_SETTINGS.testing, max: 2 } }));
    try {
      const printed: string[] = [];
      const results = await Promise.all(pools.map((sql) => runBootstrap(buildDeps(config, sql), { enabled: true, seed: true, print: (s) => printed.push(s) })));
      expect(results.filter((r) => r.admin).length).toBe(1);
      expect(results.filter((r) => r.cliClientCreated).length).toBe(1);
      expect(results.filter((r) => r.seed).length).toBe(1);
      expect(printed).toHaveLength(1);
      expect((await db.sql`SELECT count(*)::int AS n FROM users WHERE is_admin`)[0]!.n).toBe(1);
      expect((await db.sql`SELECT count(*)::int AS n FROM clients WHERE client_id = 'authly-cli'`)[0]!.n).toBe(1);
    } finally {
      await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
    }
  });
});

describe("seed (serve --embedded --seed)", () => {
  test("an admin, a normal user, sample scopes and clients; credentials printed once, secrets stored hashed", async () => {
    const { deps } = await fresh({ AUTHLY_DEV_MODE: "true" });
    const out = capture();
    const r = await runBootstrap(deps, { enabled: true, seed: true, print: out.print });
    expect(r.admin).toBeDefined();
    expect(r.seed!.username).toBe("user");
    const text = out.printed.join("\n");
    expect(text).toContain(r.seed!.password);
    const users = await deps.sql`SELECT username, is_admin, password_hash FROM users ORDER BY username`;
    expect(users.map((u) => [u.username, u.is_admin])).toEqual([["root", true], ["user", false]]);
    expect(await Bun.password.verify(r.seed!.password, users[1]!.password_hash)).toBe(true);
    expect((await deps.sql`SELECT name FROM scopes WHERE name IN ('api:read', 'api:write') ORDER BY name`).map((s) => s.name)).toEqual(["api:read", "api:write"]);
    for (const c of r.seed!.clients) {
      const [row] = await deps.sql`SELECT * FROM clients WHERE client_id = ${c.client_id}`;
      expect(row).toBeDefined();
      if (c.client_secret) {
        expect(text).toContain(c.client_secret);
        expect(row!.secret_hash).toBe(hashClientSecret(deps, c.client_secret));
      } else expect(row!.secret_hash).toBeNull();
    }
    const again = capture();
    expect((await runBootstrap(deps, { enabled: true, seed: true, print: again.print })).seed).toBeUndefined();
    expect(again.printed).toEqual([]);
  });
});
