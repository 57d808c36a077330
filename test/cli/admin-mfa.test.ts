// The admin CLI with two-step verification (issue 13): `auth login` of an admin with an
// authenticator app (no code on a pipe: a clear error; --otp-stdin: signed in, amr otp), and
// `authly admin user mfa list|reset USER` (audited). The real CLI against a live server.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Browser, decodeEntities } from "../support/browser";
import { totpCode } from "../../src/authn/totp";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld();
const OPS_PASSWORD = "Ops-Long-Password-42";
let secret = "";
let firstCode = "";

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
  expect((await w.cli(["admin", "user", "create", "--username", "ops", "--email", "ops@example.com", "--password", OPS_PASSWORD, "--admin"])).code).toBe(0);
  // ops sets up an authenticator app on the account page.
  const b = Browser.forServer(w.url);
  const page = await b.submit(await b.open("/account"), "/login", { login: "ops", password: OPS_PASSWORD });
  const enrol = await b.submit(page, "/account/totp/start");
  secret = decodeEntities(/data-totp-secret>([^<]+)</.exec(enrol.html)![1]!).replace(/\s/g, "");
  firstCode = totpCode(secret);
  expect((await b.submit(enrol, "/account/totp/confirm", { code: firstCode })).status).toBe(200);
});

describe("authly admin auth login with two-step verification", () => {
  test("without a terminal and without --otp-stdin: exit code 2 and a message naming --otp-stdin; nothing stored", async () => {
    const env = { AUTHLY_CONFIG_DIR: `${w.home}/ops-a` };
    const r = await w.cli(["admin", "auth", "login", "--username", "ops", "--password-stdin"], { stdin: `${OPS_PASSWORD}\n`, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Error: Login failed: a one-time code is required");
    expect(r.stderr).toContain("--otp-stdin");
    expect(r.stderr).not.toContain(OPS_PASSWORD);
  });

  test("an admin whose only second factor is a passkey is told to sign in with --device (exit 2); nothing stored", async () => {
    expect((await w.cli(["admin", "user", "create", "--username", "keyonly", "--email", "keyonly@example.com", "--password", OPS_PASSWORD, "--admin"])).code).toBe(0);
    // A registered passkey and no codes (the browser registration is tested in authn-webauthn and device-passkey).
    await w.deps.sql`INSERT INTO webauthn_credentials (id, user_id, name, public_key, device_type) SELECT 'cred-keyonly', id, 'Laptop', 'unused', 'singleDevice' FROM users WHERE username = 'keyonly'`;
    const env = { AUTHLY_CONFIG_DIR: `${w.home}/keyonly` };
    const r = await w.cli(["admin", "auth", "login", "--username", "keyonly", "--password-stdin"], { stdin: `${OPS_PASSWORD}\n`, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Error: Login failed: this account's second factor is a passkey or security key");
    expect(r.stderr).toContain("authly admin auth login --device");
    expect(r.stderr).not.toContain("--otp-stdin");
  });

  test("a used code is refused (replay); --password-stdin --otp-stdin with a fresh code signs in and the token says amr otp", async () => {
    const env = { AUTHLY_CONFIG_DIR: `${w.home}/ops-b` };
    const replay = await w.cli(["admin", "auth", "login", "--username", "ops", "--password-stdin", "--otp-stdin"], { stdin: `${OPS_PASSWORD}\n${firstCode}\n`, env });
    expect(replay.code).toBe(2);
    expect(replay.stderr).toContain("Login failed: wrong one-time code");
    const ok = await w.cli(["admin", "auth", "login", "--username", "ops", "--password-stdin", "--otp-stdin"], { stdin: `${OPS_PASSWORD}\n${totpCode(secret, Date.now() + 30_000)}\n`, env });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Successfully logged in as ops");
    const tokens = JSON.parse(readFileSync(`${w.home}/ops-b/tokens.json`, "utf8"));
    const claims = JSON.parse(Buffer.from(String(tokens.access_token).split(".")[1]!, "base64url").toString());
    expect(claims.amr).toEqual(["mfa", "otp", "pwd"]);
    expect(claims.acr).toBe("urn:authly:acr:mfa");
    const who = await w.cli(["admin", "auth", "whoami"], { env });
    expect(who.code).toBe(0);
  });
});

describe("authly admin client --mfa", () => {
  test("create --mfa required and update --mfa default set the client's policy (shown by client show)", async () => {
    const created = await w.cli(["admin", "client", "create", "--name", "Vault", "--type", "confidential", "--redirect-uri", "https://vault.example/cb", "--mfa", "required", "--output", "json"]);
    expect(created.code).toBe(0);
    const c = JSON.parse(created.stdout);
    expect(c.mfa).toBe("required");
    expect((await w.cli(["admin", "client", "show", c.client_id])).stdout).toMatch(/MFA: +required/);
    expect((await w.cli(["admin", "client", "update", c.client_id, "--mfa", "default"])).code).toBe(0);
    expect((await w.cli(["admin", "client", "show", c.client_id])).stdout).toMatch(/MFA: +default \(server policy\)/);
  });
});

describe("authly admin user mfa list|reset", () => {
  test("list shows the authenticator app and recovery codes; reset --factor totp removes it, audited; JSON output", async () => {
    const list = await w.cli(["admin", "user", "mfa", "list", "ops"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/Authenticator app: on since \d{4}-\d{2}-\d{2}/);
    expect(list.stdout).toContain("Recovery codes left: 10");
    const json = JSON.parse((await w.cli(["admin", "user", "mfa", "list", "ops", "--output", "json"])).stdout);
    expect(json).toMatchObject({ username: "ops", totp: { enrolled: true }, recovery_codes: { remaining: 10 }, webauthn: [] });
    expect(JSON.stringify(json)).not.toContain(secret);

    const dry = await w.cli(["admin", "user", "mfa", "reset", "ops", "--factor", "totp", "--dry-run"]);
    expect(dry.stdout).toContain("Nothing was changed");
    const reset = await w.cli(["admin", "user", "mfa", "reset", "ops", "--factor", "totp", "--confirm"]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("authenticator app removed");
    expect((await w.cli(["admin", "user", "mfa", "list", "ops"])).stdout).toContain("Authenticator app: off");
    const audit = JSON.parse((await w.cli(["admin", "audit", "list", "--action", "user.mfa.reset", "--output", "json"])).stdout);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0].details).toMatchObject({ factor: "totp", username: "ops" });
    const bad = await w.cli(["admin", "user", "mfa", "reset", "ops", "--factor", "sms", "--confirm"]);
    expect(bad.code).not.toBe(0);
    const missing = await w.cli(["admin", "user", "mfa", "list", "nobody-here"]);
    expect(missing.code).toBe(4);
  });
});
