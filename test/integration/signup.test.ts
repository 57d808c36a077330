// Self sign-up (issue 17) against the real server on loopback and a real SMTP peer (smtp-server,
// mails parsed with mailparser): the login page's link, the form, the mailed link followed, back
// into the authorization request; no enumeration; per-source rate limit; invites (admin API) used
// once and expiring; off and no-mail modes not offered.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ParsedMail } from "mailparser";
import { freePort, startTestServer } from "../support/app";
import { startAdminApi } from "../support/admin";
import { Browser, authorizeUrl, callbackParams, findForm, isConsentPage, isLoginPage, pkce, type Page } from "../support/browser";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { authParams, exchangeCode, jwtPayload } from "../support/oidc-flow";
import { linkIn, startSmtpPeer } from "../support/smtp";
import { requestSignup, settleSignupRequests } from "../../src/account/signup";
import { baseDatabaseUrl } from "../support/db";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const peer = await startSmtpPeer(smtpPort);
afterAll(() => peer.stop());
const MAIL = { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" };
const api = await startAdminApi({ ...MAIL, AUTHLY_SIGNUP: "open", AUTHLY_SIGNUP_RATE_LIMIT: "1000" });
const deps = api.deps;
const rp = await createOidcClient(deps, { require_consent: true, scopes: ["openid", "email", "profile"] });
const engine = (await baseDatabaseUrl()).engine;
const http = { request: (p: string, i?: RequestInit) => fetch(api.url + p, i) };

const to = (m: ParsedMail) => (m.to && "text" in m.to ? m.to.text : "");
const mailTo = (address: string, subject: string) => peer.waitFor((m) => to(m) === address && m.subject === subject);
const usersNamed = async (username: string) => (await deps.sql`SELECT count(*)::int AS n FROM users WHERE lower(username) = lower(${username})`)[0]!.n as number;

/** The sign-up form reached from the login page of a fresh authorization request. */
async function signupFromLogin(b: Browser): Promise<{ login: Page; form: Page; verifier: string }> {
  const { verifier, challenge } = pkce();
  const login = await b.open(authorizeUrl(authParams(rp, challenge, { scope: "openid email" })));
  expect(isLoginPage(login)).toBe(true);
  const href = /<a href="([^"]+)">Create an account<\/a>/.exec(login.html)![1]!.replaceAll("&amp;", "&");
  const form = await b.open(href);
  expect(form.status).toBe(200);
  expect(form.html).toContain("<h1>Create an account</h1>");
  return { login, form, verifier };
}

const fields = (username: string, email: string, password = "A-Good-Password-1") => ({ username, email, name: "New Person", password, confirm_password: password });

describe("open sign-up with a verified address", () => {
  test("login page -> form -> mail -> link followed -> account created -> back into the authorization request -> code", async () => {
    const b = Browser.forServer(api.url);
    const { login, form, verifier } = await signupFromLogin(b);
    const sent = await b.submit(form, "/signup?interaction=" + login.url.split("/interaction/")[1], fields("newbie", "newbie@example.test"));
    expect(sent.status).toBe(200);
    expect(sent.html).toContain("Check your mail");
    await settleSignupRequests();

    // Unverified: no account exists, so signing in with the chosen password fails like any wrong login.
    expect(await usersNamed("newbie")).toBe(0);
    const early = await b.submit(login, "/login", { login: "newbie", password: "A-Good-Password-1" });
    expect(early.status).toBe(401);
    expect(early.html).toContain("The username or password is incorrect.");

    const mail = await mailTo("newbie@example.test", "Confirm your new account");
    const link = linkIn(mail.text!, "/signup/confirm?token=");
    const token = new URL(link).searchParams.get("token")!;
    expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(32);
    expect((await deps.sql`SELECT count(*)::int AS n FROM signup_requests WHERE token_hash = ${token}`)[0]!.n).toBe(0);
    expect(mail.text).toContain("enter the password chosen at sign-up");
    expect(mail.text).toContain("If you did not ask for this, ignore this mail");
    // Opening the link only shows a form (mail scanners that fetch links create nothing) that asks
    // for the password chosen at sign-up.
    const confirm = await b.open(link);
    expect(confirm.html).toContain("Create the account <strong>newbie</strong>");
    expect(confirm.html).toContain('<label for="password">The password chosen at sign-up</label>');
    expect(await usersNamed("newbie")).toBe(0);
    const ready = await b.submit(confirm, "/signup/confirm", { password: "A-Good-Password-1" });
    expect(ready.html).toContain("Your account is ready");
    const [user] = await deps.sql`SELECT id, email, email_verified, name, password_hash FROM users WHERE username = 'newbie'`;
    expect(user!.email).toBe("newbie@example.test");
    expect(user!.email_verified).toBe(true);
    expect(user!.name).toBe("New Person");
    expect(await Bun.password.verify("A-Good-Password-1", user!.password_hash)).toBe(true);
    expect((await deps.sql`SELECT outcome FROM audit_log WHERE action = 'user.signup' AND target_id = ${user!.id}`)[0]!.outcome).toBe("success");

    // "Continue to sign in" leads back to the authorization request the sign-up started from.
    const cont = /<a class="button primary" href="([^"]+)">Continue to sign in<\/a>/.exec(ready.html)![1]!;
    expect(cont).toBe(new URL(login.url).pathname);
    const again = await b.open(cont);
    expect(isLoginPage(again)).toBe(true);
    const consent = await b.submit(again, "/login", { login: "newbie", password: "A-Good-Password-1" });
    expect(isConsentPage(consent)).toBe(true);
    const done = await b.submit(consent, "/consent", { decision: "allow" });
    const cb = callbackParams(done.location!);
    expect(cb.code).toBeTruthy();
    const tokens = await exchangeCode(http, rp, cb.code!, verifier);
    expect(tokens.status).toBe(200);
    const claims = jwtPayload(tokens.body.id_token!);
    expect(claims.sub).toBe(user!.id);
    const info = (await (await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } })).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ sub: user!.id, email: "newbie@example.test", email_verified: true });

    // The link works once.
    const reuse = await fetch(link);
    expect(reuse.status).toBe(400);
    expect(await reuse.text()).toContain("Link expired");
  });

  test("the same answer whether or not the username or the address exists (no enumeration); the owner learns by mail", async () => {
    const taken = await createOidcUser(deps, { username: "taken_name", email: "owner@example.test" });
    const answers: { status: number; body: string }[] = [];
    for (const [username, email] of [["fresh_one", "fresh@example.test"], ["another_one", "owner@example.test"], [taken.username, "someone@example.test"]] as const) {
      const b = Browser.forServer(api.url);
      const form = await b.open("/signup");
      const r = await b.submit(form, "/signup", fields(username, email));
      answers.push({ status: r.status, body: r.html });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    await settleSignupRequests();

    expect((await mailTo("owner@example.test", "You already have an account")).text).toContain("already belongs to an account");
    expect((await mailTo("someone@example.test", "Choose another username")).text).toContain(`'${taken.username}'`);
    await mailTo("fresh@example.test", "Confirm your new account");
    // Only the free combination waits for confirmation; no account was touched.
    const pending = await deps.sql`SELECT username FROM signup_requests WHERE used_at IS NULL AND email IN ('fresh@example.test', 'owner@example.test', 'someone@example.test')`;
    expect(pending.map((r) => r.username)).toEqual(["fresh_one"]);
    expect(await usersNamed("another_one")).toBe(0);
  });

  // The mechanism, not wall-clock ratios (those flake on a shared machine): with the users table
  // locked, the form still answers, so no account lookup runs before the answer. PostgreSQL only
  // (PGlite runs one query at a time: the lock would stall the server's own queries).
  test.skipIf(engine === "pglite")("the answer never waits for an account lookup (the same timing whether or not the account exists)", async () => {
    const owner = await createOidcUser(deps, { username: "lock_owner", email: "lock-owner@example.test" });
    const b = Browser.forServer(api.url);
    const form = await b.open("/signup");
    const answers = await deps.sql.begin(async (tx) => {
      await tx`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
      const taken = await b.submit(form, "/signup", fields("lock_new", owner.email));
      const fresh = await b.submit(form, "/signup", fields("lock_fresh", "lock-fresh@example.test"));
      return [taken, fresh].map((p) => [p.status, p.html.includes("Check your mail")]);
    });
    expect(answers).toEqual([[200, true], [200, true]]);
    await settleSignupRequests();
    await mailTo(owner.email, "You already have an account");
    await mailTo("lock-fresh@example.test", "Confirm your new account");
  });

  // Pre-account takeover (security review): whoever follows the link of a sign-up they never made
  // must not create the account with the requester's password.
  test("the confirmation needs the password chosen at sign-up: a wrong one is refused and keeps the link, the right one creates the account", async () => {
    const b = Browser.forServer(api.url);
    await b.submit(await b.open("/signup"), "/signup", fields("pw_check", "pw-check@example.test"));
    await settleSignupRequests();
    const link = linkIn((await mailTo("pw-check@example.test", "Confirm your new account")).text!, "/signup/confirm?token=");
    const confirm = await b.open(link);

    // No password: refused, not counted.
    const empty = await b.submit(confirm, "/signup/confirm", { password: "" });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain("This is not the password chosen at sign-up.");
    // Four wrong passwords: each refused on the same page, nothing created, the link still works.
    for (let i = 1; i <= 4; i++) {
      const wrong = await b.submit(confirm, "/signup/confirm", { password: `Attacker-Guess-${i}` });
      expect(wrong.status).toBe(400);
      expect(wrong.html).toContain("This is not the password chosen at sign-up.");
      expect(wrong.html).toContain("Create the account <strong>pw_check</strong>");
      expect(findForm(wrong.html, "/signup/confirm").hidden.token).toBe(new URL(link).searchParams.get("token")!);
    }
    expect(await usersNamed("pw_check")).toBe(0);
    expect((await fetch(link)).status).toBe(200);
    const audits = await deps.sql`SELECT details->>'reason' AS reason FROM audit_log WHERE action = 'user.signup' AND outcome = 'failure' AND details->>'reason' = 'wrong_password'`;
    expect(audits.length).toBeGreaterThanOrEqual(4);

    const ready = await b.submit(confirm, "/signup/confirm", { password: "A-Good-Password-1" });
    expect(ready.status).toBe(200);
    expect(ready.html).toContain("Your account is ready");
    const [user] = await deps.sql`SELECT email_verified, password_hash FROM users WHERE username = 'pw_check'`;
    expect(user!.email_verified).toBe(true);
    expect(await Bun.password.verify("A-Good-Password-1", user!.password_hash)).toBe(true);
    expect((await fetch(link)).status).toBe(400);
  });

  test("five wrong passwords spend the link: the right one afterwards creates nothing", async () => {
    const b = Browser.forServer(api.url);
    await b.submit(await b.open("/signup"), "/signup", fields("pw_spent", "pw-spent@example.test"));
    await settleSignupRequests();
    const link = linkIn((await mailTo("pw-spent@example.test", "Confirm your new account")).text!, "/signup/confirm?token=");
    const confirm = await b.open(link);
    for (let i = 1; i <= 4; i++) expect((await b.submit(confirm, "/signup/confirm", { password: `Attacker-Guess-${i}` })).status).toBe(400);
    const fifth = await b.submit(confirm, "/signup/confirm", { password: "Attacker-Guess-5" });
    expect(fifth.status).toBe(400);
    expect(fifth.html).toContain("Too many wrong passwords: this link no longer works. Sign up again.");
    expect(fifth.html).not.toContain('name="password"');

    expect((await fetch(link)).status).toBe(400);
    const late = await b.submit(confirm, "/signup/confirm", { password: "A-Good-Password-1" });
    expect(late.status).toBe(400);
    expect(late.html).not.toContain("Your account is ready");
    expect(await usersNamed("pw_spent")).toBe(0);
    // Spent: the stored password hash is cleared.
    expect((await deps.sql`SELECT password_hash, used_at FROM signup_requests WHERE email = 'pw-spent@example.test'`)[0]).toMatchObject({ password_hash: "" });
  });

  test("a username taken between the request and the confirmation: nothing is created and the link is used", async () => {
    const b = Browser.forServer(api.url);
    const form = await b.open("/signup");
    await b.submit(form, "/signup", fields("race_user", "race@example.test"));
    await settleSignupRequests();
    const link = linkIn((await mailTo("race@example.test", "Confirm your new account")).text!, "/signup/confirm?token=");
    const confirm = await b.open(link);
    await createOidcUser(deps, { username: "Race_User" });
    const r = await b.submit(confirm, "/signup/confirm", { password: "A-Good-Password-1" });
    expect(r.status).toBe(409);
    expect(r.html).toContain("This username or address was taken before you confirmed.");
    expect((await deps.sql`SELECT count(*)::int AS n FROM users WHERE email = 'race@example.test'`)[0]!.n).toBe(0);
    expect((await deps.sql`SELECT password_hash FROM signup_requests WHERE email = 'race@example.test'`)[0]!.password_hash).toBe("");
    expect((await fetch(link)).status).toBe(400);
  });

  test("the password policy, matching passwords and a valid address are checked before anything is stored", async () => {
    const b = Browser.forServer(api.url);
    const form = await b.open("/signup");
    const short = await b.submit(form, "/signup", fields("policy_user", "policy@example.test", "short"));
    expect(short.status).toBe(400);
    expect(short.html).toContain("The password must have 8 to 1024 characters.");
    expect(short.html).toContain('value="policy_user"');
    const mismatch = await b.submit(form, "/signup", { ...fields("policy_user", "policy@example.test"), confirm_password: "Something-Else-1" });
    expect(mismatch.html).toContain("The passwords do not match.");
    const badMail = await b.submit(form, "/signup", fields("policy_user", "not-an-address"));
    expect(badMail.html).toContain("Enter a valid email address.");
    const badName = await b.submit(form, "/signup", fields("-bad name", "policy@example.test"));
    expect(badName.html).toContain("Choose a username of 1 to 64");
    // A username that looks like an address could shadow somebody's sign-in by address.
    const looksLikeMail = await b.submit(form, "/signup", fields("victim@example.test", "policy@example.test"));
    expect(looksLikeMail.status).toBe(400);
    expect(looksLikeMail.html).toContain("Choose a username of 1 to 64");
    await settleSignupRequests();
    expect((await deps.sql`SELECT count(*)::int AS n FROM signup_requests WHERE email = 'policy@example.test'`)[0]!.n).toBe(0);
  });

  test("a form without the browser's CSRF token is refused (403) and sends nothing", async () => {
    const b = Browser.forServer(api.url);
    const form = await b.open("/signup");
    const forged = await b.submit(form, "/signup", { ...fields("csrf_user", "csrf@example.test"), csrf_token: "forged" });
    expect(forged.status).toBe(403);
    const noCookie = await fetch(`${api.url}/signup`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ ...findForm(form.html, "/signup").hidden, ...fields("csrf_user", "csrf@example.test") }).toString() });
    expect(noCookie.status).toBe(403);
    await settleSignupRequests();
    expect((await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE recipient = 'csrf@example.test'`)[0]!.n).toBe(0);
  });

  test("admin status says sign-up is open", async () => {
    const st = await api.call("GET", "/admin/status");
    expect(st.body.signup).toEqual({ mode: "open", require_verified_email: true, open: true, invites: true, reason: null });
  });
});

describe("rate limit", () => {
  test("sign-up posts per source are limited (AUTHLY_SIGNUP_RATE_LIMIT an hour): 429 with Retry-After", async () => {
    const s = await startTestServer({ env: { ...MAIL, AUTHLY_SIGNUP: "open", AUTHLY_SIGNUP_RATE_LIMIT: "2" } });
    const b = Browser.forServer(s.url);
    const form = await b.open("/signup");
    for (let i = 0; i < 2; i++) expect((await b.submit(form, "/signup", fields(`rl_${i}`, `rl${i}@example.test`))).status).toBe(200);
    const third = await b.request(`${s.url}/signup`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ ...findForm(form.html, "/signup").hidden, ...fields("rl_2", "rl2@example.test") }).toString() });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await third.text()).toContain("Too many sign-ups");
    await settleSignupRequests();
    expect((await s.deps.sql`SELECT count(*)::int AS n FROM signup_requests WHERE email = 'rl2@example.test'`)[0]!.n).toBe(0);

    // Password attempts on confirmation links are limited per source the same way.
    const link = linkIn((await mailTo("rl0@example.test", "Confirm your new account")).text!, "/signup/confirm?token=");
    const confirm = await b.open(link);
    for (let i = 0; i < 2; i++) expect((await b.submit(confirm, "/signup/confirm", { password: `Wrong-Password-${i}` })).status).toBe(400);
    const limited = await b.submit(confirm, "/signup/confirm", { password: "A-Good-Password-1" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.html).toContain("Too many sign-ups");
    expect((await s.deps.sql`SELECT count(*)::int AS n FROM users WHERE username = 'rl_0'`)[0]!.n).toBe(0);
    // Refused before any check: the link itself still works (from elsewhere, or later).
    expect((await fetch(link)).status).toBe(200);
  });
});

describe("invites", () => {
  test("an admin invites an address: mailed, the link creates the account (address verified) once, audited", async () => {
    const r = await api.call("POST", "/admin/invites", { body: { email: "invited@example.test" } });
    expect(r.status).toBe(201);
    expect(r.body.mailed).toBe(true);
    const mail = await mailTo("invited@example.test", "You are invited to create an account");
    const link = linkIn(mail.text!, "/signup?invite=");
    expect(link).toBe(r.body.url);
    const token = new URL(link).searchParams.get("invite")!;
    expect((await deps.sql`SELECT count(*)::int AS n FROM signup_invites WHERE token_hash = ${token}`)[0]!.n).toBe(0);
    expect((await deps.sql`SELECT action FROM audit_log WHERE action = 'signup.invite' AND target_id = ${r.body.id}`).length).toBe(1);

    const b = Browser.forServer(api.url);
    const form = await b.open(link);
    expect(form.html).toContain('value="invited@example.test" readonly');
    // A taken username keeps the invite usable.
    await createOidcUser(deps, { username: "occupied" });
    const clash = await b.submit(form, "/signup", { username: "occupied", name: "", password: "Invited-Password-1", confirm_password: "Invited-Password-1" });
    expect(clash.status).toBe(409);
    expect(clash.html).toContain("This username is taken.");
    const ok = await b.submit(clash, "/signup", { username: "invitee", name: "", password: "Invited-Password-1", confirm_password: "Invited-Password-1" });
    expect(ok.html).toContain("Your account is ready");
    const [u] = await deps.sql`SELECT email, email_verified FROM users WHERE username = 'invitee'`;
    expect(u).toEqual({ email: "invited@example.test", email_verified: true });

    // Single use: the link is refused afterwards, on the page and on the form.
    expect((await fetch(link)).status).toBe(400);
    const reuse = await b.submit(form, "/signup", { username: "second_invitee", password: "Invited-Password-1", confirm_password: "Invited-Password-1" });
    expect(reuse.status).toBe(400);
    expect(reuse.html).toContain("This invite link has expired or was already used.");
    expect(await usersNamed("second_invitee")).toBe(0);
  });

  test("an expired invite is refused; an address with an account or a bad value cannot be invited", async () => {
    const r = await api.call("POST", "/admin/invites", { body: { email: "late@example.test", expires_in_hours: 1 } });
    expect(r.status).toBe(201);
    expect(Date.parse(r.body.expires_at) - Date.now()).toBeLessThanOrEqual(3600_000);
    await deps.sql`UPDATE signup_invites SET expires_at = now() - interval '1 second' WHERE id = ${r.body.id}`;
    const page = await fetch(r.body.url);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("This invite link has expired");

    const existing = await createOidcUser(deps);
    const dup = await api.call("POST", "/admin/invites", { body: { email: existing.email.toUpperCase() } });
    expect(dup.status).toBe(409);
    expect(dup.body.error_description ?? dup.body.message ?? JSON.stringify(dup.body)).toContain("already exists");
    const bad = await api.call("POST", "/admin/invites", { body: { email: "nope" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    const tooLong = await api.call("POST", "/admin/invites", { body: { email: "x@example.test", expires_in_hours: 721 } });
    expect(tooLong.status).toBe(400);
  });
});

describe("modes", () => {
  test("AUTHLY_SIGNUP=off (the default): no link on the login page, /signup is 404, invites are refused (409)", async () => {
    const off = await startAdminApi(MAIL);
    const client = await createOidcClient(off.deps);
    const login = await Browser.forServer(off.url).open(authorizeUrl(authParams(client, pkce().challenge)));
    expect(isLoginPage(login)).toBe(true);
    expect(login.html).not.toContain("Create an account");
    expect((await fetch(`${off.url}/signup`)).status).toBe(404);
    const inv = await off.call("POST", "/admin/invites", { body: { email: "x@example.test" } });
    expect(inv.status).toBe(409);
    expect((await off.call("GET", "/admin/status")).body.signup).toMatchObject({ mode: "off", open: false, invites: false });
  });

  // Security review (h-audit): switching sign-up off must stop the links mailed while it was open,
  // as it stops invite links.
  test("a sign-up link mailed while sign-up was open creates nothing once AUTHLY_SIGNUP is off (404)", async () => {
    const off = await startAdminApi(MAIL);
    // What a sign-up made before the switch left behind: a pending request and its mailed link.
    await requestSignup(off.deps, { username: "too_late", email: "too-late@example.test", password: "A-Good-Password-1", confirm: "A-Good-Password-1", name: "" }, null, null, {
      confirm: (token) => `${off.url}/signup/confirm?token=${encodeURIComponent(token)}`,
      signin: `${off.url}/account`,
      signup: `${off.url}/signup`,
    });
    const link = linkIn((await mailTo("too-late@example.test", "Confirm your new account")).text!, "/signup/confirm?token=");
    expect((await fetch(link)).status).toBe(404);
    const token = new URL(link).searchParams.get("token")!;
    const r = await fetch(`${off.url}/signup/confirm`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, password: "A-Good-Password-1" }).toString() });
    expect(r.status).toBe(404);
    expect((await off.deps.sql`SELECT count(*)::int AS n FROM users WHERE username = 'too_late'`)[0]!.n).toBe(0);
  });

  test("open sign-up that needs a verified address is not offered without mail, and admin status says why", async () => {
    const noMail = await startAdminApi({ AUTHLY_SIGNUP: "open" });
    const client = await createOidcClient(noMail.deps);
    const login = await Browser.forServer(noMail.url).open(authorizeUrl(authParams(client, pkce().challenge)));
    expect(login.html).not.toContain("Create an account");
    expect((await fetch(`${noMail.url}/signup`)).status).toBe(404);
    const st = (await noMail.call("GET", "/admin/status")).body.signup;
    expect(st.open).toBe(false);
    expect(st.reason).toContain("mail is not configured");
  });

  test("AUTHLY_SIGNUP=invite: no open form, but invite links work (printed when mail is off; address then unverified)", async () => {
    const inv = await startAdminApi({ AUTHLY_SIGNUP: "invite" });
    expect((await fetch(`${inv.url}/signup`)).status).toBe(404);
    const r = await inv.call("POST", "/admin/invites", { body: { email: "handed@example.test" } });
    expect(r.status).toBe(201);
    expect(r.body.mailed).toBe(false);
    const b = Browser.forServer(inv.url);
    const form = await b.open(r.body.url);
    const ok = await b.submit(form, "/signup", { username: "handed", password: "Handed-Password-1", confirm_password: "Handed-Password-1" });
    expect(ok.html).toContain("Your account is ready");
    const [u] = await inv.deps.sql`SELECT email_verified FROM users WHERE username = 'handed'`;
    expect(u!.email_verified).toBe(false);
  });

  test("AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL=false: the account exists at once (address unverified, link mailed)", async () => {
    const quick = await startTestServer({ env: { ...MAIL, AUTHLY_SIGNUP: "open", AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL: "false" } });
    const b = Browser.forServer(quick.url);
    const form = await b.open("/signup");
    const ok = await b.submit(form, "/signup", fields("quick", "quick@example.test"));
    expect(ok.html).toContain("Your account is ready");
    const [u] = await quick.deps.sql`SELECT email_verified FROM users WHERE username = 'quick'`;
    expect(u!.email_verified).toBe(false);
    await mailTo("quick@example.test", "Confirm your email address");
  });
});

// Security review (h-audit): the single-use links under concurrent use, over real HTTP.
describe("races on single-use links", () => {
  test("one sign-up link followed by several requests at once creates exactly one account", async () => {
    const b = Browser.forServer(api.url);
    const form = await b.open("/signup");
    const sent = await b.submit(form, "/signup", fields("racer_confirm", "racer-confirm@example.test"));
    expect(sent.html).toContain("Check your mail");
    await settleSignupRequests();
    const token = new URL(linkIn((await mailTo("racer-confirm@example.test", "Confirm your new account")).text!, "/signup/confirm?token=")).searchParams.get("token")!;
    const post = () => fetch(`${api.url}/signup/confirm`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, password: "A-Good-Password-1" }).toString() });
    const answers = await Promise.all(Array.from({ length: 6 }, post));
    const bodies = await Promise.all(answers.map((r) => r.text()));
    expect(bodies.filter((h) => h.includes("Your account is ready")).length).toBe(1);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    expect(await usersNamed("racer_confirm")).toBe(1);
  });

  test("one invite sent by several forms at once (different usernames) creates exactly one account", async () => {
    const r = await api.call("POST", "/admin/invites", { body: { email: "racer-invite@example.test" } });
    expect(r.status).toBe(201);
    const b = Browser.forServer(api.url);
    const form = await b.open(r.body.url);
    expect(form.html).toContain('value="racer-invite@example.test" readonly');
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => b.submit(form, "/signup", { username: `invite_racer_${i}`, name: "", password: "Invited-Password-1", confirm_password: "Invited-Password-1" })));
    expect(answers.filter((p) => p.html.includes("Your account is ready")).length).toBe(1);
    expect(answers.filter((p) => p.status >= 400).length).toBe(4);
    expect((await deps.sql`SELECT count(*)::int AS n FROM users WHERE lower(email) = 'racer-invite@example.test'`)[0]!.n).toBe(1);
    expect((await deps.sql`SELECT count(*)::int AS n FROM signup_invites WHERE id = ${r.body.id} AND used_at IS NOT NULL`)[0]!.n).toBe(1);
  });
});
