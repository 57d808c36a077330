// The admin CLI binds its tokens with DPoP (RFC 9449): the key is kept with the tokens (0600), a
// proof goes with the login, every API call and the refresh, server nonces are retried (§8), and a
// token copied out of tokens.json is useless without the key (§7.2).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createDpopProof, generateDpopKey, importDpopKey } from "../../src/lib/dpop-proof";
import { ADMIN_PASSWORD, makeHome, startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

// Nonces on: every first proof of a process is refused with use_dpop_nonce and retried.
const w: CliWorld = await startCliWorld({ env: { AUTHLY_DPOP_NONCE: "true" } });

describe("authly admin with DPoP-bound tokens (RFC 9449)", () => {
  test("login stores a DPoP-bound token and its key (0600); commands, nonce retries and refresh work; the copied token is refused as Bearer and with another key (RFC 9449 §5, §7, §8)", async () => {
    const { home, configDir } = makeHome();
    const env = { HOME: home, AUTHLY_CONFIG_DIR: configDir };
    const login = await w.cli(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD], { env });
    expect([login.code, login.stderr]).toEqual([0, ""]);
    const file = join(configDir, "tokens.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored.token_type).toBe("DPoP");
    expect(typeof stored.dpop_key === "string" || stored.storage === "keyring").toBe(true);
    const cnf = JSON.parse(Buffer.from(stored.access_token.split(".")[1], "base64url").toString()).cnf;
    expect(cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const list = await w.cli(["admin", "client", "list", "--output", "json"], { env });
    expect([list.code, list.stderr]).toEqual([0, ""]);

    // Stolen: the access token alone, as Bearer or with the thief's own key.
    const bearer = await fetch(`${w.url}/admin/status`, { headers: { Authorization: `Bearer ${stored.access_token}` } });
    expect(bearer.status).toBe(401);
    const thief = await generateDpopKey("ES256");
    const issuer = w.deps.config.issuer;
    const nonce = (await fetch(`${w.url}/admin/status`, { headers: { Authorization: `DPoP ${stored.access_token}`, DPoP: await createDpopProof(thief, { htm: "GET", htu: `${issuer}/admin/status`, accessToken: stored.access_token }) } })).headers.get("dpop-nonce");
    const withThiefKey = await fetch(`${w.url}/admin/status`, { headers: { Authorization: `DPoP ${stored.access_token}`, DPoP: await createDpopProof(thief, { htm: "GET", htu: `${issuer}/admin/status`, accessToken: stored.access_token, nonce: nonce! }) } });
    expect(withThiefKey.status).toBe(401);
    // The stolen refresh token with the thief's key: refused, and the owner's session survives.
    const refreshByThief = await fetch(`${w.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", DPoP: await createDpopProof(thief, { htm: "POST", htu: `${issuer}/oauth/token`, nonce: nonce! }) },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: stored.refresh_token, client_id: "authly-cli" }),
    });
    expect(((await refreshByThief.json()) as any).error).toBe("invalid_grant");

    // With the stored key the owner's token works.
    const key = await importDpopKey(JSON.parse(stored.dpop_key));
    const mine = await fetch(`${w.url}/admin/status`, { headers: { Authorization: `DPoP ${stored.access_token}`, DPoP: await createDpopProof(key, { htm: "GET", htu: `${issuer}/admin/status`, accessToken: stored.access_token, nonce: nonce! }) } });
    expect(mine.status).toBe(200);

    // Refresh (forced by an expired stored access token) goes with a proof of the same key.
    writeFileSync(file, JSON.stringify({ ...stored, expires_at: new Date(Date.now() - 1000).toISOString() }));
    const after = await w.cli(["admin", "client", "list", "--output", "json"], { env });
    expect([after.code, after.stderr]).toEqual([0, ""]);
    const refreshed = JSON.parse(readFileSync(file, "utf8"));
    expect(refreshed.access_token).not.toBe(stored.access_token);
    expect(refreshed.token_type).toBe("DPoP");
    expect(refreshed.dpop_key).toBe(stored.dpop_key);
  });

  test("client create/update --require-dpop and --fapi-profile set dpop_bound_access_tokens and fapi_profile; a secret client cannot be put in FAPI mode (exit 5)", async () => {
    const { home, configDir } = makeHome();
    const env = { HOME: home, AUTHLY_CONFIG_DIR: configDir };
    expect((await w.cli(["admin", "auth", "login", "--username", "admin", "--password", ADMIN_PASSWORD], { env })).code).toBe(0);
    const created = await w.cli(["admin", "client", "create", "--name", "DPoP service", "--type", "confidential", "--grant-type", "client_credentials", "--require-dpop", "--output", "json"], { env });
    expect([created.code, created.stderr]).toEqual([0, ""]);
    const c = JSON.parse(created.stdout);
    expect(c.dpop_bound_access_tokens).toBe(true);
    const refused = await w.cli(["admin", "client", "update", c.client_id, "--fapi-profile", "fapi2-security"], { env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("private_key_jwt");
    const off = await w.cli(["admin", "client", "update", c.client_id, "--no-require-dpop", "--output", "json"], { env });
    expect(JSON.parse(off.stdout).dpop_bound_access_tokens).toBe(false);
  });
});
