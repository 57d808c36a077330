// `authly admin auth ...` against a live server: login (flags, --password-stdin, --api-url,
// --show-token), token file permissions, automatic refresh before expiry and after a 401, logout
// revoking at the server, whoami/status/info, the system keyring, and AUTHLY_DEBUG_HTTP masking.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runAuthly } from "../support/process";
import { createDpopProof, importDpopKey } from "../../src/lib/dpop-proof";
import { ADMIN_PASSWORD, makeHome, startCliWorld, type CliWorld } from "./admin-support";

// Every test runs real processes (often several) on a shared, busy machine.
setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld();

/** A fresh config folder for one test, logged in (or not). */
async function session(opts: { login?: boolean; env?: Record<string, string> } = {}) {
  const { home, configDir } = makeHome();
  const env = { HOME: home, AUTHLY_CONFIG_DIR: configDir, ...opts.env };
  const run = (args: string[], o: { env?: Record<string, string | undefined>; stdin?: string } = {}) => w.cli(args, { env: { ...env, ...o.env }, stdin: o.stdin });
  if (opts.login !== false) {
    const r = await run(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }
  const tokenFile = join(configDir, "tokens.json");
  return { home, configDir, tokenFile, env, run, tokens: () => JSON.parse(readFileSync(tokenFile, "utf8")) };
}

/** GET /admin/status with a stored login: its token and, as the CLI does, a DPoP proof of the key stored with it (RFC 9449). */
async function adminStatus(t: { access_token: string; dpop_key?: string; issuer?: string }): Promise<number> {
  if (!t.dpop_key) return (await fetch(`${w.url}/admin/status`, { headers: { Authorization: `Bearer ${t.access_token}` } })).status;
  const key = await importDpopKey(JSON.parse(t.dpop_key));
  const proof = await createDpopProof(key, { htm: "GET", htu: `${t.issuer}/admin/status`, accessToken: t.access_token });
  return (await fetch(`${w.url}/admin/status`, { headers: { Authorization: `DPoP ${t.access_token}`, DPoP: proof } })).status;
}

describe("login and the token file", () => {
  test("non-interactive login: the guide's output; folder 0700, file 0600; the token works", async () => {
    const s = await session({ login: false });
    const r = await s.run(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`✓ Successfully logged in as admin\nToken stored securely in ${s.tokenFile}\n`);
    expect(statSync(s.configDir).mode & 0o777).toBe(0o700);
    expect(statSync(s.tokenFile).mode & 0o777).toBe(0o600);
    const t = s.tokens();
    expect(t).toMatchObject({ storage: "file", api_url: w.url, username: "admin", token_type: "DPoP" });
    expect(Date.parse(t.expires_at)).toBeGreaterThan(Date.now());
    expect(await adminStatus(t)).toBe(200);
    // No leftovers of the atomic write or the refresh lock.
    expect(readdirSync(s.configDir).sort()).toEqual(["tokens.json"]);
  });

  test("~/.authly is the default folder (HOME), created 0700, file 0600", async () => {
    const { home } = makeHome();
    const r = await w.cli(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD], { env: { HOME: home, AUTHLY_CONFIG_DIR: undefined } });
    expect(r.code).toBe(0);
    expect(statSync(join(home, ".authly")).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, ".authly", "tokens.json")).mode & 0o777).toBe(0o600);
  });

  test("--show-token prints both tokens; --password-stdin reads the password from a pipe", async () => {
    const s = await session({ login: false });
    const r = await s.run(["admin", "auth", "login", "--username", "admin", "--password-stdin", "--show-token"], { stdin: `${ADMIN_PASSWORD}\n` });
    expect(r.code).toBe(0);
    const t = s.tokens();
    expect(r.stdout).toContain(`   Access token: ${t.access_token}`);
    expect(r.stdout).toContain(`   Refresh token: ${t.refresh_token}`);
  });

  test("without a terminal and without a password, login refuses (exit 5) instead of hanging", async () => {
    const s = await session({ login: false });
    const r = await s.run(["admin", "auth", "login", "--username", "admin"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("--password");
  });

  test("--api-url is remembered: later commands use the URL of the login", async () => {
    const s = await session({ login: false, env: { AUTHLY_ADMIN_API_URL: "" } });
    const r = await s.run(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD, "--api-url", w.url]);
    expect(r.code).toBe(0);
    const info = JSON.parse((await s.run(["admin", "auth", "info", "--output", "json"])).stdout);
    expect(info.api_url).toBe(w.url);
    expect(info.api_url_source).toBe("login (tokens.json)");
    expect((await s.run(["admin", "client", "list"])).code).toBe(0);
  });
});

describe("automatic refresh", () => {
  test("a token about to expire is refreshed before the command; the new tokens are stored (0600)", async () => {
    const s = await session();
    const before = s.tokens();
    writeFileSync(s.tokenFile, JSON.stringify({ ...before, expires_at: new Date(Date.now() + 10_000).toISOString() }));
    const r = await s.run(["admin", "client", "list", "--output", "json"]);
    expect(r.code).toBe(0);
    const after = s.tokens();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(Date.parse(after.expires_at)).toBeGreaterThan(Date.now() + 60_000);
    expect(statSync(s.tokenFile).mode & 0o777).toBe(0o600);
    expect(await adminStatus(after)).toBe(200);
  });

  test("[auth] auto_refresh = false leaves the stored tokens alone", async () => {
    const s = await session();
    writeFileSync(join(s.configDir, "config.toml"), "[auth]\nauto_refresh = false\n");
    const before = { ...s.tokens(), expires_at: new Date(Date.now() + 10_000).toISOString() };
    writeFileSync(s.tokenFile, JSON.stringify(before));
    expect((await s.run(["admin", "client", "list"])).code).toBe(0);
    expect(s.tokens().access_token).toBe(before.access_token);
  });

  test("an access token revoked at the server: one refresh and a retry, the command succeeds", async () => {
    const s = await session();
    const before = s.tokens();
    const rev = await fetch(`${w.url}/oauth/revoke`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: before.access_token, client_id: "authly-cli", token_type_hint: "access_token" }) });
    expect(rev.status).toBe(200);
    expect(await adminStatus(before)).toBe(401);
    const r = await s.run(["admin", "scope", "list"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(s.tokens().access_token).not.toBe(before.access_token);
  });

  test("auth refresh: new tokens, verified", async () => {
    const s = await session();
    const before = s.tokens();
    const r = await s.run(["admin", "auth", "refresh"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ Token refreshed successfully\nNew expiration: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\nToken verified - authentication active\n$/);
    expect(s.tokens().access_token).not.toBe(before.access_token);
  });
});

describe("logout", () => {
  test("revokes the tokens at the server, deletes the file; afterwards commands exit 2", async () => {
    const s = await session();
    const t = s.tokens();
    const r = await s.run(["admin", "auth", "logout"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`✓ Successfully logged out\nTokens cleared from ${s.tokenFile}\n`);
    expect(existsSync(s.tokenFile)).toBe(false);
    expect(await adminStatus(t)).toBe(401);
    const refresh = await fetch(`${w.url}/oauth/token`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: t.refresh_token, client_id: "authly-cli" }) });
    expect(refresh.status).toBe(400);
    const after = await s.run(["admin", "client", "list"]);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain("Error: Not logged in");
    // A copy of the old file is useless: the server refuses it (exit 2, session expired).
    writeFileSync(s.tokenFile, JSON.stringify(t));
    const stale = await s.run(["admin", "client", "list"]);
    expect(stale.code).toBe(2);
    expect(stale.stderr.split("\n")[0]).toMatch(/^Error: (Session expired|Authentication failed)$/);
    expect((await s.run(["admin", "auth", "logout"])).code).toBe(0);
    expect((await s.run(["admin", "auth", "logout"])).stdout).toContain("Not logged in");
  });
});

describe("whoami, status, info", () => {
  test("whoami as the guide; --verbose; --output json", async () => {
    const s = await session();
    const r = await s.run(["admin", "auth", "whoami"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ Authenticated as: admin\n✓ Token expires: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n✓ Scopes: admin:clients:read, admin:clients:write, admin:scopes:read, admin:scopes:write/);
    const v = await s.run(["admin", "auth", "whoami", "--verbose"]);
    expect(v.stdout).toContain(`API URL: ${w.url}`);
    expect(v.stdout).toContain("Token storage: plain file");
    const j = JSON.parse((await s.run(["admin", "auth", "whoami", "--output", "json"])).stdout);
    expect(j).toMatchObject({ username: "admin", api_url: w.url, expired: false, storage: "file" });
    expect(j.scopes).toContain("admin:system:write");
  });

  test("auth status: API health, login, counts; not logged in is exit 2 with the health shown", async () => {
    const s = await session();
    const r = await s.run(["admin", "auth", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ API Health: healthy\nAPI URL: http:\/\/127\.0\.0\.1:\d+\n✓ Authentication: Logged in\nDatabase: Connected\nOAuth clients: \d+\nOAuth scopes: \d+\n$/);
    const v = await s.run(["admin", "auth", "status", "-v"]);
    expect(v.stdout).toContain("Access token: eyJ");
    expect(v.stdout).toContain("CLI resource mode: mode=cli (command) pool=1-3");
    const out = await session({ login: false });
    const n = await out.run(["admin", "auth", "status"]);
    expect(n.code).toBe(2);
    expect(n.stdout).toContain("✓ API Health: healthy");
    expect(n.stdout).toContain("✗ Authentication: Not logged in");
  });

  test("auth info: paths, API, environment, mode (AUTHLY_MODE=cli unless overridden), version, authentication", async () => {
    const s = await session();
    const r = await s.run(["admin", "auth", "info"], { env: { JWT_SECRET_KEY: "x".repeat(40), DATABASE_URL: "" } });
    expect(r.code).toBe(0);
    for (const line of [
      "Authly Configuration Information",
      `Configuration directory: ${s.configDir}`,
      `Token file: ${s.tokenFile}`,
      "Token file exists: True",
      "Token storage: plain file",
      `  API URL: ${w.url}`,
      "  Admin API enabled: true",
      "  AUTHLY_MODE: cli (set by the admin command; AUTHLY_MODE overrides)",
      "  DATABASE_URL: not set",
      "  JWT_SECRET_KEY: set",
      "  mode=cli (command) pool=1-3 connect_timeout=10s idle=60s bootstrap=never",
      "  Authly version: ",
      "  Status: Authenticated as admin",
      "  Token expires: ",
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).not.toContain("x".repeat(40));
    const testing = JSON.parse((await s.run(["admin", "auth", "info", "--output", "json"], { env: { AUTHLY_MODE: "test" } })).stdout);
    expect(testing.mode).toMatchObject({ name: "testing", source: "env", pool: { min: 1, max: 5 } });
    expect(testing.environment.AUTHLY_MODE).toBe("test");
  });
});

describe("temporary passwords", () => {
  test("a generated password: login warns, commands exit 3 with the way out, change-password fixes it", async () => {
    const admin = await session();
    const created = JSON.parse((await admin.run(["admin", "user", "create", "--username", "carol", "--email", "carol@example.com", "--admin", "--generate-password", "--output", "json"])).stdout);
    expect(created.requires_password_change).toBe(true);
    const s = await session({ login: false });
    const login = await s.run(["admin", "auth", "login", "--username", "carol", "--password", created.generated_password]);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain("your password is temporary");
    // Logging in over another user's login (same folder, URL taken from that login) checks the new one.
    const over = await session();
    const again = await over.run(["admin", "auth", "login", "--username", "carol", "--password", created.generated_password], { env: { AUTHLY_ADMIN_API_URL: "" } });
    expect(again.stderr).toContain("your password is temporary");
    expect(over.tokens().username).toBe("carol");
    const refused = await s.run(["admin", "client", "list"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe('Error: Permission denied: your password is temporary\nRun `authly admin auth change-password` first (in a script: `authly admin auth change-password --current-password "$OLD" --new-password "$NEW"`).\n');
    const who = await s.run(["admin", "auth", "whoami", "--verbose"]);
    expect(who.stdout).toContain("✓ Server accepts the token: user carol");
    expect(who.stdout).toContain("✗ Password is temporary");
    const wrong = await s.run(["admin", "auth", "change-password", "--current-password", "nope-nope-nope", "--new-password", "Carol-New-Password-1"]);
    expect(wrong.code).toBe(5);
    const ok = await s.run(["admin", "auth", "change-password", "--current-password", created.generated_password, "--new-password", "Carol-New-Password-1"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("✓ Password changed\n");
    expect((await s.run(["admin", "client", "list"])).code).toBe(0);
    const noTty = await s.run(["admin", "auth", "change-password"]);
    expect(noTty.code).toBe(5);
  });
});

describe("system keyring", () => {
  /** A stand-in for libsecret's secret-tool: store/lookup/clear by attributes, in a folder. */
  function fakeSecretTool(): { bin: string; vault: string } {
    const { home } = makeHome();
    const bin = join(home, "bin");
    const vault = join(home, "vault");
    mkdirSync(bin);
    mkdirSync(vault);
    writeFileSync(
      join(bin, "secret-tool"),
      `#!/bin/bash
cmd="$1"; shift
args=()
for a in "$@"; do case "$a" in --label=*) ;; *) args+=("$a") ;; esac; done
id=$(printf '%s\\n' "\${args[@]}" | sha256sum | cut -c1-32)
case "$cmd" in
  store) cat > "${vault}/$id" ;;
  lookup) if [ -f "${vault}/$id" ]; then cat "${vault}/$id"; else exit 1; fi ;;
  clear) rm -f "${vault}/$id" ;;
  *) exit 2 ;;
esac
`,
    );
    chmodSync(join(bin, "secret-tool"), 0o755);
    return { bin, vault };
  }

  test("with secret-tool the tokens are encrypted and auth info says so; a lost key means log in again (exit 2)", async () => {
    const { bin, vault } = fakeSecretTool();
    const s = await session({ login: false, env: { PATH: `${bin}:${process.env.PATH}` } });
    const login = await s.run(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD]);
    expect(login.code).toBe(0);
    const file = s.tokens();
    expect(file.storage).toBe("keyring");
    expect(file.keyring).toBe("secret-tool");
    expect(file.access_token.startsWith("eyJ")).toBe(false);
    expect(file.access_token.startsWith("v1.")).toBe(true);
    expect(readdirSync(vault).length).toBe(1);
    expect((await s.run(["admin", "client", "list"])).code).toBe(0);
    const info = await s.run(["admin", "auth", "info"]);
    expect(info.stdout).toContain("Token storage: encrypted (AES-256-GCM), key in the system keyring (secret-tool)");
    // The keyring lost the key: the file alone is useless.
    for (const f of readdirSync(vault)) require("node:fs").rmSync(join(vault, f));
    const r = await s.run(["admin", "client", "list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Error: Stored tokens cannot be decrypted");
    // Logout still clears the local state.
    expect((await s.run(["admin", "auth", "logout"])).code).toBe(0);
    expect(existsSync(s.tokenFile)).toBe(false);
  });

  test("logout removes the key from the keyring", async () => {
    const { bin, vault } = fakeSecretTool();
    const s = await session({ env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(readdirSync(vault).length).toBe(1);
    expect((await s.run(["admin", "auth", "logout"])).code).toBe(0);
    expect(readdirSync(vault).length).toBe(0);
  });

  test("a refresh keeps the storage chosen at login (keyring stays encrypted, file stays file)", async () => {
    const { bin } = fakeSecretTool();
    const path = `${bin}:${process.env.PATH}`;
    const ring = await session({ env: { PATH: path } });
    expect((await ring.run(["admin", "auth", "refresh"])).code).toBe(0);
    expect(ring.tokens().storage).toBe("keyring");
    expect((await ring.run(["admin", "client", "list"])).code).toBe(0);
    const plain = await session();
    expect(plain.tokens().storage).toBe("file");
    expect((await plain.run(["admin", "auth", "refresh"], { env: { PATH: path } })).code).toBe(0);
    expect(plain.tokens().storage).toBe("file");
  });

  test("AUTHLY_TOKEN_STORAGE=file skips the keyring even when one exists", async () => {
    const { bin } = fakeSecretTool();
    const s = await session({ env: { PATH: `${bin}:${process.env.PATH}`, AUTHLY_TOKEN_STORAGE: "file" } });
    expect(s.tokens().storage).toBe("file");
  });
});

describe("AUTHLY_DEBUG_HTTP", () => {
  test("prints each request and response on stderr, with tokens, secrets and passwords masked", async () => {
    const s = await session({ login: false, env: { AUTHLY_DEBUG_HTTP: "true" } });
    const login = await s.run(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD]);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain(`→ POST ${w.url}/oauth/token`);
    expect(login.stderr).toMatch(/← 200 OK \(\d+ ms\)/);
    expect(login.stderr).not.toContain(ADMIN_PASSWORD);
    expect(login.stderr).not.toContain(ADMIN_PASSWORD.slice(0, 4));
    expect(login.stderr).toContain('"password":"****(masked)"');
    const t = s.tokens();
    expect(login.stderr).not.toContain(t.access_token);
    expect(login.stderr).not.toContain(t.refresh_token);
    const create = await s.run(["admin", "client", "create", "--name", "Debug", "--type", "confidential", "--redirect-uri", "https://d.example/cb", "--output", "json"]);
    const secret = JSON.parse(create.stdout).client_secret;
    expect(create.stderr).toContain(`→ POST ${w.url}/admin/clients`);
    expect(create.stderr).toContain("Authorization: DPoP ");
    expect(create.stderr).toContain("masked");
    expect(create.stderr).toMatch(/← 201 Created/);
    expect(create.stderr).not.toContain(secret);
    expect(create.stderr).not.toContain(t.access_token);
    // Without the variable: nothing on stderr.
    const quiet = await runAuthly(["admin", "client", "list"], { env: { ...s.env, AUTHLY_ADMIN_API_URL: w.url, AUTHLY_DEBUG_HTTP: "false" } });
    expect(quiet.stderr).toBe("");
  });
});
