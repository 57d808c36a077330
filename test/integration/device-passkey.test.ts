// Issue 16: the device grant is how an administrator whose only second factor is a passkey signs
// in to the admin CLI. The password grant of the built-in authly-cli client cannot take a passkey
// (mfa_required); the device grant can: the verification page's sign-in asks for the passkey like
// any sign-in (any factor, RFC 8628 §3.3), and the CLI's poll gets admin tokens with that strength.
import { describe, expect, test } from "bun:test";
import { createTestApp } from "../support/app";
import { Browser } from "../support/browser";
import { createOidcUser } from "../support/oidc-fixtures";
import { SoftAuthenticator, dataAttr } from "../support/soft-authenticator";
import { ADMIN_SCOPES } from "../../src/scopes/model";
import { ACR } from "../../src/authn/model";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";

// app.handle requests carry no source address: the admin API must answer beyond loopback here.
const t = await createTestApp({ env: { AUTHLY_ADMIN_API_LOCALHOST_ONLY: "false" } });
const CLI = "authly-cli";
const form = (body: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });

describe("an administrator with a passkey as the only second factor", () => {
  test("the CLI's password grant answers mfa_required; the device grant completes with the passkey on the verification page", async () => {
    const admin = await createOidcUser(t.deps, { is_admin: true });
    const auth = new SoftAuthenticator();
    // The admin registers a passkey on the account page (no second factor yet: the password is enough).
    const b = Browser.forApp(t);
    const account = await b.submit(await b.open("/account"), "/login", { login: admin.username, password: admin.password });
    expect(account.html).toContain("<h1>Your account</h1>");
    const credential = auth.register({ challenge: dataAttr(account.html, "create", "challenge"), origin: "http://localhost", rpId: dataAttr(account.html, "create", "rp-id"), userId: dataAttr(account.html, "create", "user-id") });
    expect((await b.submit(account, "/account/passkeys", { credential: JSON.stringify(credential), name: "Laptop" })).html).toContain("Save your recovery codes");

    // The recovery codes shown at registration are used up (deleted here): the passkey is the only second factor.
    await t.deps.sql`DELETE FROM user_recovery_codes WHERE user_id = ${admin.id}`;
    // `authly admin auth login` with the password: refused, the passkey cannot go through this grant.
    const pw = await t.request("/oauth/token", form({ grant_type: "password", client_id: CLI, username: admin.username, password: admin.password, scope: ADMIN_SCOPES.join(" ") }));
    expect(pw.status).toBe(400);
    const pwBody = await pw.json();
    expect(pwBody.error).toBe("mfa_required");
    expect(pwBody.error_description).toContain("passkey");

    // `authly admin auth login --device`: the device authorization request of authly-cli.
    const started = await t.request("/oauth/device_authorization", form({ client_id: CLI, scope: ADMIN_SCOPES.join(" ") }));
    expect(started.status).toBe(200);
    const device = (await started.json()) as { device_code: string; user_code: string };

    // In a browser (a fresh one: no session): code, password, then the passkey, then allow.
    const browser = Browser.forApp(t);
    const entry = await browser.open("/device");
    const login = await browser.submit(entry, "/device", { user_code: device.user_code });
    expect(login.html).toContain("<h1>Sign in</h1>");
    const factor = await browser.submit(login, "/login", { login: admin.username, password: admin.password });
    const challenge = dataAttr(factor.html, "get", "challenge");
    const confirm = await browser.submit(factor, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge, origin: "http://localhost", rpId: "localhost" })) });
    expect(confirm.html).toContain(device.user_code);
    expect(confirm.html).toContain("Only continue if you started this on your device");
    const done = await browser.submit(confirm, "/device/decision", { decision: "allow" });
    expect(done.html).toContain("Device connected");

    // The CLI's poll gets the tokens: admin scopes, and the strength of the passkey sign-in.
    const polled = await t.request("/oauth/token", form({ grant_type: DEVICE_CODE_GRANT, client_id: CLI, device_code: device.device_code }));
    expect(polled.status).toBe(200);
    const tokens = await polled.json();
    expect(tokens.scope.split(" ")).toEqual(expect.arrayContaining(["admin:users:read", "admin:clients:write"]));
    const [row] = await t.deps.sql<{ acr: string; amr: string[]; user_id: string }[]>`SELECT acr, amr, user_id FROM device_codes WHERE client_id = ${CLI} ORDER BY created_at DESC LIMIT 1`;
    expect(row!.user_id).toBe(admin.id);
    expect(row!.amr).toContain("mfa");
    expect([ACR.mfa, ACR.phr] as string[]).toContain(row!.acr);
    const me = await t.request("/admin/me", { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect((await me.json()).username).toBe(admin.username);
  });
});
