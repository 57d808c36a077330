// Strong sign-in in a real browser (issue 13): headless Chromium (Debian's package, driven by
// playwright-core) with its virtual WebAuthn authenticator (DevTools WebAuthn domain: ctap2,
// internal transport, resident keys, user verification). A person sets up an authenticator app by
// reading the key off the page, saves recovery codes, registers a passkey, signs out, signs in with
// the passkey (autofill and the button), steps up from pwd to mfa on acr_values, uses a recovery
// code and a security key as the second factor, and removes the passkey. Every page is
// photographed at 390 px wide into test-artifacts/ and checked for labels, alerts and overflow.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { loadConfig } from "../../src/config";
import { buildDeps, listen, prepareDatabase } from "../../src/server";
import { ACR } from "../../src/authn/model";
import { totpCode } from "../../src/authn/totp";
import { freePort, testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { pkce } from "../support/browser";
import { exchangeCode, jwtPayload } from "../support/oidc-flow";
import { CHROMIUM, launchChromium } from "../support/chromium";

const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
const WIDTH = 390;

const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** A server whose issuer is http://localhost:PORT: WebAuthn refuses an IP address as RP ID. */
async function startLocalhostServer() {
  const db = await createTestDatabase();
  const port = await freePort();
  const config = loadConfig(testEnv(db, { AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_ISSUER: `http://localhost:${port}` }), { purpose: "server" });
  const deps = buildDeps(config, db.sql);
  await prepareDatabase(deps, { migrate: true, bootstrap: true });
  const running = await listen(deps);
  afterAll(() => running.stop());
  return { url: `http://localhost:${port}`, deps };
}

async function shoot(page: Page, name: string): Promise<void> {
  // Fits a 390 px screen: nothing wider than the viewport.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(WIDTH);
  // Every visible input has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden])")].filter((el) => (el as HTMLElement).offsetParent !== null && !(el as HTMLInputElement).labels?.length).map((el) => el.id || el.getAttribute("name")),
  );
  expect(unlabelled).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, `authn-${name}.png`), fullPage: true });
}

async function addAuthenticator(cdp: CDPSession): Promise<string> {
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return authenticatorId;
}

describe.skipIf(!runnable)("headless Chromium: passkeys, TOTP, recovery codes, step-up", () => {
  test("a person secures an account and signs in every way", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser test`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const srv = await startLocalhostServer();
    const rpServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(`<!doctype html><title>Example App</title><h1>Signed in</h1>`, { headers: { "content-type": "text/html" } }) });
    afterAll(() => rpServer.stop(true));
    const callback = `http://127.0.0.1:${rpServer.port}/callback`;
    const rp = await createOidcClient(srv.deps, { client_name: "Example App", redirect_uris: [callback], require_consent: false });
    await srv.deps.sql`UPDATE clients SET mfa = 'off' WHERE client_id = ${rp.client_id}`;
    const user = await createOidcUser(srv.deps, { name: "Ada Lovelace" });
    const authorize = (extra: Record<string, string>) => {
      const { verifier, challenge } = pkce();
      const url = `${srv.url}/oauth/authorize?${new URLSearchParams({ client_id: rp.client_id, redirect_uri: callback, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256", ...extra })}`;
      return { url, verifier };
    };
    const tokenClaims = async (page: Page, verifier: string) => {
      const code = new URL(page.url()).searchParams.get("code")!;
      const tok = await exchangeCode({ request: (p, init) => fetch(srv.url + p, init) }, { ...rp, redirect_uri: callback }, code, verifier);
      expect(tok.status).toBe(200);
      return jwtPayload(tok.body.id_token!);
    };

    const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await launchChromium(profile, {
        args: ["--host-resolver-rules=MAP localhost 127.0.0.1"],
        viewport: { width: WIDTH, height: 844 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const cspViolations: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
      });
      // A browser without conditional mediation, when the test says so (localStorage flag): the
      // virtual authenticator answers conditional requests at once, which would sign in before
      // the button or the password could be used.
      await page.addInitScript(() => {
        try {
          if (localStorage.getItem("noConditional") === "1") PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
        } catch {}
      });
      const cdp = await context.newCDPSession(page);
      const authenticatorId = await addAuthenticator(cdp);

      // 1. The account page asks for a sign-in; the login page offers a passkey (our script ran).
      await page.goto(`${srv.url}/account`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
      expect(await page.getByLabel("Username or email").getAttribute("autocomplete")).toBe("username webauthn");
      await shoot(page, "login");
      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      await shoot(page, "account");

      // 2. Authenticator app: read the key off the page, confirm with a code.
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.getByRole("heading", { name: "Set up two-step verification" }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("enrol-code");
      await shoot(page, "totp-enrol");
      const secret = (await page.locator("[data-totp-secret]").textContent())!.replace(/\s/g, "");
      await page.getByLabel("6-digit code from the app").fill("000000" === totpCode(secret) ? "111111" : "000000");
      await page.getByRole("button", { name: "Turn on" }).click();
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").textContent()).toContain("That code is not right");
      await shoot(page, "totp-enrol-error");
      await page.getByLabel("6-digit code from the app").fill(totpCode(secret));
      await page.getByRole("button", { name: "Turn on" }).click();
      await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
      const recovery = await page.locator("[data-recovery-code]").allTextContents();
      expect(recovery).toHaveLength(10);
      await shoot(page, "recovery-codes");
      await page.getByRole("link", { name: "Back to your account" }).click();

      // 3. A passkey, from the virtual authenticator.
      await page.getByLabel("Name of the new passkey").fill("Virtual key");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await page.getByText("The passkey was added.").waitFor();
      expect(await page.getByText("Virtual key").count()).toBe(1);
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      await shoot(page, "account-passkey");

      // 4. Sign out; the login page's autofill request (conditional mediation) signs in with the passkey.
      await page.getByRole("button", { name: "Sign out of this browser" }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      expect(await page.getByText("last used never").count()).toBe(0);
      await shoot(page, "account-after-passkey");
      // And the button, in a browser without conditional mediation.
      await page.evaluate(() => localStorage.setItem("noConditional", "1"));
      await page.getByRole("button", { name: "Sign out of this browser" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();

      // 5. Step-up: a password sign-in at the application is pwd; acr_values=mfa asks for the code.
      await page.getByRole("button", { name: "Sign out of this browser" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      const first = authorize({ nonce: "n1" });
      await page.goto(first.url);
      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL((u) => u.toString().startsWith(callback));
      expect((await tokenClaims(page, first.verifier)).acr).toBe(ACR.pwd);
      const stepUp = authorize({ nonce: "n2", acr_values: ACR.mfa });
      await page.goto(stepUp.url);
      await page.getByRole("heading", { name: "Verify it's you" }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("totp-code");
      await shoot(page, "step-up");
      await page.getByLabel("Code from your authenticator app").fill(totpCode(secret, Date.now() + 30_000));
      await page.getByRole("button", { name: "Verify" }).click();
      await page.waitForURL((u) => u.toString().startsWith(callback));
      const stepped = await tokenClaims(page, stepUp.verifier);
      expect(stepped.acr).toBe(ACR.mfa);
      expect(stepped.amr).toEqual(["mfa", "otp", "pwd"]);

      // 6. A recovery code as the second factor (prompt=login: a fresh sign-in).
      const again = authorize({ nonce: "n3", prompt: "login", acr_values: ACR.mfa });
      await page.goto(again.url);
      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Verify it's you" }).waitFor();
      await page.getByText("Use a recovery code").click();
      await page.getByLabel("Recovery code").fill("WRONG-CODE0");
      await page.getByRole("button", { name: "Use recovery code" }).click();
      await page.getByRole("alert").first().waitFor();
      expect(await page.locator("#recovery-error").textContent()).toContain("not right or was already used");
      await shoot(page, "recovery-error");
      await page.getByLabel("Recovery code").fill(recovery[0]!);
      await page.getByRole("button", { name: "Use recovery code" }).click();
      await page.waitForURL((u) => u.toString().startsWith(callback));
      expect((await tokenClaims(page, again.verifier)).amr).toEqual(["mfa", "otp", "pwd"]);

      // 7. The passkey as the second factor after the password (the factor page's button).
      const key = authorize({ nonce: "n4", prompt: "login", acr_values: ACR.phr });
      await page.goto(key.url);
      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("button", { name: "Use a passkey or security key" }).waitFor();
      await shoot(page, "second-factor-key");
      await page.getByRole("button", { name: "Use a passkey or security key" }).click();
      await page.waitForURL((u) => u.toString().startsWith(callback));
      const phr = await tokenClaims(page, key.verifier);
      expect(phr.acr).toBe(ACR.phr);
      expect(phr.amr).toContain("pwd");
      expect(phr.amr).toContain("hwk");

      // 8. Remove the passkey on the account page.
      await page.goto(`${srv.url}/account`);
      await page.getByRole("button", { name: "Remove Virtual key" }).click();
      await page.getByText("The passkey was removed.").waitFor();
      await shoot(page, "account-removed");
      expect(cspViolations).toEqual([]);
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 180_000);
});
