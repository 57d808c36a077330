// OpenID Connect Back-Channel Logout 1.0 for sessions an administrator ends through the admin API
// (revoke sessions, deactivate, PATCH is_active=false, reset password, soft and hard delete): the
// clients of each ended session get the same logout token as after RP-initiated logout, sent after
// the commit and in the background, so a slow or unreachable RP never delays or fails the admin call.
import { afterAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { auditRows, startAdminApi } from "../support/admin";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";
import { BACKCHANNEL_LOGOUT_EVENT, settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";

const api = await startAdminApi();
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

interface Received {
  path: string;
  token: string;
}
const received: Received[] = [];
// A request to /hold/... is answered only once `release` is called (an RP that hangs).
let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();
let arrived: () => void = () => {};
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const path = new URL(req.url).pathname;
    received.push({ path, token: new URLSearchParams(await req.text()).get("logout_token") ?? "" });
    if (path.startsWith("/hold/")) {
      arrived();
      await held;
    }
    return new Response(null, { status: 200 });
  },
});
afterAll(() => receiver.stop(true));
let paths = 0;
const rx = () => `http://127.0.0.1:${receiver.port}/rp/${++paths}`;
const pathOf = (uri: string) => new URL(uri).pathname;

/** A loopback port on which nothing listens (a server started, then stopped). */
function closedPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null) });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function jwks() {
  return createLocalJWKSet(await (await fetch(`${api.url}/.well-known/jwks.json`)).json());
}

/** Signs the user in to `client` in `browser` and returns the session id (the ID token's sid). */
async function sessionWith(browser: Browser, client: OidcTestClient, user: OidcTestUser): Promise<string> {
  const f = await signIn(browser, client, user);
  const t = await exchangeCode(http, client, f.callback.code!, f.verifier);
  return jwtPayload(t.body.id_token!).sid as string;
}

/** Checks a logout token as an RP must (§2.6) and returns its claims. */
async function verifyLogoutToken(token: string, clientId: string) {
  expect(decodeProtectedHeader(token).typ).toBe("logout+jwt");
  const { payload } = await jwtVerify(token, await jwks(), { issuer: api.url, audience: clientId, typ: "logout+jwt" });
  expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
  expect(typeof payload.jti).toBe("string");
  expect(payload.nonce).toBeUndefined();
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
  return payload;
}

const actions: [string, (userId: string) => Promise<{ status: number; body: any }>][] = [
  ["DELETE /admin/users/:id/sessions", (id) => api.call("DELETE", `/admin/users/${id}/sessions`)],
  ["POST /admin/users/:id/deactivate", (id) => api.call("POST", `/admin/users/${id}/deactivate`)],
  ["PATCH /admin/users/:id is_active=false", (id) => api.call("PATCH", `/admin/users/${id}`, { body: { is_active: false } })],
  ["POST /admin/users/:id/reset-password", (id) => api.call("POST", `/admin/users/${id}/reset-password`, { body: {} })],
  ["DELETE /admin/users/:id (soft)", (id) => api.call("DELETE", `/admin/users/${id}`)],
  ["DELETE /admin/users/:id?hard=true", (id) => api.call("DELETE", `/admin/users/${id}?hard=true`)],
];

describe("back-channel logout of sessions ended by an admin", () => {
  test.each(actions)("%s: each ended session's clients get a valid logout token with that session's sid (§2.4, §2.5)", async (_name, act) => {
    const a = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx() });
    const b = await createOidcClient(api.deps, { require_consent: false });
    const c = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx() });
    const user = await createOidcUser(api.deps);
    const one = Browser.forServer(api.url);
    const sidOne = await sessionWith(one, a, user);
    await signIn(one, b, user);
    const sidTwo = await sessionWith(Browser.forServer(api.url), c, user);
    expect(sidOne).not.toBe(sidTwo);
    received.length = 0;

    const res = await act(user.id);
    expect(res.status).toBeLessThan(300);
    await settleBackgroundLogouts();

    const byPath = new Map(received.map((r) => [r.path, r.token]));
    expect(received).toHaveLength(2);
    const fromA = await verifyLogoutToken(byPath.get(pathOf((await clientUri(a.client_id))!))!, a.client_id);
    const fromC = await verifyLogoutToken(byPath.get(pathOf((await clientUri(c.client_id))!))!, c.client_id);
    expect(fromA).toMatchObject({ sub: user.id, sid: sidOne });
    expect(fromC).toMatchObject({ sub: user.id, sid: sidTwo });
    expect(fromA.jti).not.toBe(fromC.jti);
    const audit = (await auditRows(api.deps, "logout.backchannel")).filter((r) => r.actor === user.id);
    expect(audit.map((r) => [r.target_id, r.outcome, r.details.session_id]).sort()).toEqual(
      [[a.client_id, "success", sidOne], [c.client_id, "success", sidTwo]].sort(),
    );
  });

  test("the admin response does not wait for a relying party that has not answered yet", async () => {
    const slow = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: `http://127.0.0.1:${receiver.port}/hold/${++paths}` });
    const user = await createOidcUser(api.deps);
    const sid = await sessionWith(Browser.forServer(api.url), slow, user);
    held = new Promise((r) => (release = r));
    const reached = new Promise<void>((r) => (arrived = r));
    received.length = 0;

    const res = await api.call("DELETE", `/admin/users/${user.id}/sessions`);
    expect(res.status).toBe(200);
    expect(res.body.revoked_sessions).toBe(1);
    // Answered while the RP still holds the request: no delivery has ended, so none is audited yet.
    expect((await auditRows(api.deps, "logout.backchannel")).filter((r) => r.target_id === slow.client_id)).toEqual([]);

    await reached;
    release();
    await settleBackgroundLogouts();
    expect(await verifyLogoutToken(received[0]!.token, slow.client_id)).toMatchObject({ sid, sub: user.id });
    const audit = (await auditRows(api.deps, "logout.backchannel")).filter((r) => r.target_id === slow.client_id);
    expect(audit.map((r) => r.outcome)).toEqual(["success"]);
  });

  test("an unreachable relying party does not fail the admin call; the others still get their token, the failure is audited", async () => {
    const down = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: `http://127.0.0.1:${closedPort()}/bcl` });
    const up = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx() });
    const user = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const sid = await sessionWith(browser, down, user);
    await sessionWith(browser, up, user);
    received.length = 0;

    const res = await api.call("POST", `/admin/users/${user.id}/deactivate`);
    expect(res.status).toBe(200);
    expect(res.body.is_active).toBe(false);
    await settleBackgroundLogouts();

    expect(received.map((r) => r.path)).toEqual([pathOf((await clientUri(up.client_id))!)]);
    expect(await verifyLogoutToken(received[0]!.token, up.client_id)).toMatchObject({ sid });
    const audit = (await auditRows(api.deps, "logout.backchannel")).filter((r) => r.actor === user.id);
    expect(audit.find((r) => r.target_id === down.client_id)).toMatchObject({ outcome: "failure" });
    expect(audit.find((r) => r.target_id === up.client_id)).toMatchObject({ outcome: "success" });
  });

  test("a user without a live session triggers nothing: never signed in, or already signed out", async () => {
    const a = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx() });
    const never = await createOidcUser(api.deps);
    const gone = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const f = await signIn(browser, a, gone);
    const t = await exchangeCode(http, a, f.callback.code!, f.verifier);
    // RP-initiated logout ended that session already (and sent its one logout token).
    await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: t.body.id_token! })}`);
    await settleBackgroundLogouts(); // that logout token is sent in the background too
    received.length = 0;

    for (const u of [never, gone]) {
      const res = await api.call("DELETE", `/admin/users/${u.id}/sessions`);
      expect(res.status).toBe(200);
      expect(res.body.revoked_sessions).toBe(0);
      expect((await api.call("DELETE", `/admin/users/${u.id}?hard=true`)).status).toBe(200);
    }
    await settleBackgroundLogouts();
    expect(received).toEqual([]);
    const audit = (await auditRows(api.deps, "logout.backchannel")).filter((r) => r.actor === never.id || r.actor === gone.id);
    expect(audit).toHaveLength(1); // the RP-initiated logout's, nothing since
  });
});

async function clientUri(clientId: string): Promise<string | null> {
  const r = await api.call("GET", `/admin/clients/${clientId}`);
  return r.body.backchannel_logout_uri;
}
