// Two `authly serve` processes on different ports sharing one PostgreSQL behave as one server (the
// way nodes sit behind a load balancer): login at A, code exchange at B, refresh at A,
// introspection and revocation at B, key rotation at A seen by B, and A's browser session at B.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { buildDeps } from "../../src/server";
import { freePort, TEST_SECRETS } from "../support/app";
import { Browser, authorizeUrl, callbackParams, pkce } from "../support/browser";
import { baseDatabaseUrl, createTestDatabase, type TestDatabase } from "../support/db";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { authParams, exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";
import { ROOT, startServerProcess, type ServerProcess } from "../support/process";

// Needs the front channel, the token service and the admin API (docs/contracts.md), and a real
// PostgreSQL: the test engine PGlite runs every connection through one backend session, so
// processes on one test schema cannot share it the way nodes share a server.
const ready =
  ["src/interaction/routes.ts", "src/oauth/token.ts", "src/oauth/introspect.ts", "src/oauth/revoke.ts", "src/admin/routes.ts"].every((p) => existsSync(join(ROOT, p))) &&
  (await baseDatabaseUrl()).engine === "postgres";

const ADMIN_PASSWORD = "Multinode-admin-password-1";
// At module level: createTestDatabase registers the file's afterAll that drops the schema.
const db: TestDatabase | undefined = ready ? await createTestDatabase() : undefined;
let deps: Deps;
let a: ServerProcess;
let b: ServerProcess;
let user: OidcTestUser;
let client: OidcTestClient;

const basic = (c: OidcTestClient) => `Basic ${btoa(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret!)}`)}`;

async function form(base: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(params).toString() });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

beforeAll(async () => {
  if (!ready || !db) return;
  const [pa, pb] = [await freePort(), await freePort()];
  // One public issuer for both nodes: the address of the load balancer in front of them.
  const issuer = `http://127.0.0.1:${pa}`;
  const env = {
    ...TEST_SECRETS,
    AUTHLY_MODE: "testing",
    DATABASE_URL: db.url,
    AUTHLY_ISSUER: issuer,
    AUTHLY_LOG_LEVEL: "warn",
    AUTHLY_ACCESS_LOG: "false",
    AUTHLY_DEV_MODE: "true",
    AUTHLY_BOOTSTRAP_ENABLED: "true",
    AUTHLY_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
  // The test writes its fixtures with the nodes' own secrets (same peppers, same password hashing).
  deps = buildDeps(loadConfig(env, { purpose: "server" }), db.sql);
  user = await createOidcUser(deps);
  client = await createOidcClient(deps, { scopes: ["openid", "profile", "email", "offline_access"], require_consent: true });
  [a, b] = await Promise.all([
    startServerProcess(["serve", "--host", "127.0.0.1", "--port", String(pa)], { env, port: pa }),
    startServerProcess(["serve", "--host", "127.0.0.1", "--port", String(pb)], { env, port: pb }),
  ]);
}, 90_000);

afterAll(async () => {
  if (process.env.DEBUG_MULTINODE) console.log(a?.output(), b?.output());
  await a?.stop();
  await b?.stop();
});

describe.skipIf(!ready)("two nodes, one PostgreSQL", () => {
  test("login at A, code at B, refresh at A, introspection and revocation at B (RFC 6749 §4.1, §6; RFC 7662; RFC 7009)", async () => {
    // Login (front channel: authorization request, login page, consent page) at node A.
    const browser = Browser.forServer(a.url);
    const flow = await signIn(browser, client, user, { scope: "openid profile offline_access", prompt: "consent" });
    expect(flow.seen.login).toBe(true);
    expect(flow.callback.code).toBeString();

    // The authorization code is redeemed at node B.
    const atB = { request: (path: string, init?: RequestInit) => fetch(b.url + path, init) };
    const exchanged = await exchangeCode(atB, client, flow.callback.code!, flow.verifier);
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.refresh_token).toBeString();
    expect(jwtPayload(exchanged.body.id_token!).sub).toBe(user.id);

    // Refresh at node A (the rotated refresh token and its family live in PostgreSQL).
    const refreshed = await form(a.url, "/oauth/token", { grant_type: "refresh_token", refresh_token: exchanged.body.refresh_token! }, { authorization: basic(client) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).toBeString();
    const rt2 = refreshed.body.refresh_token as string;

    // Introspection at node B of A's access token.
    const intro = await form(b.url, "/oauth/introspect", { token: refreshed.body.access_token }, { authorization: basic(client) });
    expect(intro.status).toBe(200);
    expect(intro.body.active).toBe(true);
    expect(intro.body.sub).toBe(user.id);

    // Revocation at node B is honoured by node A at once.
    expect((await form(b.url, "/oauth/revoke", { token: refreshed.body.access_token }, { authorization: basic(client) })).status).toBe(200);
    const introA = await form(a.url, "/oauth/introspect", { token: refreshed.body.access_token }, { authorization: basic(client) });
    expect(introA.body.active).toBe(false);
    expect((await form(b.url, "/oauth/revoke", { token: rt2, token_type_hint: "refresh_token" }, { authorization: basic(client) })).status).toBe(200);
    const afterRevoke = await form(a.url, "/oauth/token", { grant_type: "refresh_token", refresh_token: rt2 }, { authorization: basic(client) });
    expect(afterRevoke.status).toBe(400);
    expect(afterRevoke.body.error).toBe("invalid_grant");

    // A code is redeemed once, whichever node is asked; a replay at A revokes what B issued for it
    // (RFC 6749 §4.1.2, §10.5).
    const again = await signIn(browser, client, user, { scope: "openid" });
    expect(again.seen.login).toBe(false);
    const t3 = await exchangeCode(atB, client, again.callback.code!, again.verifier);
    expect(t3.status).toBe(200);
    const replay = await exchangeCode({ request: (p, i) => fetch(a.url + p, i) }, client, again.callback.code!, again.verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    const introT3 = await form(b.url, "/oauth/introspect", { token: t3.body.access_token }, { authorization: basic(client) });
    expect(introT3.body.active).toBe(false);
  }, 60_000);

  test("the browser session made at A is honoured at B: no second login", async () => {
    const browser = Browser.forServer(a.url);
    await signIn(browser, client, user, { scope: "openid" });
    // Same cookie jar, other node.
    const atB = new Browser(async (url, init) => fetch(url.startsWith("http") ? url : b.url + url, { ...init, redirect: "manual" }), b.url);
    for (const [k, v] of browser.jar) atB.jar.set(k, v);
    const { challenge } = pkce();
    const page = await atB.open(authorizeUrl(authParams(client, challenge, { scope: "openid" })));
    expect(page.location).toBeString();
    expect(callbackParams(page.location!).code).toBeString();
  }, 60_000);

  test("a key rotation at A is seen by B: B verifies tokens signed with the new key and publishes it", async () => {
    const login = await form(a.url, "/oauth/token", { grant_type: "password", client_id: "authly-cli", username: "admin", password: ADMIN_PASSWORD, scope: "admin:system:read admin:system:write" });
    expect(login.status).toBe(200);
    const bearer = { authorization: `Bearer ${login.body.access_token}` };
    const rotated = await fetch(`${a.url}/admin/keys/rotate`, { method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: JSON.stringify({ alg: "ES256" }) });
    expect(rotated.status).toBe(200);
    const activated = ((await rotated.json()).rotated as { alg: string; activated: string }[]).find((r) => r.alg === "ES256")!.activated;

    // B's admin API reports the same key states (they are rows, not memory).
    const keysAtB = (await (await fetch(`${b.url}/admin/keys`, { headers: bearer })).json()).keys as { kid: string; state: string }[];
    expect(keysAtB.find((k) => k.kid === activated)?.state).toBe("active");
    // B publishes the key now signing at A...
    const jwksB = (await (await fetch(`${b.url}/.well-known/jwks.json`)).json()).keys as { kid: string }[];
    expect(jwksB.some((k) => k.kid === activated)).toBe(true);
    // ... and accepts an access token A signed with it (ES256 is the access-token algorithm).
    const fresh = await form(a.url, "/oauth/token", { grant_type: "password", client_id: "authly-cli", username: "admin", password: ADMIN_PASSWORD, scope: "admin:system:read" });
    expect(fresh.status).toBe(200);
    const header = JSON.parse(Buffer.from((fresh.body.access_token as string).split(".")[0]!, "base64url").toString());
    expect(header.kid).toBe(activated);
    expect((await fetch(`${b.url}/admin/status`, { headers: { authorization: `Bearer ${fresh.body.access_token}` } })).status).toBe(200);
  }, 60_000);
});
