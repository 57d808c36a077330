// Self-service password reset (issue 17) against a real SMTP peer (smtp-server on loopback; mails
// parsed with mailparser) and the real server on a loopback port (its outbox worker sends): the
// link in the mail is followed over HTTP.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort, startTestServer } from "../support/app";
import { authorizeUrl, Browser, isLoginPage, pkce } from "../support/browser";
import { createClient, createCode, createUser } from "../support/fixtures";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp";
import { deactivateUser, deleteUser } from "../../src/accounts/admin-service";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const server = await startTestServer({ env: { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });
const deps = server.deps;
let peer: SmtpPeer | undefined;

afterAll(async () => {
  await peer?.stop();
});

beforeAll(async () => {
  await createClient(deps, { client_id: "rp", client_type: "public", redirect_uris: ["https://rp.example/cb"] });
});

const forgot = (email: string) =>
  fetch(`${server.url}/password/forgot`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ email }).toString() });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function linkIn(text: string): string {
  return /(http:\/\/127\.0\.0\.1:\d+\/password\/reset\?token=[A-Za-z0-9_%-]+)/.exec(text)![1]!;
}

async function setPassword(link: string, password: string, confirm = password): Promise<Response> {
  const token = new URL(link).searchParams.get("token")!;
  return fetch(`${server.url}/password/reset`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token, new_password: password, confirm_password: confirm }).toString() });
}

async function refreshToken(userId: string): Promise<string> {
  const { code, verifier, redirectUri } = await createCode(deps, { clientId: "rp", userId });
  const r = await fetch(`${server.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: redirectUri, client_id: "rp" }).toString() });
  const body = (await r.json()) as { refresh_token: string };
  expect(body.refresh_token).toBeTruthy();
  return body.refresh_token;
}

describe("password reset by mail", () => {
  test("the login page offers 'Forgot password?' when mail is configured", async () => {
    const browser = Browser.forServer(server.url);
    const { challenge } = pkce();
    const login = await browser.open(authorizeUrl({ response_type: "code", client_id: "rp", redirect_uri: "https://rp.example/cb", scope: "openid", code_challenge: challenge, code_challenge_method: "S256", state: "s" }));
    expect(isLoginPage(login)).toBe(true);
    const href = /<a href="([^"]+)">Forgot password\?<\/a>/.exec(login.html)![1]!;
    expect(href).toMatch(/^\/password\/forgot\?interaction=/);
    const page = await browser.open(href.replaceAll("&amp;", "&"));
    expect(page.status).toBe(200);
    expect(page.html).toContain("Reset your password");
    expect(page.html).toContain("Back to sign-in");
  });

  test("an SMTP outage loses no mail; the link sets a new password once and revokes every refresh token and session, audited", async () => {
    const alice = await createUser(deps, { username: "alice", password: "Alices-Old-Password-1", email: "alice@example.test" });
    const refresh = await refreshToken(alice.id);

    // The mail server is down: the request still answers at once.
    const r = await forgot("Alice@Example.test");
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Check your mail");
    const row = await waitFor("a failed delivery attempt", async () => {
      const [m] = await deps.sql`SELECT attempts, last_error, sent_at FROM mail_outbox WHERE recipient = 'alice@example.test' AND kind = 'password_reset'`;
      return m && m.attempts >= 1 && m.last_error ? m : undefined;
    });
    expect(row.sent_at).toBeNull();

    peer = await startSmtpPeer(smtpPort);
    const mail = await peer.waitFor((m) => m.subject === "Reset your password" && (m.to as { text: string }).text === "alice@example.test");
    const link = linkIn(mail.text!);
    expect(mail.html).toContain(`href="${link.replaceAll("&", "&amp;")}"`);
    const token = new URL(link).searchParams.get("token")!;
    expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(16);
    // Stored hashed: the token is nowhere in the database.
    expect((await deps.sql`SELECT count(*)::int AS n FROM account_tokens WHERE token_hash = ${token}`)[0]!.n).toBe(0);

    const pageRes = await fetch(link);
    expect(pageRes.status).toBe(200);
    expect(await pageRes.text()).toContain("Choose a new password");
    // The policy of every password (at least 8 characters): refused, and the link still works.
    expect((await setPassword(link, "short")).status).toBe(400);
    expect((await setPassword(link, "Alices-New-Password-2", "something-else-22")).status).toBe(400);
    const done = await setPassword(link, "Alices-New-Password-2");
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Password changed");

    const [user] = await deps.sql`SELECT password_hash, requires_password_change FROM users WHERE id = ${alice.id}`;
    expect(await Bun.password.verify("Alices-New-Password-2", user!.password_hash)).toBe(true);
    expect(user!.requires_password_change).toBe(false);
    const refreshed = await fetch(`${server.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh, client_id: "rp" }).toString() });
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
    const audit = await deps.sql`SELECT action, actor FROM audit_log WHERE target_id = ${alice.id} AND action IN ('password_reset.requested', 'user.password_reset') ORDER BY id`;
    expect(audit.map((a) => [a.action, a.actor])).toEqual([["password_reset.requested", alice.id], ["user.password_reset", alice.id]]);

    // Used once: the link is refused afterwards, on the page and on the form.
    expect((await fetch(link)).status).toBe(400);
    const again = await setPassword(link, "Alices-Third-Password-3");
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("Link expired");
  });

  test("an unknown address gets the same answer and no mail (no account enumeration)", async () => {
    await createUser(deps, { username: "carol", password: "Carols-Password-1", email: "carol@example.test" });
    const known = await forgot("carol@example.test");
    const unknown = await forgot("nobody@example.test");
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
    await waitFor("the audit of the unknown address", async () => {
      const [a] = await deps.sql`SELECT id FROM audit_log WHERE action = 'password_reset.requested' AND outcome = 'failure'`;
      return a;
    });
    expect((await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE recipient = 'nobody@example.test'`)[0]!.n).toBe(0);
    await waitFor("carol's mail", async () => (await deps.sql`SELECT id FROM mail_outbox WHERE recipient = 'carol@example.test'`)[0]);
  });

  test("a newer link replaces the older one; mails per address are limited", async () => {
    await createUser(deps, { username: "dave", password: "Daves-Password-1", email: "dave@example.test" });
    peer ??= await startSmtpPeer(smtpPort);
    expect((await forgot("dave@example.test")).status).toBe(200);
    const first = linkIn((await peer.waitFor((m) => (m.to as { text: string }).text === "dave@example.test")).text!);
    expect((await forgot("dave@example.test")).status).toBe(200);
    const second = linkIn((await peer.waitFor((m) => (m.to as { text: string }).text === "dave@example.test" && !m.text!.includes(first))).text!);
    expect((await setPassword(first, "Daves-New-Password-2")).status).toBe(400);
    expect((await setPassword(second, "Daves-New-Password-2")).status).toBe(200);
    // Three mails per address per 15 minutes: the fourth request answers the same and sends nothing.
    expect((await forgot("dave@example.test")).status).toBe(200);
    const fourth = await forgot("dave@example.test");
    expect(fourth.status).toBe(200);
    expect(await fourth.text()).toContain("Check your mail");
    await waitFor("the third mail", async () => ((await deps.sql`SELECT count(*)::int AS n FROM mail_outbox WHERE recipient = 'dave@example.test'`)[0]!.n === 3 ? true : undefined));
    // The fourth request did nothing: still three, and its audit never came.
    expect((await deps.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'password_reset.requested' AND target_id = (SELECT id::text FROM users WHERE username = 'dave')`)[0]!.n).toBe(3);
  });

  test("a link does not set the password of an account deactivated or deleted since the mail", async () => {
    peer ??= await startSmtpPeer(smtpPort);
    const admin = { userId: null, ip: null };
    for (const [name, remove] of [
      ["erin", (id: string) => deactivateUser(deps, admin, id)],
      ["frank", (id: string) => deleteUser(deps, admin, id, false)],
      ["gina", (id: string) => deleteUser(deps, admin, id, true)],
    ] as const) {
      const email = `${name}@example.test`;
      const user = await createUser(deps, { username: name, password: `${name}-Old-Password-1`, email });
      expect((await forgot(email)).status).toBe(200);
      const link = linkIn((await peer.waitFor((m) => (m.to as { text: string }).text === email)).text!);
      expect((await fetch(link)).status).toBe(200);
      await remove(user.id);

      expect((await fetch(link)).status).toBe(400);
      const r = await setPassword(link, `${name}-New-Password-2`);
      expect(r.status).toBe(400);
      expect(await r.text()).toContain("Link expired");
      const [row] = await deps.sql`SELECT password_hash FROM users WHERE id = ${user.id}`;
      if (row) expect(await Bun.password.verify(`${name}-Old-Password-1`, row.password_hash)).toBe(true);
      else expect(name).toBe("gina");
      expect((await deps.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.password_reset' AND target_id = ${user.id}`)[0]!.n).toBe(0);
    }
  });
});

describe("without mail", () => {
  test("the password pages are not offered (404) and the login page has no 'Forgot password?'", async () => {
    const plain = await startTestServer();
    expect((await fetch(`${plain.url}/password/forgot`)).status).toBe(404);
    const browser = Browser.forServer(plain.url);
    await createClient(plain.deps, { client_id: "rp", client_type: "public" });
    const login = await browser.open(authorizeUrl({ response_type: "code", client_id: "rp", redirect_uri: "https://rp.example/cb", scope: "openid", code_challenge: pkce().challenge, code_challenge_method: "S256" }));
    expect(isLoginPage(login)).toBe(true);
    expect(login.html).not.toContain("Forgot password");
  });
});
