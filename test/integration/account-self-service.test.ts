// The account page's self-service forms (issue 17) on the real server with a real SMTP peer: the
// profile, an email change that takes effect only when the link to the new address is followed
// (and tells the old address), a password change that ends every other session (back-channel
// logout) and refresh token, and "sign out everywhere else".
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ParsedMail } from "mailparser";
import { freePort } from "../support/app";
import { startAdminApi } from "../support/admin";
import { Browser, authorizeUrl, callbackParams, isLoginPage, pkce, type Page } from "../support/browser";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { authParams, exchangeCode, jwtPayload, signIn, startLogoutReceiver } from "../support/oidc-flow";
import { linkIn, startSmtpPeer } from "../support/smtp";
import { settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const peer = await startSmtpPeer(smtpPort);
const { uri: logoutUri, tokens: received } = startLogoutReceiver();
afterAll(() => peer.stop());

const api = await startAdminApi({ AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" });
const deps = api.deps;
const rp = await createOidcClient(deps, { require_consent: false, scopes: ["openid", "offline_access"], backchannel_logout_uri: logoutUri });
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

const to = (m: ParsedMail) => (m.to && "text" in m.to ? m.to.text : "");
const isAccountPage = (p: Page) => /<h1>Your account<\/h1>/.test(p.html);

async function accountOf(user: OidcTestUser, b = Browser.forServer(api.url)): Promise<{ b: Browser; page: Page }> {
  const login = await b.open("/account");
  expect(isLoginPage(login)).toBe(true);
  const page = await b.submit(login, "/login", { login: user.username, password: user.password });
  expect(isAccountPage(page)).toBe(true);
  return { b, page };
}

async function sessionAlive(b: Browser): Promise<boolean> {
  const r = await b.request(authorizeUrl(authParams(rp, pkce().challenge, { prompt: "none" })));
  return callbackParams(r.headers.get("location")!).error === undefined;
}

describe("profile", () => {
  test("the user edits the standard claims they may; bad values are refused with the field named and nothing saved", async () => {
    const user = await createOidcUser(deps);
    const { b, page } = await accountOf(user);
    expect(page.html).toContain('<h2 id="profile">Profile</h2>');
    const bad = await b.submit(page, "/account/profile", { name: "Ada King", website: "javascript:alert(1)", locale: "not a locale!", zoneinfo: "Mars/Olympus" });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("Enter an http or https address.");
    expect(bad.html).toContain("Enter a language tag such as en-US.");
    expect(bad.html).toContain("Enter a time zone such as Europe/Paris.");
    expect(bad.html).toContain('value="Ada King"');
    expect((await deps.sql`SELECT name FROM users WHERE id = ${user.id}`)[0]!.name).toBe("Ada Lovelace");

    const ok = await b.submit(page, "/account/profile", { name: "Ada King", given_name: "Augusta Ada", family_name: "King", nickname: "", website: "https://ada.example", locale: "en-GB", zoneinfo: "Europe/London" });
    expect(ok.url).toContain("/account?done=profile_saved");
    expect(ok.html).toContain("Your profile was saved.");
    const [row] = await deps.sql`SELECT name, given_name, family_name, nickname, website, locale, zoneinfo FROM users WHERE id = ${user.id}`;
    expect(row).toEqual({ name: "Ada King", given_name: "Augusta Ada", family_name: "King", nickname: null, website: "https://ada.example", locale: "en-GB", zoneinfo: "Europe/London" });
    const [a] = await deps.sql`SELECT details FROM audit_log WHERE action = 'user.profile_updated' AND target_id = ${user.id}`;
    expect((a!.details as { fields: string[] }).fields.sort()).toEqual(["family_name", "given_name", "name", "nickname", "website"]);
  });
});

describe("email change", () => {
  test("the new address takes effect only when its link is followed; the old address is told", async () => {
    const user = await createOidcUser(deps, { email: "old-address@example.test" });
    const { b, page } = await accountOf(user);
    const wrong = await b.submit(page, "/account/email", { email: "new-address@example.test", password: "not-my-password" });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain("Your password is not right.");
    const sent = await b.submit(page, "/account/email", { email: "new-address@example.test", password: user.password });
    expect(sent.html).toContain("We sent a link to the new address.");
    expect((await deps.sql`SELECT email FROM users WHERE id = ${user.id}`)[0]!.email).toBe("old-address@example.test");

    const mail = await peer.waitFor((m) => to(m) === "new-address@example.test" && m.subject === "Confirm your new email address");
    const link = linkIn(mail.text!, "/email/change?token=");
    const confirm = await b.open(link);
    expect(confirm.html).toContain("new-address@example.test");
    expect((await deps.sql`SELECT email FROM users WHERE id = ${user.id}`)[0]!.email).toBe("old-address@example.test");
    const done = await b.submit(confirm, "/email/change");
    expect(done.html).toContain("Address changed");
    expect((await deps.sql`SELECT email, email_verified FROM users WHERE id = ${user.id}`)[0]).toEqual({ email: "new-address@example.test", email_verified: true });
    const notice = await peer.waitFor((m) => to(m) === "old-address@example.test" && m.subject === "Your email address was changed");
    expect(notice.text).toContain("new-address@example.test");
    expect((await fetch(link)).status).toBe(400);
    expect((await deps.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.email_changed' AND target_id = ${user.id}`)[0]!.n).toBe(1);
  });

  test("an address of another account gets the same answer and no mail", async () => {
    const other = await createOidcUser(deps, { email: "someone-else@example.test" });
    const user = await createOidcUser(deps);
    const { b, page } = await accountOf(user);
    const r = await b.submit(page, "/account/email", { email: other.email, password: user.password });
    expect(r.html).toContain("We sent a link to the new address.");
    const [a] = await deps.sql`SELECT outcome, details FROM audit_log WHERE action = 'user.email_change_requested' AND target_id = ${user.id}`;
    expect(a).toEqual({ outcome: "failure", details: { reason: "address_taken" } });
    expect((await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE recipient = ${other.email} AND kind = 'email_change'`)[0]!.n).toBe(0);
  });
});

describe("password change and sessions", () => {
  test("needs the current password and the policy; ends every other session (back-channel logout) and refresh token, keeps this one", async () => {
    const user = await createOidcUser(deps);
    // Elsewhere: a browser signed in at a relying party that holds a refresh token.
    const elsewhere = Browser.forServer(api.url);
    const f = await signIn(elsewhere, rp, user, { scope: "openid offline_access" });
    const rpTokens = (await exchangeCode(http, rp, f.callback.code!, f.verifier)).body;
    const sid = jwtPayload(rpTokens.id_token!).sid;
    const { b, page } = await accountOf(user);

    const wrong = await b.submit(page, "/account/password", { current_password: "wrong", new_password: "Brand-New-Password-1", confirm_password: "Brand-New-Password-1" });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain("Your current password is not right.");
    const short = await b.submit(page, "/account/password", { current_password: user.password, new_password: "short", confirm_password: "short" });
    expect(short.html).toContain("The new password must have 8 to 1024 characters");
    const mismatch = await b.submit(page, "/account/password", { current_password: user.password, new_password: "Brand-New-Password-1", confirm_password: "Brand-New-Password-2" });
    expect(mismatch.html).toContain("The new passwords do not match.");
    expect(await sessionAlive(elsewhere)).toBe(true);

    const ok = await b.submit(page, "/account/password", { current_password: user.password, new_password: "Brand-New-Password-1", confirm_password: "Brand-New-Password-1" });
    expect(ok.html).toContain("Your password was changed.");
    expect(isAccountPage(await b.open("/account"))).toBe(true);
    expect(await sessionAlive(elsewhere)).toBe(false);
    const refreshed = await fetch(`${api.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${rp.client_id}:${rp.client_secret}`)}` }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: rpTokens.refresh_token! }).toString() });
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
    await settleBackgroundLogouts();
    expect(received.map((t) => jwtPayload(t).sid)).toContain(sid);
    const [row] = await deps.sql`SELECT password_hash FROM users WHERE id = ${user.id}`;
    expect(await Bun.password.verify("Brand-New-Password-1", row!.password_hash)).toBe(true);
    const [a] = await deps.sql`SELECT details FROM audit_log WHERE action = 'user.password_change' AND target_id = ${user.id} AND details ? 'revoked_sessions'`;
    expect((a!.details as { revoked_sessions: number }).revoked_sessions).toBe(1);
  });

  test("'Sign out everywhere else' ends the other sessions with back-channel logout and keeps this browser's", async () => {
    const user = await createOidcUser(deps);
    const elsewhere = Browser.forServer(api.url);
    const f = await signIn(elsewhere, rp, user);
    const sid = jwtPayload((await exchangeCode(http, rp, f.callback.code!, f.verifier)).body.id_token!).sid;
    const { b, page } = await accountOf(user);
    expect(page.html).toContain("Sign out everywhere else");
    const done = await b.submit(page, "/account/sessions/end-others");
    expect(done.html).toContain("Every other session was ended.");
    expect(done.html).not.toContain("Sign out everywhere else");
    expect(await sessionAlive(elsewhere)).toBe(false);
    expect(isAccountPage(await b.open("/account"))).toBe(true);
    await settleBackgroundLogouts();
    expect(received.map((t) => jwtPayload(t).sid)).toContain(sid);
  });

  test("wrong current passwords count like failed sign-ins: after AUTHLY_LOGIN_MAX_FAILURES the form is locked (429)", async () => {
    const user = await createOidcUser(deps);
    const { b, page } = await accountOf(user);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await b.submit(page, "/account/password", { current_password: `wrong-${i}`, new_password: "Brand-New-Password-1", confirm_password: "Brand-New-Password-1" })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    const locked = await b.submit(page, "/account/email", { email: "elsewhere@example.test", password: user.password });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain("Too many wrong passwords.");
    expect((await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE recipient = 'elsewhere@example.test'`)[0]!.n).toBe(0);
  });

  test("a form without the session's CSRF token changes nothing", async () => {
    const user = await createOidcUser(deps);
    const { b, page } = await accountOf(user);
    const r = await b.submit(page, "/account/password", { csrf_token: "forged", current_password: user.password, new_password: "Brand-New-Password-1", confirm_password: "Brand-New-Password-1" });
    expect(r.url).toContain("/account?done=invalid_form");
    const [row] = await deps.sql`SELECT password_hash FROM users WHERE id = ${user.id}`;
    expect(await Bun.password.verify(user.password, row!.password_hash)).toBe(true);
  });
});

// Security review (h-audit): a pending account link must not outlive the address or the password
// it was issued under.
describe("pending links after an address or password change", () => {
  test("a password-reset link mailed to the old address stops working once the address is changed", async () => {
    const user = await createOidcUser(deps, { email: "reset-old@example.test" });
    const forgot = await fetch(`${api.url}/password/forgot`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ email: "reset-old@example.test" }).toString() });
    expect(forgot.status).toBe(200);
    const resetMail = await peer.waitFor((m) => to(m) === "reset-old@example.test" && /reset/i.test(m.subject ?? ""));
    const resetLink = /(http:\/\/127\.0\.0\.1:\d+\/password\/reset\?token=[^\s]+)/.exec(resetMail.text!)![1]!;
    const token = new URL(resetLink).searchParams.get("token")!;

    // The owner moves the account to a new address (e.g. the old mailbox is no longer theirs).
    const { b, page } = await accountOf(user);
    await b.submit(page, "/account/email", { email: "reset-new@example.test", password: user.password });
    const mail = await peer.waitFor((m) => to(m) === "reset-new@example.test" && m.subject === "Confirm your new email address");
    const link = /(http:\/\/127\.0\.0\.1:\d+\/email\/change\?token=[^\s]+)/.exec(mail.text!)![1]!;
    expect((await b.submit(await b.open(link), "/email/change")).html).toContain("Address changed");

    // Whoever reads the old mailbox can no longer set the password.
    expect((await fetch(resetLink)).status).toBe(400);
    const r = await fetch(`${api.url}/password/reset`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, new_password: "Taken-Over-Password-1", confirm_password: "Taken-Over-Password-1" }).toString() });
    expect(r.status).toBe(400);
    const [row] = await deps.sql`SELECT password_hash FROM users WHERE id = ${user.id}`;
    expect(await Bun.password.verify(user.password, row!.password_hash)).toBe(true);
  });

  test("an email-change link requested before a password change no longer works (a phished password cannot keep a way in)", async () => {
    const user = await createOidcUser(deps, { email: "victim-address@example.test" });
    // The attacker signs in with the phished password and asks to move the account to their address.
    const attacker = await accountOf(user);
    const asked = await attacker.b.submit(attacker.page, "/account/email", { email: "attacker-address@example.test", password: user.password });
    expect(asked.html).toContain("We sent a link to the new address.");
    const mail = await peer.waitFor((m) => to(m) === "attacker-address@example.test" && m.subject === "Confirm your new email address");
    const link = /(http:\/\/127\.0\.0\.1:\d+\/email\/change\?token=[^\s]+)/.exec(mail.text!)![1]!;

    // The owner changes the password (every other session ends).
    const owner = await accountOf(user);
    const changed = await owner.b.submit(owner.page, "/account/password", { current_password: user.password, new_password: "Recovered-Password-1", confirm_password: "Recovered-Password-1" });
    expect(changed.html).toContain("Your password was changed.");

    // The attacker's pending link is dead: the address stays the owner's.
    const stranger = Browser.forServer(api.url);
    expect((await stranger.open(link)).status).toBe(400);
    const token = new URL(link).searchParams.get("token")!;
    const r = await fetch(`${api.url}/email/change`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }).toString() });
    expect(r.status).toBe(400);
    expect((await deps.sql`SELECT email FROM users WHERE id = ${user.id}`)[0]!.email).toBe("victim-address@example.test");
  });

  test("an admin's password reset also ends a pending email change", async () => {
    const user = await createOidcUser(deps, { email: "admin-reset-old@example.test" });
    const { b, page } = await accountOf(user);
    await b.submit(page, "/account/email", { email: "admin-reset-new@example.test", password: user.password });
    const mail = await peer.waitFor((m) => to(m) === "admin-reset-new@example.test" && m.subject === "Confirm your new email address");
    const link = /(http:\/\/127\.0\.0\.1:\d+\/email\/change\?token=[^\s]+)/.exec(mail.text!)![1]!;
    const reset = await api.call("POST", `/admin/users/${user.id}/reset-password`, { body: { password: "Admin-Set-Password-1" } });
    expect(reset.status).toBe(200);
    expect((await fetch(link)).status).toBe(400);
    expect((await deps.sql`SELECT email FROM users WHERE id = ${user.id}`)[0]!.email).toBe("admin-reset-old@example.test");
  });
});

// Security review (h-audit): the account page must not be a way to mail any address without limit.
describe("email change mails are limited", () => {
  const mailsTo = async (address: string) => (await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE lower(recipient) = lower(${address}) AND kind = 'email_change'`)[0]!.n as number;
  const mailsOf = async (userId: string) => (await deps.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.email_change_requested' AND target_id = ${userId} AND outcome = 'success'`)[0]!.n as number;

  test("at most 3 links per new address per 15 minutes, whoever asks; beyond, the same answer and no mail", async () => {
    const target = "bombed-address@example.test";
    for (let i = 0; i < 2; i++) {
      const user = await createOidcUser(deps);
      const { b, page } = await accountOf(user);
      for (let j = 0; j < 3; j++) {
        const r = await b.submit(page, "/account/email", { email: j % 2 ? target.toUpperCase() : target, password: user.password });
        expect(r.html).toContain("We sent a link to the new address.");
      }
    }
    expect(await mailsTo(target)).toBe(3);
  });

  test("at most 3 links per account per 15 minutes, whatever the addresses", async () => {
    const user = await createOidcUser(deps);
    const { b, page } = await accountOf(user);
    for (let i = 0; i < 5; i++) {
      const r = await b.submit(page, "/account/email", { email: `spray-${i}@example.test`, password: user.password });
      expect(r.html).toContain("We sent a link to the new address.");
    }
    expect(await mailsOf(user.id)).toBe(3);
    expect(await mailsTo("spray-3@example.test")).toBe(0);
    expect(await mailsTo("spray-4@example.test")).toBe(0);
  });
});
