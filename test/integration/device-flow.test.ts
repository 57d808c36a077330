// The device authorization grant (RFC 8628) end to end through the real app: the device
// authorization endpoint, the verification page driven by a form client (cookies in its own jar,
// login through the real login form), and polling at the token endpoint.
import { beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { Browser, findForm, isLoginPage, type Page } from "../support/browser";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { jwtPayload } from "../support/oidc-flow";
import { post } from "../support/fixtures";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";

const t: TestApp = await createTestApp({ env: { AUTHLY_DEVICE_USER_CODE_RATE_LIMIT: "100000", AUTHLY_DEVICE_USER_CODE_GLOBAL_RATE_LIMIT: "100000" } });
let tv: OidcTestClient;
let confidential: OidcTestClient;
let webOnly: OidcTestClient;
let user: OidcTestUser;

beforeAll(async () => {
  tv = await createOidcClient(t.deps, { client_type: "public", client_name: "Living Room TV", grant_types: [DEVICE_CODE_GRANT, "refresh_token"], redirect_uris: [] });
  confidential = await createOidcClient(t.deps, { client_name: "Build Agent", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
  webOnly = await createOidcClient(t.deps, { client_type: "public" });
  user = await createOidcUser(t.deps);
});

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function authorizeDevice(client: OidcTestClient, params: Record<string, string> = {}, auth?: { id: string; secret: string }) {
  const r = await t.request("/oauth/device_authorization", post(auth ? params : { client_id: client.client_id, ...params }, auth));
  return { status: r.status, headers: r.headers, body: (await r.json()) as DeviceAuthorization & { error?: string; error_description?: string } };
}

async function newCode(client = tv, scope = "openid profile offline_access"): Promise<DeviceAuthorization> {
  const r = await authorizeDevice(client, { scope });
  expect(r.status).toBe(200);
  return r.body;
}

async function poll(deviceCode: string, client = tv, app: Pick<TestApp, "request"> = t) {
  const r = await app.request("/oauth/token", post({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: client.client_id }));
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

/** Lets the next poll come after the interval (instead of sleeping through it). */
async function waitedInterval() {
  await t.deps.sql`UPDATE device_codes SET last_polled_at = now() - interval '1 hour' WHERE last_polled_at IS NOT NULL`;
}

/** A user at the verification page: enters `typed`, signs in when asked, lands on the confirmation. */
async function enterCode(b: Browser, typed: string, who: OidcTestUser = user): Promise<Page> {
  let page = await b.open("/device");
  expect(page.status).toBe(200);
  page = await b.submit(page, "/device", { user_code: typed });
  if (isLoginPage(page)) page = await b.submit(page, "/login", { login: who.username, password: who.password });
  return page;
}

async function decide(b: Browser, confirm: Page, decision: "allow" | "deny"): Promise<Page> {
  return b.submit(confirm, "/device/decision", { decision });
}

describe("device authorization endpoint (RFC 8628 §3.1-3.2)", () => {
  test("discovery advertises the endpoint and the grant type (RFC 8628 §4)", async () => {
    const meta = (await (await t.request("/.well-known/openid-configuration")).json()) as Record<string, any>;
    expect(meta.device_authorization_endpoint).toBe(`${t.issuer}/oauth/device_authorization`);
    expect(meta.grant_types_supported).toContain(DEVICE_CODE_GRANT);
    const as = (await (await t.request("/.well-known/oauth-authorization-server")).json()) as Record<string, any>;
    expect(as.device_authorization_endpoint).toBe(meta.device_authorization_endpoint);
  });

  test("answers a public client with a device code, a XXXX-XXXX user code and where to enter it, never cached (§3.2)", async () => {
    const r = await authorizeDevice(tv, { scope: "openid profile" });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const b = r.body;
    // ≥ 128 bits of entropy: 32 random bytes, base64url.
    expect(Buffer.from(b.device_code, "base64url").length).toBeGreaterThanOrEqual(16);
    expect(b.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(b.verification_uri).toBe(`${t.issuer}/device`);
    expect(b.verification_uri_complete).toBe(`${t.issuer}/device?user_code=${b.user_code}`);
    expect(b.expires_in).toBe(600);
    expect(b.interval).toBe(5);
  });

  test("stores neither the device code nor the user code in clear (hashed with the tokens pepper)", async () => {
    const b = await newCode();
    const rows = await t.deps.sql`SELECT * FROM device_codes WHERE client_id = ${tv.client_id}`;
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(b.device_code);
    expect(dump).not.toContain(b.user_code);
    expect(dump).not.toContain(b.user_code.replace("-", ""));
  });

  test("a confidential client authenticates exactly as at the token endpoint (RFC 8628 §3.1, RFC 6749 §2.3)", async () => {
    const ok = await authorizeDevice(confidential, { scope: "openid" }, { id: confidential.client_id, secret: confidential.client_secret! });
    expect(ok.status).toBe(200);
    const wrong = await authorizeDevice(confidential, { scope: "openid" }, { id: confidential.client_id, secret: "not-the-secret" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("invalid_client");
    // A confidential client may not pose as public.
    const none = await authorizeDevice(confidential, { scope: "openid" });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_client");
  });

  test("a client not registered for the device grant gets unauthorized_client; an unknown one invalid_client", async () => {
    const r = await authorizeDevice(webOnly);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unauthorized_client");
    const unknown = await t.request("/oauth/device_authorization", post({ client_id: "no-such-client" }));
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as any).error).toBe("invalid_client");
  });

  test("scope follows the authorization endpoint: unusable scopes dropped, none left is invalid_scope, none asked means the defaults", async () => {
    const dropped = await authorizeDevice(tv, { scope: "openid made-up-scope" });
    expect(dropped.status).toBe(200);
    const [row] = await t.deps.sql<{ scope: string }[]>`SELECT scope FROM device_codes ORDER BY created_at DESC LIMIT 1`;
    expect(row!.scope).toBe("openid");
    const none = await authorizeDevice(tv, { scope: "made-up-scope" });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe("invalid_scope");
    // Nothing asked: the client's default scopes; with none marked default, invalid_scope.
    expect((await authorizeDevice(tv)).body.error).toBe("invalid_scope");
    await t.deps.sql`UPDATE scopes SET is_default = true WHERE name = 'profile'`;
    try {
      const defaults = await authorizeDevice(tv);
      expect(defaults.status).toBe(200);
      const [latest] = await t.deps.sql<{ scope: string }[]>`SELECT scope FROM device_codes ORDER BY created_at DESC LIMIT 1`;
      expect(latest!.scope).toBe("profile");
    } finally {
      await t.deps.sql`UPDATE scopes SET is_default = false WHERE name = 'profile'`;
    }
  });

  test("a browser app on another origin may call it like the token endpoint (CORS without credentials)", async () => {
    const pre = await t.request("/oauth/device_authorization", { method: "OPTIONS", headers: { origin: "https://tv.example", "access-control-request-method": "POST" } });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const r = await t.request("/oauth/device_authorization", post({ client_id: tv.client_id, scope: "openid" }, undefined, { origin: "https://tv.example" }));
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("a body that is not a form, or repeats a parameter, is invalid_request", async () => {
    const json = await t.request("/oauth/device_authorization", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    expect(((await json.json()) as any).error).toBe("invalid_request");
    const twice = await t.request("/oauth/device_authorization", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `client_id=${tv.client_id}&scope=openid&scope=profile` });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as any).error).toBe("invalid_request");
  });
});

describe("verification page and polling (RFC 8628 §3.3-3.5)", () => {
  test("the code is accepted in any case, without the dash or with spaces; sign-in through the login form, then the confirmation shows client, scopes, code and the phishing warning (§3.3, §5.4, §6.1)", async () => {
    const code = await newCode();
    const typed = ` ${code.user_code.toLowerCase().replace("-", " ")} `;
    const b = Browser.forApp(t);
    const confirm = await enterCode(b, typed);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain("Living Room TV");
    expect(confirm.html).toContain(code.user_code);
    expect(confirm.html).toContain("Only continue if you started this on your device");
    expect(confirm.html).toContain("See your profile");
    expect(confirm.html).toContain("Keep access while you are away");
    // Allow is never the default button of a page that a phishing link may open.
    expect(confirm.html).not.toMatch(/value="allow"[^>]*autofocus/);

    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");
    const done = await decide(b, confirm, "allow");
    expect(done.status).toBe(200);
    expect(done.html).toContain("Device connected");

    await waitedInterval();
    const tokens = await poll(code.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.body.token_type).toBe("Bearer");
    expect(tokens.body.scope).toBe("openid profile offline_access");
    expect(tokens.body.refresh_token).toBeString();
    const id = jwtPayload(tokens.body.id_token);
    expect(id.sub).toBe(user.id);
    expect(id.aud).toBe(tv.client_id);
    expect(id.amr).toEqual(["pwd"]);
    const at = jwtPayload(tokens.body.access_token);
    expect(at.sub).toBe(user.id);
    expect(at.client_id).toBe(tv.client_id);
    const [grant] = await t.deps.sql<{ grant_type: string; user_id: string }[]>`SELECT grant_type, user_id FROM grants WHERE client_id = ${tv.client_id} ORDER BY created_at DESC LIMIT 1`;
    expect(grant).toEqual({ grant_type: DEVICE_CODE_GRANT, user_id: user.id });

    // The refresh token works like any other.
    const refreshed = await t.request("/oauth/token", post({ grant_type: "refresh_token", refresh_token: tokens.body.refresh_token, client_id: tv.client_id }));
    expect(refreshed.status).toBe(200);

    // Redeemed once: the next poll is invalid_grant.
    const again = await poll(code.device_code);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
  });

  test("verification_uri_complete with a session goes straight to the confirmation, which shows the code to compare (§3.3.1)", async () => {
    const b = Browser.forApp(t);
    const first = await newCode();
    await enterCode(b, first.user_code);
    const second = await newCode();
    const page = await b.open(second.verification_uri_complete);
    expect(page.html).toContain(second.user_code);
    expect(page.html).toContain("Only continue if you started this on your device");
    findForm(page.html, "/device/decision");
  });

  test("verification_uri_complete without a session pre-fills the code and waits for the user", async () => {
    const code = await newCode();
    const b = Browser.forApp(t);
    const page = await b.open(code.verification_uri_complete.toLowerCase().replace(`${t.issuer}/device`, "/device"));
    expect(page.status).toBe(200);
    expect(page.html).toContain(`value="${code.user_code}"`);
    expect(page.html).toContain('<label for="user_code">');
  });

  test("a wrong code is shown again with an error the screen reader announces; nothing is looked up for impossible codes", async () => {
    const b = Browser.forApp(t);
    const entry = await b.open("/device");
    const page = await b.submit(entry, "/device", { user_code: "BCDF-GHJK" });
    expect(page.status).toBe(400);
    expect(page.html).toContain('role="alert"');
    expect(page.html).toContain("not valid or has expired");
    expect(page.html).toContain('aria-invalid="true"');
  });

  test("polling: authorization_pending, slow_down when faster than the interval (which grows by 5 s and stays), pending again after waiting (§3.5)", async () => {
    const code = await newCode();
    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");
    const fast = await poll(code.device_code);
    expect(fast.status).toBe(400);
    expect(fast.body.error).toBe("slow_down");
    const interval = async () => (await t.deps.sql<{ interval_seconds: number }[]>`SELECT interval_seconds FROM device_codes WHERE client_id = ${tv.client_id} AND status = 'pending' ORDER BY created_at DESC LIMIT 1`)[0]!.interval_seconds;
    expect(await interval()).toBe(10);
    expect((await poll(code.device_code)).body.error).toBe("slow_down");
    expect(await interval()).toBe(15);
    await waitedInterval();
    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");
    expect(await interval()).toBe(15);
  });

  test("a denied request answers access_denied, and stays denied (§3.5)", async () => {
    const code = await newCode();
    const b = Browser.forApp(t);
    const confirm = await enterCode(b, code.user_code);
    const done = await decide(b, confirm, "deny");
    expect(done.html).toContain("Request denied");
    const r = await poll(code.device_code);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("access_denied");
    // The code no longer opens a confirmation page.
    const again = await b.submit(await b.open("/device"), "/device", { user_code: code.user_code });
    expect(again.status).toBe(400);
  });

  test("an expired device code answers expired_token, and its user code is no longer accepted (§3.5)", async () => {
    const code = await newCode();
    await t.deps.sql`UPDATE device_codes SET expires_at = now() - interval '1 second' WHERE client_id = ${tv.client_id} AND status = 'pending'`;
    const r = await poll(code.device_code);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("expired_token");
    const b = Browser.forApp(t);
    const page = await b.submit(await b.open("/device"), "/device", { user_code: code.user_code });
    expect(page.status).toBe(400);
    expect(page.html).toContain("not valid or has expired");
  });

  test("a device code of another client, or none at all, is invalid_grant / invalid_request", async () => {
    const code = await newCode();
    const other = await poll(code.device_code, confidential);
    expect(other.status).toBe(401); // confidential client without its secret
    const otherPublic = await createOidcClient(t.deps, { client_type: "public", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
    const r = await poll(code.device_code, otherPublic);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_grant");
    const missing = await t.request("/oauth/token", post({ grant_type: DEVICE_CODE_GRANT, client_id: tv.client_id }));
    expect(((await missing.json()) as any).error).toBe("invalid_request");
  });

  test("a client not registered for the grant cannot poll (unauthorized_client)", async () => {
    const r = await poll("x".repeat(43), webOnly);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unauthorized_client");
  });

  test("the forms need their CSRF token: the entry form's bound to the browser, the decision's to the session and the code", async () => {
    const code = await newCode();
    const b = Browser.forApp(t);
    const entry = await b.open("/device");
    const forged = await b.submit(entry, "/device", { user_code: code.user_code, csrf_token: "forged" });
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('role="alert"');

    const confirm = await enterCode(b, code.user_code);
    const form = findForm(confirm.html, "/device/decision");
    // Another signed-in browser cannot reuse this page's token.
    const mallory = Browser.forApp(t);
    await enterCode(mallory, (await newCode()).user_code);
    const stolen = await mallory.open("/device/decision", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ ...form.hidden, decision: "allow" }).toString() });
    expect(stolen.status).toBe(403);
    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");
  });

  test("a decision other than allow or deny is refused and the code stays pending", async () => {
    const code = await newCode();
    const b = Browser.forApp(t);
    const confirm = await enterCode(b, code.user_code);
    const odd = await b.submit(confirm, "/device/decision", { decision: "maybe" });
    expect(odd.status).toBe(400);
    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");
  });

  test("only administrators get admin scopes through the device grant", async () => {
    const cli = await createOidcClient(t.deps, { client_type: "public", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [], scopes: ["openid", "admin:users:read"], is_first_party: true });
    const code = await newCode(cli, "openid admin:users:read");
    const b = Browser.forApp(t);
    await decide(b, await enterCode(b, code.user_code), "allow");
    const r = await poll(code.device_code, cli);
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe("openid");
  });

  test("each live user code is unique: a drawn code that a live one holds is drawn again", async () => {
    const { insertDeviceCode } = await import("../../src/device/store");
    const row = { deviceCodeHash: "a-hash", userCodeHash: "same-user-code-hash", clientId: tv.client_id, scope: "openid", intervalSeconds: 5, ttlSeconds: 600 };
    expect(await insertDeviceCode(t.deps.sql, row)).toBe(true);
    expect(await insertDeviceCode(t.deps.sql, { ...row, deviceCodeHash: "b-hash" })).toBe(false);
    await t.deps.sql`UPDATE device_codes SET status = 'denied' WHERE device_code_hash = 'a-hash'`;
    expect(await insertDeviceCode(t.deps.sql, { ...row, deviceCodeHash: "b-hash" })).toBe(true);
  });
});
