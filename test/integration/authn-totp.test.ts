// Second factors in the front channel and the password grant (src/authn/): TOTP enrolment when a
// policy requires it, codes once and within ±1 step (RFC 6238 §5.2), secrets encrypted at rest,
// recovery codes single-use, throttling of wrong codes, step-up on acr_values and an essential acr
// (OIDC Core §3.1.2.1, §5.5.1.1), and amr (RFC 8176) / acr / auth_time in ID tokens and introspection.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, decodeEntities, isConsentPage, isLoginPage, pkce, type Page } from "../support/browser";
import { authParams, exchangeCode, jwtPayload } from "../support/oidc-flow";
import { post } from "../support/fixtures";
import { auditRows } from "../support/admin";
import { totpCode } from "../../src/authn/totp";
import { decrypt, deriveKey } from "../../src/lib/crypto";
import { ACR } from "../../src/authn/model";
import { CLI_CLIENT_ID } from "../../src/clients/model";

const t: TestApp = await createTestApp({ env: { AUTHLY_LOGIN_MAX_FAILURES: "4" } });
const required = await createOidcClient(t.deps, { require_consent: false, client_name: "Bank" });
await t.deps.sql`UPDATE clients SET mfa = 'required' WHERE client_id = ${required.client_id}`;
const relaxed = await createOidcClient(t.deps, { require_consent: false, client_name: "Blog" });
await t.deps.sql`UPDATE clients SET mfa = 'off' WHERE client_id = ${relaxed.client_id}`;

const isFactorPage = (p: Page) => /<h1>Verify it&#39;s you<\/h1>|<h1>Verify it's you<\/h1>/.test(p.html);
const isEnrolPage = (p: Page) => /<h1>Set up two-step verification<\/h1>/.test(p.html);
const secretOf = (p: Page) => decodeEntities(/data-totp-secret>([^<]+)</.exec(p.html)![1]!).replace(/\s/g, "");

async function start(b: Browser, client: OidcTestClient, extra: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce();
  const page = await b.open(authorizeUrl(authParams(client, challenge, extra)));
  return { page, verifier };
}

async function password(b: Browser, page: Page, user: OidcTestUser): Promise<Page> {
  expect(isLoginPage(page)).toBe(true);
  return b.submit(page, "/login", { login: user.username, password: user.password });
}

async function idToken(client: OidcTestClient, page: Page, verifier: string) {
  expect(isConsentPage(page)).toBe(false);
  expect(page.location).toBeDefined();
  const code = new URL(page.location!).searchParams.get("code")!;
  const tok = await exchangeCode(t, client, code, verifier);
  expect(tok.status).toBe(200);
  return { claims: jwtPayload(tok.body.id_token!), tokens: tok.body };
}

async function introspect(client: OidcTestClient, token: string) {
  const r = await t.request("/oauth/introspect", post({ token }, { id: client.client_id, secret: client.client_secret! }));
  return (await r.json()) as Record<string, any>;
}

/** A user enrolled through the required client's enrolment step; returns the secret and the code used. */
async function enrolled(): Promise<{ user: OidcTestUser; secret: string; firstCode: string; recovery: string[]; browser: Browser }> {
  const user = await createOidcUser(t.deps);
  const b = Browser.forApp(t);
  const { page, verifier } = await start(b, required);
  const enrol = await password(b, page, user);
  expect(isEnrolPage(enrol)).toBe(true);
  const secret = secretOf(enrol);
  const firstCode = totpCode(secret);
  const codes = await b.submit(enrol, "/enrol", { code: firstCode });
  expect(codes.status).toBe(200);
  const recovery = [...codes.html.matchAll(/<li data-recovery-code>([^<]+)<\/li>/g)].map((m) => m[1]!);
  const next = await b.open(decodeEntities(/<a class="button primary" href="([^"]+)"/.exec(codes.html)![1]!));
  await idToken(required, next, verifier);
  return { user, secret, firstCode, recovery, browser: b };
}

describe("TOTP enrolment and use (RFC 6238)", () => {
  test("a password sign-in is amr [pwd] and acr urn:authly:acr:pwd in the ID token and introspection (RFC 8176, OIDC Core §2)", async () => {
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { page, verifier } = await start(b, relaxed);
    const { claims, tokens } = await idToken(relaxed, await password(b, page, user), verifier);
    expect(claims.amr).toEqual(["pwd"]);
    expect(claims.acr).toBe(ACR.pwd);
    expect(typeof claims.auth_time).toBe("number");
    const info = await introspect(relaxed, tokens.access_token);
    expect(info).toMatchObject({ active: true, amr: ["pwd"], acr: ACR.pwd, auth_time: claims.auth_time });
  });

  test("mfa=required walks a user without a second factor through enrolment; the ID token and introspection then say amr [mfa, otp, pwd], acr mfa", async () => {
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { page, verifier } = await start(b, required, { scope: "openid offline_access", prompt: "consent" });
    const enrol = await password(b, page, user);
    expect(isEnrolPage(enrol)).toBe(true);
    expect(enrol.html).toContain("<svg");
    // A wrong first code does not confirm the enrolment; the same secret is shown again.
    const secret = secretOf(enrol);
    const wrong = await b.submit(enrol, "/enrol", { code: String((Number(totpCode(secret)) + 1) % 1_000_000).padStart(6, "0") });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('role="alert"');
    expect(secretOf(wrong)).toBe(secret);
    const codes = await b.submit(wrong, "/enrol", { code: totpCode(secret) });
    const recovery = [...codes.html.matchAll(/<li data-recovery-code>([^<]+)<\/li>/g)].map((m) => m[1]!);
    expect(recovery).toHaveLength(10);
    let next = await b.open(decodeEntities(/<a class="button primary" href="([^"]+)"/.exec(codes.html)![1]!));
    next = await b.submit(next, "/consent", { decision: "allow" });
    const { claims, tokens } = await idToken(required, next, verifier);
    expect(claims.amr).toEqual(["mfa", "otp", "pwd"]);
    expect(claims.acr).toBe(ACR.mfa);
    expect(await introspect(required, tokens.access_token)).toMatchObject({ active: true, amr: ["mfa", "otp", "pwd"], acr: ACR.mfa });
    expect(await introspect(required, tokens.refresh_token!)).toMatchObject({ active: true, amr: ["mfa", "otp", "pwd"], acr: ACR.mfa });
  });

  test("the TOTP secret is encrypted at rest (AES-256-GCM under a key derived from JWT_SECRET_KEY, bound to the user)", async () => {
    const { user, secret } = await enrolled();
    const [row] = await t.deps.sql<{ secret_encrypted: string; confirmed_at: Date | null }[]>`SELECT secret_encrypted, confirmed_at FROM user_totp WHERE user_id = ${user.id}`;
    expect(row!.confirmed_at).not.toBeNull();
    expect(row!.secret_encrypted).not.toContain(secret);
    expect(row!.secret_encrypted.startsWith("v1.")).toBe(true);
    const key = deriveKey(t.deps.config.jwtSecretKey!, "totp-secret-encryption");
    expect(decrypt(key, row!.secret_encrypted, `totp:${user.id}`)).toBe(secret);
    expect(() => decrypt(key, row!.secret_encrypted, "totp:someone-else")).toThrow();
    // Recovery codes: only keyed hashes.
    const hashes = await t.deps.sql<{ code_hash: string }[]>`SELECT code_hash FROM user_recovery_codes WHERE user_id = ${user.id}`;
    expect(hashes).toHaveLength(10);
  });

  test("a TOTP code is accepted once (RFC 6238 §5.2): its replay is refused; the next step's code is accepted; a code two steps ahead is not (±1 window)", async () => {
    const { user, secret, firstCode } = await enrolled();
    const b = Browser.forApp(t);
    const { page, verifier } = await start(b, required);
    const factor = await password(b, page, user);
    expect(isFactorPage(factor)).toBe(true);
    const replay = await b.submit(factor, "/factor", { code: firstCode });
    expect(replay.status).toBe(401);
    expect(replay.html).toContain('role="alert"');
    const far = await b.submit(replay, "/factor", { code: totpCode(secret, Date.now() + 95_000) });
    expect(far.status).toBe(401);
    const ok = await b.submit(far, "/factor", { code: totpCode(secret, Date.now() + 30_000) });
    const { claims } = await idToken(required, ok, verifier);
    expect(claims.amr).toEqual(["mfa", "otp", "pwd"]);
  });

  test("a recovery code signs in once; the same code again is refused", async () => {
    const { user, recovery } = await enrolled();
    const use = async () => {
      const b = Browser.forApp(t);
      const { page, verifier } = await start(b, required);
      const factor = await password(b, page, user);
      expect(factor.html).toContain("Use a recovery code");
      return { b, verifier, after: await b.submit(factor, "/factor", { method: "recovery", code: recovery[3]!.toLowerCase() }) };
    };
    const first = await use();
    const { claims } = await idToken(required, first.after, first.verifier);
    expect(claims.amr).toEqual(["mfa", "otp", "pwd"]);
    const again = await use();
    expect(again.after.status).toBe(401);
    expect(again.after.html).toContain("already used");
    const audited = await auditRows(t.deps, "authn.recovery_code.used");
    expect(audited.filter((r) => r.actor === user.id)).toHaveLength(1);
    expect(audited.find((r) => r.actor === user.id)!.details.remaining).toBe(9);
  });

  test("wrong codes are throttled with the login counters: after AUTHLY_LOGIN_MAX_FAILURES, even the right code waits (429)", async () => {
    const { user, secret } = await enrolled();
    const b = Browser.forApp(t);
    const { page } = await start(b, required);
    let p = await password(b, page, user);
    for (let i = 0; i < 4; i++) {
      p = await b.submit(p, "/factor", { code: "000000" === totpCode(secret) ? "111111" : "000000" });
      expect(p.status).toBe(401);
    }
    const locked = await b.submit(p, "/factor", { code: totpCode(secret, Date.now() + 30_000) });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain("Too many wrong codes");
    expect((await auditRows(t.deps, "authn.factor.failure")).filter((r) => r.actor === user.id).length).toBeGreaterThanOrEqual(5);
  });
});

describe("step-up (OIDC Core §3.1.2.1 acr_values, §5.5.1.1 essential acr)", () => {
  test("discovery advertises the acr values (acr_values_supported)", async () => {
    const d = (await (await t.request("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(d.acr_values_supported).toEqual([ACR.pwd, ACR.mfa, ACR.phr]);
  });

  test("acr_values=urn:authly:acr:mfa steps a password session up with a TOTP code (no password again); auth_time moves", async () => {
    const { user, secret } = await enrolled();
    const b = Browser.forApp(t);
    const first = await start(b, relaxed);
    const pwd = await idToken(relaxed, await password(b, first.page, user), first.verifier);
    expect(pwd.claims.acr).toBe(ACR.pwd);
    const second = await start(b, relaxed, { acr_values: `${ACR.mfa} ${ACR.pwd}` });
    expect(isLoginPage(second.page)).toBe(false);
    expect(isFactorPage(second.page)).toBe(true);
    const up = await b.submit(second.page, "/factor", { code: totpCode(secret, Date.now() + 30_000) });
    const { claims } = await idToken(relaxed, up, second.verifier);
    expect(claims.acr).toBe(ACR.mfa);
    expect(claims.amr).toEqual(["mfa", "otp", "pwd"]);
    expect(claims.auth_time).toBeGreaterThanOrEqual(pwd.claims.auth_time);
    // The session now satisfies mfa: no factor page next time.
    const third = await start(b, relaxed, { acr_values: ACR.mfa });
    expect(third.page.location).toBeDefined();
  });

  test("acr_values the user cannot reach are voluntary: a user without a second factor gets acr pwd", async () => {
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { page, verifier } = await start(b, relaxed, { acr_values: ACR.mfa });
    const { claims } = await idToken(relaxed, await password(b, page, user), verifier);
    expect(claims.acr).toBe(ACR.pwd);
  });

  test("an essential acr the user cannot reach fails with unmet_authentication_requirements (§5.5.1.1)", async () => {
    const { user } = await enrolled();
    const b = Browser.forApp(t);
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.phr] } } });
    const { page } = await start(b, relaxed, { claims });
    const after = await password(b, page, user);
    expect(after.location).toBeDefined();
    const q = new URL(after.location!).searchParams;
    expect(q.get("error")).toBe("unmet_authentication_requirements");
  });

  test("an essential acr of mfa makes a user without a second factor enrol", async () => {
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { page } = await start(b, relaxed, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR.mfa } } }) });
    expect(isEnrolPage(await password(b, page, user))).toBe(true);
  });

  test("prompt=none with a session below the level asked answers login_required", async () => {
    const { user } = await enrolled();
    const b = Browser.forApp(t);
    const first = await start(b, relaxed);
    await idToken(relaxed, await password(b, first.page, user), first.verifier);
    const none = await start(b, relaxed, { prompt: "none", acr_values: ACR.mfa });
    expect(new URL(none.page.location!).searchParams.get("error")).toBe("login_required");
  });

  test("max_age=0 still forces the password although the session reached mfa", async () => {
    const { browser } = await enrolled();
    const again = await start(browser, required, { max_age: "0" });
    expect(isLoginPage(again.page)).toBe(true);
  });
});

describe("password grant of the admin CLI with a second factor", () => {
  const grant = (fields: Record<string, string>) => t.request("/oauth/token", post({ grant_type: "password", client_id: CLI_CLIENT_ID, ...fields }));

  test("a user with TOTP gets mfa_required without otp, invalid_grant with a wrong one, tokens with amr otp with a right one", async () => {
    const { user, secret } = await enrolled();
    const missing = await grant({ username: user.username, password: user.password });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe("mfa_required");
    const wrong = await grant({ username: user.username, password: user.password, otp: "12345x" });
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
    const ok = await grant({ username: user.username, password: user.password, otp: totpCode(secret, Date.now() + 30_000) });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { access_token: string };
    expect(jwtPayload(body.access_token)).toMatchObject({ amr: ["mfa", "otp", "pwd"], acr: ACR.mfa });
  });

  test("one code sent twice at once is accepted once (the step is taken atomically)", async () => {
    const { user, secret } = await enrolled();
    const code = totpCode(secret, Date.now() + 30_000);
    const results = await Promise.all([0, 1].map(() => grant({ username: user.username, password: user.password, otp: code })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });
});
