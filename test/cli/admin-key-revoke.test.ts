// `authly admin key revoke KID` (POST /admin/keys/:kid/revoke) run as a real CLI process against a
// live server: dry run, confirmation, exit codes, audit, and the effect on tokens the key signed.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { decodeProtectedHeader } from "jose";
import { readFileSync } from "node:fs";
import { issueAccessToken } from "../../src/tokens/access-token";
import { createClient, createUser, post } from "../support/fixtures";
import { expectExit, startCliWorld, storedLoginHeaders, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld();
const svc = await createClient(w.deps, { client_id: "svc-revoke", grant_types: ["client_credentials"], scopes: ["api:read"] });

beforeAll(async () => {
  expectExit(await w.login(), 0);
});

interface Key {
  kid: string;
  alg: string;
  state: string;
}
async function keys(): Promise<Key[]> {
  const r = await w.cli(["admin", "key", "list", "--output", "json"]);
  expectExit(r, 0);
  return JSON.parse(r.stdout).keys;
}
async function jwksKids(): Promise<string[]> {
  return ((await (await fetch(`${w.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}
async function introspect(token: string): Promise<boolean> {
  const r = await fetch(`${w.url}/oauth/introspect`, post({ token }, { id: "svc-revoke", secret: svc.secret! }));
  return ((await r.json()) as { active: boolean }).active;
}

describe("authly admin key revoke", () => {
  test("--dry-run changes nothing; off a terminal it needs --confirm (exit 5); an unknown kid exits 4", async () => {
    const before = await keys();
    const active = before.find((k) => k.alg === "EdDSA" && k.state === "active")!;
    const dry = await w.cli(["admin", "key", "revoke", active.kid, "--dry-run"]);
    expectExit(dry, 0);
    expect(dry.stdout).toContain(`Dry run: would revoke ${active.kid} (EdDSA, active)`);
    expect(dry.stdout).toContain("Nothing was changed.");
    const unconfirmed = await w.cli(["admin", "key", "revoke", active.kid]);
    expectExit(unconfirmed, 5);
    expect(unconfirmed.stderr).toContain("--confirm");
    expect(await keys()).toEqual(before);
    const unknown = await w.cli(["admin", "key", "revoke", "no-such-kid", "--confirm"]);
    expectExit(unknown, 4);
    expect(unknown.stderr).toContain("Signing key not found: no-such-kid");
    // A kid that starts with "-" is taken for an option; after "--" it is the kid.
    const dashed = await w.cli(["admin", "key", "revoke", "-no-such-kid", "--confirm"]);
    expectExit(dashed, 5);
    expect(dashed.stderr).toContain('put it after "--"');
    const afterDashes = await w.cli(["admin", "key", "revoke", "--confirm", "--", "-no-such-kid"]);
    expectExit(afterDashes, 4);
    expect(afterDashes.stderr).toContain("Signing key not found: -no-such-kid");
  });

  test("a retired key: out of the JWKS, audited as key.revoke; revoking it again exits 5", async () => {
    expectExit(await w.cli(["admin", "key", "rotate", "--alg", "EdDSA", "--confirm"]), 0);
    const retired = (await keys()).find((k) => k.alg === "EdDSA" && k.state === "retired")!;
    expect(await jwksKids()).toContain(retired.kid);
    const r = await w.cli(["admin", "key", "revoke", retired.kid, "--confirm", "--output", "json"]);
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toEqual({ kid: retired.kid, alg: "EdDSA", previous_state: "retired", activated: null, next: null });
    expect(await jwksKids()).not.toContain(retired.kid);
    expect((await keys()).find((k) => k.kid === retired.kid)!.state).toBe("revoked");
    const audit = JSON.parse((await w.cli(["admin", "audit", "list", "--action", "key.revoke", "--output", "json"])).stdout);
    expect(audit.events[0]).toMatchObject({ action: "key.revoke", target_type: "signing_key", target_id: retired.kid, outcome: "success" });
    const again = await w.cli(["admin", "key", "revoke", retired.kid, "--confirm"]);
    expectExit(again, 5);
    expect(again.stderr).toContain("already revoked");
  });

  test("the active access-token key: its next key takes over, and every token it signed is refused (introspection, UserInfo, the admin API)", async () => {
    const alg = w.deps.config.accessTokenAlg;
    const user = await createUser(w.deps, { username: "revoke-user" });
    const userToken = (await issueAccessToken(w.deps, { clientId: "svc-revoke", sub: user.id, userId: user.id, scope: "openid profile" })).token;
    const clientToken = (await issueAccessToken(w.deps, { clientId: "svc-revoke", sub: "svc-revoke", scope: "api:read" })).token;
    const kid = decodeProtectedHeader(clientToken).kid!;
    const before = await keys();
    expect(before.find((k) => k.kid === kid)).toMatchObject({ alg, state: "active" });
    const next = before.find((k) => k.alg === alg && k.state === "next")!.kid;
    expect(await introspect(clientToken)).toBe(true);
    expect((await fetch(`${w.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${userToken}` } })).status).toBe(200);
    const cliToken = JSON.parse(readFileSync(`${w.configDir}/tokens.json`, "utf8")).access_token as string;
    expect(decodeProtectedHeader(cliToken).kid).toBe(kid);

    const r = await w.cli(["admin", "key", "revoke", kid, "--confirm"]);
    expectExit(r, 0);
    expect(r.stdout).toContain(`✓ Signing key ${kid} revoked`);
    expect(r.stdout).toContain(`${alg}: active ${next}`);

    expect(await jwksKids()).not.toContain(kid);
    expect(await introspect(clientToken)).toBe(false);
    expect((await fetch(`${w.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${userToken}` } })).status).toBe(401);
    // The CLI's own access token was signed by that key too: the admin API refuses it ...
    const refused = await fetch(`${w.url}/admin/status`, { headers: await storedLoginHeaders(w.configDir, "GET", "/admin/status", cliToken) });
    expect(refused.status).toBe(401);
    // ... and the CLI refreshes once after the 401 (the refresh token is not a JWT): a token of the promoted key.
    expectExit(await w.cli(["admin", "status"]), 0);
    const refreshed = JSON.parse(readFileSync(`${w.configDir}/tokens.json`, "utf8")).access_token as string;
    expect(decodeProtectedHeader(refreshed).kid).toBe(next);
    const after = await keys();
    expect(after.find((k) => k.kid === next)!.state).toBe("active");
    expect(after.filter((k) => k.alg === alg && k.state === "next").length).toBe(1);
  });
});
