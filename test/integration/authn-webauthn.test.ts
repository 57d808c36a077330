// WebAuthn (src/authn/webauthn.ts) through the real pages with a software authenticator: passkey
// registration on the account page, passkey sign-in without a username, a security key after the
// password, and the refusals — wrong origin, wrong RP ID, a replayed challenge, a signature counter
// that went back (WebAuthn §6.1.1), registration without user verification, unknown attestation formats.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, pkce, type Page } from "../support/browser";
import { authParams, exchangeCode, jwtPayload } from "../support/oidc-flow";
import { auditRows } from "../support/admin";
import { SoftAuthenticator, dataAttr } from "../support/soft-authenticator";
import { ACR } from "../../src/authn/model";

const t: TestApp = await createTestApp();
const ORIGIN = "http://localhost";
const RP_ID = "localhost";
const client = await createOidcClient(t.deps, { require_consent: false });
const strict = await createOidcClient(t.deps, { require_consent: false });
await t.deps.sql`UPDATE clients SET mfa = 'required' WHERE client_id = ${strict.client_id}`;

async function accountPage(user: OidcTestUser, b = Browser.forApp(t)): Promise<{ b: Browser; page: Page }> {
  const page = await b.submit(await b.open("/account"), "/login", { login: user.username, password: user.password });
  expect(page.html).toContain("<h1>Your account</h1>");
  return { b, page };
}

async function register(b: Browser, page: Page, auth: SoftAuthenticator, opts: { name?: string; origin?: string; uv?: boolean; fmt?: "none" | "packed" | "unknown-format" } = {}): Promise<Page> {
  const credential = auth.register({ challenge: dataAttr(page.html, "create", "challenge"), origin: opts.origin ?? ORIGIN, rpId: dataAttr(page.html, "create", "rp-id"), userId: dataAttr(page.html, "create", "user-id"), uv: opts.uv, fmt: opts.fmt });
  return b.submit(page, "/account/passkeys", { credential: JSON.stringify(credential), name: opts.name ?? "Laptop" });
}

async function withPasskey(opts: { synced?: boolean } = {}) {
  const user = await createOidcUser(t.deps);
  const auth = new SoftAuthenticator(opts);
  const { b, page } = await accountPage(user);
  const added = await register(b, page, auth);
  expect(added.html).toContain("Save your recovery codes");
  return { user, auth };
}

async function loginPage(b: Browser, c = client, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const page = await b.open(authorizeUrl(authParams(c, challenge, extra)));
  return { page, verifier };
}

describe("passkeys", () => {
  test("a passkey registered on the account page is listed with its name and dates, and audited", async () => {
    const user = await createOidcUser(t.deps);
    const { b, page } = await accountPage(user);
    expect(dataAttr(page.html, "create", "rp-id")).toBe(RP_ID);
    const added = await register(b, page, new SoftAuthenticator(), { name: "Work laptop" });
    const back = await b.open(/<a class="button primary" href="([^"]+)"/.exec(added.html)![1]!.replaceAll("&amp;", "&"));
    expect(back.html).toContain("The passkey was added.");
    expect(back.html).toContain("<strong>Work laptop</strong>");
    expect(back.html).toMatch(/Passkey · added \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · last used never/);
    expect((await auditRows(t.deps, "authn.webauthn.registered")).some((r) => r.actor === user.id)).toBe(true);
  });

  test("sign-in with a passkey alone, no username: amr [hwk, mfa, user], acr phr (a device-bound key)", async () => {
    const { user, auth } = await withPasskey();
    const b = Browser.forApp(t);
    const { page, verifier } = await loginPage(b);
    expect(page.html).toContain('autocomplete="username webauthn"');
    const assertion = auth.assert({ challenge: dataAttr(page.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID });
    const done = await b.submit(page, "/webauthn", { credential: JSON.stringify(assertion) });
    expect(done.location).toBeDefined();
    const tok = await exchangeCode(t, client, new URL(done.location!).searchParams.get("code")!, verifier);
    const claims = jwtPayload(tok.body.id_token!);
    expect(claims.sub).toBe(user.id);
    expect(claims.amr).toEqual(["hwk", "mfa", "user"]);
    expect(claims.acr).toBe(ACR.phr);
  });

  test("a synced passkey is amr swk", async () => {
    const { auth } = await withPasskey({ synced: true });
    const b = Browser.forApp(t);
    const { page, verifier } = await loginPage(b);
    const done = await b.submit(page, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(page.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID })) });
    const tok = await exchangeCode(t, client, new URL(done.location!).searchParams.get("code")!, verifier);
    expect(jwtPayload(tok.body.id_token!).amr).toEqual(["mfa", "swk", "user"]);
  });

  test("refused: another origin, another RP ID, a replayed challenge, no user verification for a passkey sign-in", async () => {
    const { auth } = await withPasskey();
    const b = Browser.forApp(t);
    const attempt = async (over: { origin?: string; rpId?: string; uv?: boolean }) => {
      const { page } = await loginPage(b);
      const assertion = auth.assert({ challenge: dataAttr(page.html, "get", "challenge"), origin: over.origin ?? ORIGIN, rpId: over.rpId ?? RP_ID, uv: over.uv });
      return { page, assertion, after: await b.submit(page, "/webauthn", { credential: JSON.stringify(assertion) }) };
    };
    for (const over of [{ origin: "https://evil.example" }, { rpId: "evil.example" }, { uv: false }]) {
      const { after } = await attempt(over);
      expect(after.status).toBe(401);
      expect(after.html).toContain("<h1>Sign in</h1>");
      expect(after.html).toContain('role="alert"');
    }
    // A good assertion works once; the same one again (its challenge is spent) does not.
    const { page } = await loginPage(b);
    const good = auth.assert({ challenge: dataAttr(page.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID });
    expect((await b.submit(page, "/webauthn", { credential: JSON.stringify(good) })).location).toBeDefined();
    const b2 = Browser.forApp(t);
    const { page: page2 } = await loginPage(b2);
    expect((await b2.submit(page2, "/webauthn", { credential: JSON.stringify(good) })).status).toBe(401);
    expect((await auditRows(t.deps, "login.failure")).some((r) => r.details.reason === "webauthn_challenge")).toBe(true);
  });

  test("refused: a challenge the server did not issue, one altered (its expiry moved on), or one issued for a registration", async () => {
    const { auth } = await withPasskey();
    const b = Browser.forApp(t);
    const signWith = async (challenge: string) => {
      const { page } = await loginPage(b);
      const assertion = auth.assert({ challenge, origin: ORIGIN, rpId: RP_ID });
      return b.submit(page, "/webauthn", { credential: JSON.stringify(assertion) });
    };
    const { page } = await loginPage(b);
    const issued = dataAttr(page.html, "get", "challenge");
    // Bytes 16-19 hold the expiry: a later one breaks the seal.
    const altered = Buffer.from(issued, "base64url");
    altered.writeUInt32BE(altered.readUInt32BE(16) + 3600, 16);
    const { page: account } = await accountPage(await createOidcUser(t.deps));
    for (const forged of [Buffer.alloc(52, 7).toString("base64url"), altered.toString("base64url"), dataAttr(account.html, "create", "challenge")]) {
      const after = await signWith(forged);
      expect(after.status).toBe(401);
      expect(after.html).toContain('role="alert"');
    }
    // The challenge as issued still works.
    expect((await signWith(issued)).location).toBeDefined();
  });

  test("a signature counter that goes back is refused (a cloned authenticator, WebAuthn §6.1.1)", async () => {
    const { auth } = await withPasskey();
    const b = Browser.forApp(t);
    const first = await loginPage(b);
    expect((await b.submit(first.page, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(first.page.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID, counter: 7 })) })).location).toBeDefined();
    const b2 = Browser.forApp(t);
    const second = await loginPage(b2);
    const back = await b2.submit(second.page, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(second.page.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID, counter: 3 })) });
    expect(back.status).toBe(401);
    expect((await auditRows(t.deps, "login.failure")).some((r) => r.details.reason === "webauthn_counter")).toBe(true);
  });

  test("a security key after the password (mfa=required): no user verification needed; amr [hwk, mfa, pwd], acr phr", async () => {
    const { user, auth } = await withPasskey();
    const b = Browser.forApp(t);
    const { page, verifier } = await loginPage(b, strict);
    const factor = await b.submit(page, "/login", { login: user.username, password: user.password });
    expect(factor.html).toContain("Use a security key or passkey");
    const done = await b.submit(factor, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(factor.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID, uv: false })) });
    const tok = await exchangeCode(t, strict, new URL(done.location!).searchParams.get("code")!, verifier);
    const claims = jwtPayload(tok.body.id_token!);
    expect(claims.amr).toEqual(["hwk", "mfa", "pwd"]);
    expect(claims.acr).toBe(ACR.phr);
  });

  test("an essential acr phr asks a signed-in user for the passkey only", async () => {
    const { user, auth } = await withPasskey();
    const b = Browser.forApp(t);
    const { page, verifier } = await loginPage(b, client, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR.phr } } }) });
    const factor = await b.submit(page, "/login", { login: user.username, password: user.password });
    expect(factor.html).toContain("asks for a passkey or security key");
    expect(factor.html).not.toContain("Use a recovery code");
    const done = await b.submit(factor, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(factor.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID })) });
    const tok = await exchangeCode(t, client, new URL(done.location!).searchParams.get("code")!, verifier);
    expect(jwtPayload(tok.body.id_token!).acr).toBe(ACR.phr);
  });

  test("registration: packed self attestation is accepted; an unknown attestation format, another origin or no user verification is refused", async () => {
    const user = await createOidcUser(t.deps);
    const { b, page } = await accountPage(user);
    for (const opts of [{ fmt: "unknown-format" as const }, { origin: "https://evil.example" }, { uv: false }]) {
      const r = await register(b, await b.open("/account"), new SoftAuthenticator(), opts);
      expect(r.url).toContain("done=passkey_failed");
      expect(r.html).toContain("The passkey could not be added.");
    }
    const packed = await register(b, page, new SoftAuthenticator(), { fmt: "packed", name: "Packed key" });
    expect(packed.html).toContain("Save your recovery codes");
    const [row] = await t.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM webauthn_credentials WHERE user_id = ${user.id}`;
    expect(row!.n).toBe(1);
  });

  test("a credential is removed on the account page; the passkey then signs in no more", async () => {
    const { user, auth } = await withPasskey();
    // The account page asks this user for the passkey after the password (policy optional).
    const b = Browser.forApp(t);
    const factor = await b.submit(await b.open("/account"), "/login", { login: user.username, password: user.password });
    const current = await b.submit(factor, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(factor.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID })) });
    expect(current.html).toContain("<h1>Your account</h1>");
    const removeAction = new RegExp(`action="([^"]*/account/passkeys/${auth.id}/remove)"`).exec(current.html);
    expect(removeAction).not.toBeNull();
    const removed = await b.submit(current, `/account/passkeys/${auth.id}/remove`);
    expect(removed.html).toContain("The passkey was removed.");
    const b2 = Browser.forApp(t);
    const { page: login } = await loginPage(b2);
    expect((await b2.submit(login, "/webauthn", { credential: JSON.stringify(auth.assert({ challenge: dataAttr(login.html, "get", "challenge"), origin: ORIGIN, rpId: RP_ID })) })).status).toBe(401);
  });
});
