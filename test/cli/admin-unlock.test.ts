// `authly admin user unlock USER` and the lock in `user show` / `user list` (issue 12 item 3): the
// real CLI against a live server behind a trusted proxy (loopback) that names each client, so that
// wrong passwords come from a source of the test's choosing.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { startCliWorld, storedLoginHeaders, type CliWorld } from "./admin-support";

// Every test runs real processes on a shared, busy machine.
setDefaultTimeout(120_000);

const MAX = 3;
const w: CliWorld = await startCliWorld({ env: { AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_LOGIN_MAX_FAILURES: String(MAX) } });
const BOB_PASSWORD = "Bobs-Long-Password-1";
const ATTACKER = "203.0.113.7";

async function grant(username: string, password: string, ip: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(w.url + "/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
    body: new URLSearchParams({ grant_type: "password", client_id: CLI_CLIENT_ID, username, password }).toString(),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}


beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
  const bob = await w.cli(["admin", "user", "create", "--username", "bob", "--email", "bob@example.com", "--password", BOB_PASSWORD]);
  expect(bob.code).toBe(0);
});

describe("authly admin user unlock / show", () => {
  test("show and list tell the lock; unlock clears it for every source, audited; JSON and exit codes like the other user commands", async () => {
    expect((await w.cli(["admin", "user", "show", "bob"])).stdout).toContain("Locked: no");
    for (let i = 0; i < MAX; i++) await grant("bob", `wrong-${i}`, ATTACKER);
    const locked = await grant("bob", BOB_PASSWORD, ATTACKER);
    expect(String(locked.body.error_description)).toMatch(/too many/i);

    const show = await w.cli(["admin", "user", "show", "bob"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Locked: until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \(3 failures; 1 source locked out\)/);
    const json = JSON.parse((await w.cli(["admin", "user", "show", "bob", "--output", "json"])).stdout);
    expect(json.login_lock).toMatchObject({ failures: MAX, locked_sources: 1, slowed_down: false });
    expect(new Date(json.login_lock.until).getTime()).toBeGreaterThan(Date.now());
    const list = await w.cli(["admin", "user", "list", "--search", "bob"]);
    expect(list.stdout).toMatch(/│ bob\s+│ bob@example\.com\s+│ No\s+│ active │ until \d{4}-\d{2}-\d{2} /);
    const listed = JSON.parse((await w.cli(["admin", "user", "list", "--search", "bob", "--output", "json"])).stdout);
    expect(listed.users[0].login_lock.locked_sources).toBe(1);

    const unlock = await w.cli(["admin", "user", "unlock", "bob"]);
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toMatch(/✓ Login throttling of 'bob' cleared \(\d+ record\(s\)\)/);
    expect((await grant("bob", BOB_PASSWORD, ATTACKER)).status).toBe(200);
    expect((await w.cli(["admin", "user", "show", "bob"])).stdout).toContain("Locked: no");

    const again = await w.cli(["admin", "user", "unlock", "bob", "--output", "json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ id: json.id, username: "bob", cleared: 0, login_lock: null });
    const missing = await w.cli(["admin", "user", "unlock", "nobody-here"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr.split("\n")[0]).toBe("Error: User not found");

    const audit = JSON.parse((await w.cli(["admin", "audit", "list", "--action", "user.unlock", "--output", "json"])).stdout);
    expect(audit.events.length).toBe(2);
    expect(audit.events.map((e: { target_id: string }) => e.target_id)).toEqual([json.id, json.id]);
  });

  test("the admin API route: POST /admin/users/:id/unlock needs admin:users:write, 404 for an unknown id", async () => {
    const bob = JSON.parse((await w.cli(["admin", "user", "show", "bob", "--output", "json"])).stdout);
    for (let i = 0; i < MAX; i++) await grant("bob", `wrong-again-${i}`, "203.0.113.8");
    // Bob's token is a plain Bearer token (no proof at his login); the admin's is DPoP-bound (the CLI's login).
    const call = async (id: string, token?: string) => fetch(`${w.url}/admin/users/${id}/unlock`, { method: "POST", headers: token === undefined ? {} : token === "admin" ? await storedLoginHeaders(w.configDir, "POST", `/admin/users/${id}/unlock`) : { authorization: `Bearer ${token}` } });
    expect((await call(bob.id)).status).toBe(401);
    const read = await grant("bob", BOB_PASSWORD, "198.51.100.8");
    expect(read.status).toBe(200);
    expect((await call(bob.id, String(read.body.access_token))).status).toBe(403);
    const ok = await call(bob.id, "admin");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: bob.id, username: "bob", login_lock: null });
    expect((await grant("bob", BOB_PASSWORD, "203.0.113.8")).status).toBe(200);
    expect((await call("00000000-0000-4000-8000-000000000000", "admin")).status).toBe(404);
  });
});
