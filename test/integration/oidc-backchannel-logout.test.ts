// OpenID Connect Back-Channel Logout 1.0: ending a session POSTs a logout token to every client of
// that session with a registered backchannel_logout_uri; the token verifies through the JWKS and
// carries iss, aud, sub, sid, jti, iat, exp and the logout event, never a nonce.
import { afterAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { auditRows, startAdminApi } from "../support/admin";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { exchangeCode, jwtPayload, signIn } from "../support/oidc-flow";
import { BACKCHANNEL_LOGOUT_EVENT, settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";

const api = await startAdminApi();
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

interface Received {
  path: string;
  contentType: string | null;
  token: string;
}
const received: Received[] = [];
let answer = 200;
// A POST to /held is answered only once the test calls release() (an RP that is slow to answer).
let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const body = new URLSearchParams(await req.text());
    received.push({ path: new URL(req.url).pathname, contentType: req.headers.get("content-type"), token: body.get("logout_token") ?? "" });
    if (new URL(req.url).pathname === "/held") await held;
    return new Response(null, { status: new URL(req.url).pathname === "/broken" ? 500 : answer });
  },
});
afterAll(() => receiver.stop(true));
const rx = (path: string) => `http://127.0.0.1:${receiver.port}${path}`;

async function jwks() {
  return createLocalJWKSet(await (await fetch(`${api.url}/.well-known/jwks.json`)).json());
}

describe("back-channel logout", () => {
  test("the clients of the ended session get a valid logout token; others do not", async () => {
    const a = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx("/a"), post_logout_redirect_uris: ["https://rp.example.com/bye"] });
    const b = await createOidcClient(api.deps, { require_consent: false });
    const c = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx("/c") });
    const user = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const fa = await signIn(browser, a, user, { scope: "openid email" });
    const ta = await exchangeCode(http, a, fa.callback.code!, fa.verifier);
    await signIn(browser, b, user);
    // Client c is used by another browser (another session) only.
    await signIn(Browser.forServer(api.url), c, user);
    received.length = 0;

    const out = await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: ta.body.id_token!, post_logout_redirect_uri: "https://rp.example.com/bye" })}`);
    expect(out.location).toBe("https://rp.example.com/bye");
    await settleBackgroundLogouts();
    expect(received.map((r) => r.path)).toEqual(["/a"]);
    expect(received[0]!.contentType).toContain("application/x-www-form-urlencoded");

    const token = received[0]!.token;
    expect(decodeProtectedHeader(token).typ).toBe("logout+jwt");
    const { payload } = await jwtVerify(token, await jwks(), { issuer: api.url, audience: a.client_id, typ: "logout+jwt" });
    expect(payload.sub).toBe(user.id);
    expect(payload.sid).toBe(jwtPayload(ta.body.id_token!).sid);
    expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(typeof payload.jti).toBe("string");
    expect(payload.nonce).toBeUndefined();
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);

    const audit = await auditRows(api.deps, "logout.backchannel");
    expect(audit[0]).toMatchObject({ target_id: a.client_id, outcome: "success" });
  });

  test("tokens of the session without offline_access stop working; offline_access refresh tokens survive (§2.7)", async () => {
    const a = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx("/a") });
    const user = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const f1 = await signIn(browser, a, user, { scope: "openid email" });
    const online = await exchangeCode(http, a, f1.callback.code!, f1.verifier);
    const f2 = await signIn(browser, a, user, { scope: "openid offline_access" });
    const offline = await exchangeCode(http, a, f2.callback.code!, f2.verifier);
    await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: online.body.id_token! })}`);
    const ui = await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${online.body.access_token}` } });
    expect(ui.status).toBe(401);
    const refreshed = await fetch(`${api.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${a.client_id}:${a.client_secret}`)}` },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: offline.body.refresh_token! }).toString(),
    });
    expect(refreshed.status).toBe(200);
  });

  test("a failing or unreachable receiver does not stop the logout; the failure is audited", async () => {
    const broken = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx("/broken") });
    const closed = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: "http://127.0.0.1:9/nothing-listens" });
    const user = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const f = await signIn(browser, broken, user);
    const t1 = await exchangeCode(http, broken, f.callback.code!, f.verifier);
    await signIn(browser, closed, user);
    const out = await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: t1.body.id_token! })}`);
    expect(out.html).toContain("You are signed out");
    await settleBackgroundLogouts();
    const rows = await auditRows(api.deps, "logout.backchannel");
    expect(rows.find((r) => r.target_id === broken.client_id)).toMatchObject({ outcome: "failure" });
    expect(rows.find((r) => r.target_id === closed.client_id)).toMatchObject({ outcome: "failure" });
  });

  test("RP-initiated logout answers before a slow receiver does; its token is delivered after, in the background", async () => {
    const slow = await createOidcClient(api.deps, { require_consent: false, backchannel_logout_uri: rx("/held") });
    const user = await createOidcUser(api.deps);
    const browser = Browser.forServer(api.url);
    const f = await signIn(browser, slow, user);
    const t = await exchangeCode(http, slow, f.callback.code!, f.verifier);
    held = new Promise<void>((r) => (release = r));
    // The receiver answers only after the logout response has reached us: a logout that waited
    // for it would run into the 5 s delivery timeout and audit a failure.
    const out = await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: t.body.id_token! })}`);
    expect(out.html).toContain("You are signed out");
    release();
    await settleBackgroundLogouts();
    const token = received.findLast((r) => r.path === "/held")!.token;
    const { payload } = await jwtVerify(token, await jwks(), { issuer: api.url, audience: slow.client_id, typ: "logout+jwt" });
    expect(payload.sid).toBe(jwtPayload(t.body.id_token!).sid);
    const rows = await auditRows(api.deps, "logout.backchannel");
    expect(rows.find((r) => r.target_id === slow.client_id)).toMatchObject({ outcome: "success" });
  });

  test("the admin API registers backchannel_logout_uri (https, or http on loopback only)", async () => {
    const ok = await api.call("POST", "/admin/clients", { body: { client_name: "BCL", client_type: "confidential", redirect_uris: ["https://rp.example.com/cb"], backchannel_logout_uri: "https://rp.example.com/bcl" } });
    expect(ok.status).toBe(201);
    expect(ok.body.backchannel_logout_uri).toBe("https://rp.example.com/bcl");
    const bad = await api.call("POST", "/admin/clients", { body: { client_name: "BCL", client_type: "confidential", redirect_uris: ["https://rp.example.com/cb"], backchannel_logout_uri: "http://rp.example.com/bcl" } });
    expect(bad.status).toBe(400);
    const cleared = await api.call("PATCH", `/admin/clients/${ok.body.client_id}`, { body: { backchannel_logout_uri: null } });
    expect(cleared.body.backchannel_logout_uri).toBeNull();
    const renamed = await api.call("PATCH", `/admin/clients/${ok.body.client_id}`, { body: { backchannel_logout_uri: "https://rp.example.com/x" } });
    const again = await api.call("PATCH", `/admin/clients/${ok.body.client_id}`, { body: { client_name: "BCL 2" } });
    expect(renamed.body.backchannel_logout_uri).toBe("https://rp.example.com/x");
    expect(again.body.backchannel_logout_uri).toBe("https://rp.example.com/x");
  });
});
