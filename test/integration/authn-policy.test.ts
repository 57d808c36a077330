// MFA policies (src/authn/requirement.ts) and the admin side of factors: AUTHLY_ADMIN_REQUIRE_MFA
// walks an admin who enrolled nothing through enrolment at the login page and refuses the CLI's
// password grant with mfa_enrollment_required; the per-client `mfa` setting through the admin API;
// GET /admin/users/:id/mfa and POST .../mfa/reset (audited).
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, decodeEntities, isLoginPage, pkce } from "../support/browser";
import { authParams, exchangeCode, jwtPayload } from "../support/oidc-flow";
import { post } from "../support/fixtures";
import { auditRows, startAdminApi } from "../support/admin";
import { totpCode } from "../../src/authn/totp";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { loadConfig } from "../../src/config";

const t: TestApp = await createTestApp({ env: { AUTHLY_ADMIN_REQUIRE_MFA: "true" } });
// The admin API answers on loopback only: a real server for those tests.
const api = await startAdminApi();
const offClient = await createOidcClient(t.deps, { require_consent: false });
await t.deps.sql`UPDATE clients SET mfa = 'off' WHERE client_id = ${offClient.client_id}`;

describe("MFA policy", () => {
  test("AUTHLY_ADMIN_REQUIRE_MFA defaults to true in production mode and false otherwise; AUTHLY_MFA_POLICY defaults to optional", () => {
    const base = { DATABASE_URL: "postgresql://x@localhost/db", JWT_SECRET_KEY: "a".repeat(40), JWT_REFRESH_SECRET_KEY: "b".repeat(40) };
    expect(loadConfig({ ...base, AUTHLY_MODE: "production" }).adminRequireMfa).toBe(true);
    expect(loadConfig({ ...base, AUTHLY_MODE: "testing" }).adminRequireMfa).toBe(false);
    expect(loadConfig({ ...base, AUTHLY_MODE: "production", AUTHLY_ADMIN_REQUIRE_MFA: "false" }).adminRequireMfa).toBe(false);
    expect(loadConfig({ ...base }).mfaPolicy).toBe("optional");
    expect(() => loadConfig({ ...base, AUTHLY_MFA_POLICY: "sometimes" })).toThrow(/AUTHLY_MFA_POLICY: 'sometimes' is not an MFA policy/);
  });

  test("an admin who enrolled nothing is walked through enrolment at the login page, even at a client with mfa=off", async () => {
    const admin = await createOidcUser(t.deps, { is_admin: true });
    const b = Browser.forApp(t);
    const { verifier, challenge } = pkce();
    const login = await b.open(authorizeUrl(authParams(offClient, challenge)));
    const enrol = await b.submit(login, "/login", { login: admin.username, password: admin.password });
    expect(enrol.html).toContain("<h1>Set up two-step verification</h1>");
    const secret = decodeEntities(/data-totp-secret>([^<]+)</.exec(enrol.html)![1]!).replace(/\s/g, "");
    const codes = await b.submit(enrol, "/enrol", { code: totpCode(secret) });
    const done = await b.open(decodeEntities(/<a class="button primary" href="([^"]+)"/.exec(codes.html)![1]!));
    const tok = await exchangeCode(t, offClient, new URL(done.location!).searchParams.get("code")!, verifier);
    expect(jwtPayload(tok.body.id_token!).amr).toEqual(["mfa", "otp", "pwd"]);
  });

  test("the CLI's password grant refuses an admin without a second factor with mfa_enrollment_required, naming the account page", async () => {
    const admin = await createOidcUser(t.deps, { is_admin: true });
    const r = await t.request("/oauth/token", post({ grant_type: "password", client_id: CLI_CLIENT_ID, username: admin.username, password: admin.password }));
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; error_description: string };
    expect(body.error).toBe("mfa_enrollment_required");
    expect(body.error_description).toContain(`${t.issuer}/account`);
  });

  test("a client's mfa policy is set and shown through the admin API (off | optional | required | null for the server default)", async () => {
    const created = await api.call("POST", "/admin/clients", { body: { client_name: "Vault", client_type: "confidential", redirect_uris: ["https://vault.example/cb"], mfa: "required" } });
    expect(created.status).toBe(201);
    expect(created.body.mfa).toBe("required");
    const patched = await api.call("PATCH", `/admin/clients/${created.body.client_id}`, { body: { mfa: null } });
    expect(patched.body.mfa).toBeNull();
    const bad = await api.call("PATCH", `/admin/clients/${created.body.client_id}`, { body: { mfa: "always" } });
    expect(bad.status).toBe(400);
  });
});

describe("admin API: a user's factors", () => {
  test("GET /admin/users/:id/mfa lists factors without secrets; POST .../mfa/reset removes them, audited as user.mfa.reset; the user then signs in with the password", async () => {
    const user = await createOidcUser(api.deps);
    // The user sets up an authenticator app on the account page.
    const b = Browser.forServer(api.url);
    const page = await b.submit(await b.open("/account"), "/login", { login: user.username, password: user.password });
    const enrol = await b.submit(page, "/account/totp/start");
    const secret = decodeEntities(/data-totp-secret>([^<]+)</.exec(enrol.html)![1]!).replace(/\s/g, "");
    await b.submit(enrol, "/account/totp/confirm", { code: totpCode(secret) });

    expect((await api.call("GET", `/admin/users/${user.id}/mfa`, { token: null })).status).toBe(401);
    const listed = (await api.call("GET", `/admin/users/${user.id}/mfa`)).body;
    expect(listed).toMatchObject({ user_id: user.id, totp: { enrolled: true }, recovery_codes: { remaining: 10 }, webauthn: [] });
    expect(JSON.stringify(listed)).not.toContain(secret);

    expect((await api.call("POST", `/admin/users/${user.id}/mfa/reset`, { body: { factor: "sms" } })).status).toBe(400);
    const reset = await api.call("POST", `/admin/users/${user.id}/mfa/reset`, { body: {} });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ user_id: user.id, removed: { totp: true, webauthn: 0, recovery_codes: 10 } });
    const audited = (await auditRows(api.deps, "user.mfa.reset")).filter((r) => r.target_id === user.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor).toBe(api.admin.id);
    expect(audited[0]!.details).toMatchObject({ factor: "all", removed: { totp: true, recovery_codes: 10 } });

    const b2 = Browser.forServer(api.url);
    const login = await b2.open("/account");
    expect(isLoginPage(login)).toBe(true);
    const after = await b2.submit(login, "/login", { login: user.username, password: user.password });
    expect(after.html).toContain("<h1>Your account</h1>");
    expect(after.html).toContain("Off");
    expect((await api.call("GET", "/admin/users/00000000-0000-0000-0000-000000000001/mfa")).status).toBe(404);
  });
});
