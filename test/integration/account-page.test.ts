// The account page (/account): signed in with the browser session through the same interaction as
// every application; CSRF on every form; an authenticator app set up and removed; recovery codes
// regenerated; sessions ended; consents revoked.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, decodeEntities, findForm, isLoginPage, type Page } from "../support/browser";
import { signIn } from "../support/oidc-flow";
import { auditRows } from "../support/admin";
import { totpCode } from "../../src/authn/totp";

const t: TestApp = await createTestApp();

const isAccountPage = (p: Page) => /<h1>Your account<\/h1>/.test(p.html);
const secretOf = (p: Page) => decodeEntities(/data-totp-secret>([^<]+)</.exec(p.html)![1]!).replace(/\s/g, "");

async function signedIn(user: OidcTestUser, b = Browser.forApp(t)): Promise<{ b: Browser; page: Page }> {
  const login = await b.open("/account");
  expect(isLoginPage(login)).toBe(true);
  const page = await b.submit(login, "/login", { login: user.username, password: user.password });
  expect(isAccountPage(page)).toBe(true);
  return { b, page };
}

async function withTotp(user: OidcTestUser) {
  const { b, page } = await signedIn(user);
  const enrol = await b.submit(page, "/account/totp/start");
  const secret = secretOf(enrol);
  const firstCode = totpCode(secret);
  const codes = await b.submit(enrol, "/account/totp/confirm", { code: firstCode });
  const recovery = [...codes.html.matchAll(/<li data-recovery-code>([^<]+)<\/li>/g)].map((m) => m[1]!);
  return { b, secret, recovery, codes };
}

describe("account page", () => {
  test("without a session, /account starts a sign-in and returns to /account; the page has the three sections", async () => {
    const user = await createOidcUser(t.deps);
    const { page } = await signedIn(user);
    expect(page.html).toContain("Sign-in methods");
    expect(page.html).toContain("Where you are signed in");
    expect(page.html).toContain("Applications with access");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self';");
    expect(page.html).toContain("(this browser)");
  });

  test("a form without the session's CSRF token changes nothing", async () => {
    const user = await createOidcUser(t.deps);
    const { b, page } = await signedIn(user);
    const r = await b.submit(page, "/account/totp/start", { csrf_token: "forged" });
    expect(r.url).toContain("/account?done=invalid_form");
    expect(r.html).toContain('role="alert"');
    const [row] = await t.deps.sql`SELECT 1 FROM user_totp WHERE user_id = ${user.id}`;
    expect(row).toBeUndefined();
  });

  test("an authenticator app is set up with a first code, shows ten recovery codes once, and is then asked for at /account", async () => {
    const user = await createOidcUser(t.deps);
    const { secret, recovery, codes } = await withTotp(user);
    expect(recovery).toHaveLength(10);
    expect(codes.html).toContain("will not be shown again");
    // A new browser: password, then the code.
    const b2 = Browser.forApp(t);
    const login = await b2.open("/account");
    const factor = await b2.submit(login, "/login", { login: user.username, password: user.password });
    expect(factor.html).toContain("Verify it");
    const page = await b2.submit(factor, "/factor", { code: totpCode(secret, Date.now() + 30_000) });
    expect(isAccountPage(page)).toBe(true);
    expect(page.html).toContain("On: codes from your app");
    expect(page.html).toContain("10 of 10 left");
  });

  test("new recovery codes replace the old ones", async () => {
    const user = await createOidcUser(t.deps);
    const { b, recovery } = await withTotp(user);
    const page = await b.open("/account");
    const fresh = await b.submit(page, "/account/recovery/regenerate");
    const codes = [...fresh.html.matchAll(/<li data-recovery-code>([^<]+)<\/li>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    expect(codes).not.toContain(recovery[0]);
    const b2 = Browser.forApp(t);
    const factor = await b2.submit(await b2.open("/account"), "/login", { login: user.username, password: user.password });
    const old = await b2.submit(factor, "/factor", { method: "recovery", code: recovery[0]! });
    expect(old.status).toBe(401);
    const ok = await b2.submit(old, "/factor", { method: "recovery", code: codes[0]! });
    expect(isAccountPage(ok)).toBe(true);
    expect(ok.html).toContain("9 of 10 left");
  });

  test("removing the authenticator app removes its recovery codes too, and is audited", async () => {
    const user = await createOidcUser(t.deps);
    const { b } = await withTotp(user);
    const page = await b.open("/account");
    const after = await b.submit(page, "/account/totp/remove");
    expect(after.html).toContain("The authenticator app was removed.");
    const [n] = await t.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM user_recovery_codes WHERE user_id = ${user.id}`;
    expect(n!.n).toBe(0);
    expect((await auditRows(t.deps, "authn.totp.removed")).some((r) => r.actor === user.id)).toBe(true);
  });

  test("ending another session signs that browser out; revoking a consent revokes the application's grants", async () => {
    const user = await createOidcUser(t.deps);
    const client = await createOidcClient(t.deps);
    const other = Browser.forApp(t);
    await signIn(other, client, user);
    const { b, page } = await signedIn(user);
    expect(page.html).toContain("Example App");
    const otherSession = [...page.html.matchAll(/action="([^"]*\/sessions\/[^"]+\/end)"/g)].map((m) => decodeEntities(m[1]!));
    expect(otherSession).toHaveLength(2);
    const current = /action="([^"]*\/sessions\/([^"]+)\/end)"[^>]*><input type="hidden" name="csrf_token" value="[^"]*"><button type="submit" class="secondary" aria-label="Sign out/.exec(page.html);
    const target = otherSession.find((a) => !current || a !== decodeEntities(current[1]!))!;
    const ended = await b.submit(page, target.slice(target.indexOf("/account")));
    expect(ended.html).toContain("The session was ended.");
    expect(isLoginPage(await other.open("/account"))).toBe(true);
    const revoked = await b.submit(ended, `/account/consents/${encodeURIComponent(client.client_id)}/revoke`);
    expect(revoked.html).toContain("access was revoked");
    expect(revoked.html).toContain("No application has access.");
    expect(findForm(revoked.html, "/totp/start").action).toContain("/account/totp/start");
  });
});
