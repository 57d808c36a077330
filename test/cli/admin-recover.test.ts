// `authly admin recover --username NAME` (issue 17): the real CLI as a subprocess on the server's
// database (DATABASE_URL and the JWT secrets, as `authly serve` reads them), not the admin API.
// A new temporary password, every session and refresh token ended, the login throttle cleared,
// audited; a non-admin refused unless --allow-non-admin; documented exit codes.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { TEST_SECRETS } from "../support/app";
import { ADMIN_PASSWORD, startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const MAX = 3;
const w: CliWorld = await startCliWorld({ env: { AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_LOGIN_MAX_FAILURES: String(MAX) } });
const ATTACKER = "203.0.113.9";

async function grant(body: Record<string, string>, ip = "198.51.100.1"): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(w.url + "/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
    body: new URLSearchParams({ client_id: CLI_CLIENT_ID, ...body }).toString(),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** The server's own configuration, as on the server host: no admin API URL, no admin login. */
const recover = (args: string[]) =>
  w.cli(["admin", "recover", ...args], { env: { ...TEST_SECRETS, AUTHLY_MODE: "testing", DATABASE_URL: w.deps.config.databaseUrl!, AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } });

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
  expect((await w.cli(["admin", "user", "create", "--username", "carol", "--email", "carol@example.com", "--password", "Carols-Long-Password-1"])).code).toBe(0);
});

describe("authly admin recover", () => {
  test("gives a locked-out admin a temporary password, revokes its refresh tokens, clears the lock, audited", async () => {
    const stored = JSON.parse(readFileSync(`${w.configDir}/tokens.json`, "utf8")) as { refresh_token: string };
    for (let i = 0; i < MAX; i++) await grant({ grant_type: "password", username: "admin", password: `wrong-${i}` }, ATTACKER);
    expect(String((await grant({ grant_type: "password", username: "admin", password: ADMIN_PASSWORD }, ATTACKER)).body.error_description)).toMatch(/too many/i);

    const r = await recover(["--username", "admin"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ Recovered 'admin' (admin)");
    expect(r.stdout).toContain("login lock is cleared");
    const temp = /Temporary password: (\S+)/.exec(r.stdout)![1]!;
    expect(temp.length).toBeGreaterThanOrEqual(24);

    // The old password and the old refresh token are gone; the new password works, even from the locked source.
    expect((await grant({ grant_type: "password", username: "admin", password: ADMIN_PASSWORD })).status).toBe(400);
    expect((await grant({ grant_type: "refresh_token", refresh_token: stored.refresh_token })).body.error).toBe("invalid_grant");
    expect((await grant({ grant_type: "password", username: "admin", password: temp }, ATTACKER)).status).toBe(200);

    // Temporary: the admin CLI sends the owner to change-password first (exit 3), then works again.
    expect((await w.cli(["admin", "auth", "login", "--username", "admin", "--password", temp])).code).toBe(0);
    expect((await w.cli(["admin", "client", "list"])).code).toBe(3);
    expect((await w.cli(["admin", "auth", "change-password", "--current-password", temp, "--new-password", "Recovered-Admin-Password-2"])).code).toBe(0);
    expect((await w.cli(["admin", "client", "list"])).code).toBe(0);

    const audit = await w.deps.sql`SELECT action, actor, details FROM audit_log WHERE actor = 'system:recover' ORDER BY id`;
    expect(audit.map((a) => a.action)).toEqual(["user.password_reset", "user.unlock"]);
    expect(JSON.stringify(audit)).not.toContain(temp);
  });

  test("refuses a non-admin (exit 5) unless --allow-non-admin; an unknown user exits 4; JSON output", async () => {
    const refused = await recover(["--username", "carol"]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("'carol' is not an admin");
    expect((await grant({ grant_type: "password", username: "carol", password: "Carols-Long-Password-1" })).status).toBe(200);

    const missing = await recover(["--username", "nobody-here"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("No user with the username 'nobody-here'");
    // An email address is not a username.
    expect((await recover(["--username", "carol@example.com", "--allow-non-admin"])).code).toBe(4);

    const ok = await recover(["--username", "carol", "--allow-non-admin", "--output", "json"]);
    expect(ok.code).toBe(0);
    const json = JSON.parse(ok.stdout);
    expect(json).toMatchObject({ username: "carol", is_admin: false, is_active: true, requires_password_change: true, cleared_login_failures: 0 });
    expect((await grant({ grant_type: "password", username: "carol", password: json.password })).status).toBe(200);
  });

  test("without the server's database configuration it explains and exits 5", async () => {
    const r = await w.cli(["admin", "recover", "--username", "admin"], { env: { AUTHLY_MODE: "production", DATABASE_URL: "", JWT_SECRET_KEY: "", JWT_REFRESH_SECRET_KEY: "" } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("DATABASE_URL");
  });
});
