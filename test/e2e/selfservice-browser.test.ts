// Self-service in a real browser (issue 17): headless Chromium (Debian's package, driven by
// playwright-core) creates an account from the login page of an authorization request and then
// resets a password, following the links of mails a real SMTP peer received, through the real
// pages, back to the client. Screenshots are kept in test-artifacts/.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { freePort, startTestServer } from "../support/app";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { pkce } from "../support/browser";
import { exchangeCode } from "../support/oidc-flow";
import { linkIn, startSmtpPeer } from "../support/smtp";
import { CHROMIUM, launchChromium } from "../support/chromium";

setDefaultTimeout(180_000);
const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");

// CI installs Chromium and must run this test; elsewhere without the package it is reported as skipped.
const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!runnable)("self-service in headless Chromium", async () => {
  if (!runnable) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const smtpPort = await freePort();
  const peer = await startSmtpPeer(smtpPort);
  const srv = await startTestServer({ env: { AUTHLY_SIGNUP: "open", AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });
  const rpServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(`<!doctype html><title>Example App</title><h1>Signed in</h1><p>${new URL(req.url).searchParams.has("code") ? "code received" : "no code"}</p>`, { headers: { "content-type": "text/html" } }) });
  const callback = `http://127.0.0.1:${rpServer.port}/callback`;
  const rp = await createOidcClient(srv.deps, { client_name: "Example App", redirect_uris: [callback] });
  const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
  const context: BrowserContext = await launchChromium(profile, { viewport: { width: 1024, height: 900 } });
  afterAll(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    rpServer.stop(true);
    await peer.stop();
  });
  const to = (m: { to?: unknown }) => (m.to as { text: string }).text;

  const authorize = () => {
    const { verifier, challenge } = pkce();
    return { verifier, url: `${srv.url}/oauth/authorize?${new URLSearchParams({ client_id: rp.client_id, redirect_uri: callback, response_type: "code", scope: "openid profile", state: "st", nonce: "nn", code_challenge: challenge, code_challenge_method: "S256" })}` };
  };
  const newPage = async (): Promise<{ page: Page; csp: string[] }> => {
    const page = await context.newPage();
    const csp: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) csp.push(m.text());
    });
    return { page, csp };
  };
  const allowAndLand = async (page: Page, verifier: string) => {
    await page.getByRole("heading", { name: "Example App" }).waitFor();
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((u) => u.toString().startsWith(callback));
    await page.getByRole("heading", { name: "Signed in" }).waitFor();
    const code = new URL(page.url()).searchParams.get("code")!;
    const tok = await exchangeCode({ request: (p, init) => fetch(srv.url + p, init) }, { ...rp, redirect_uri: callback }, code, verifier);
    expect(tok.status).toBe(200);
  };

  test("sign-up: 'Create an account' on the login page, the form, the mailed link, then back into the authorization request", async () => {
    const { page, csp } = await newPage();
    const { verifier, url } = authorize();
    await page.goto(url);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await page.getByLabel("Username").fill("grace");
    await page.getByLabel("Email address").fill("grace@example.test");
    await page.getByLabel("Your name (optional)").fill("Grace Hopper");
    await page.getByLabel("Password", { exact: true }).fill("Graces-Password-1");
    await page.getByLabel("Repeat the password").fill("Graces-Password-2");
    await page.getByRole("button", { name: "Create the account" }).click();
    await page.getByText("The passwords do not match.").waitFor();
    expect(await page.getByLabel("Repeat the password").getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: join(ARTIFACTS, "signup-form-error.png"), fullPage: true });
    await page.getByLabel("Password", { exact: true }).fill("Graces-Password-1");
    await page.getByLabel("Repeat the password").fill("Graces-Password-1");
    await page.getByRole("button", { name: "Create the account" }).click();
    await page.getByRole("heading", { name: "Check your mail" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "signup-check-mail.png"), fullPage: true });

    const mail = await peer.waitFor((m) => to(m) === "grace@example.test" && m.subject === "Confirm your new account");
    const link = linkIn(mail.text!, "/signup/confirm?token=");
    await page.goto(link);
    await page.getByRole("heading", { name: "Confirm your account" }).waitFor();
    // The link alone creates nothing: the password chosen at sign-up is asked again.
    await page.getByLabel("The password chosen at sign-up").fill("Not-Graces-Password");
    await page.getByRole("button", { name: "Create my account" }).click();
    await page.getByText("This is not the password chosen at sign-up.").waitFor();
    await page.getByLabel("The password chosen at sign-up").fill("Graces-Password-1");
    await page.getByRole("button", { name: "Create my account" }).click();
    await page.getByRole("heading", { name: "Your account is ready" }).waitFor();
    expect(await page.getByRole("status").textContent()).toContain("The account grace was created.");
    await page.screenshot({ path: join(ARTIFACTS, "signup-ready.png"), fullPage: true });

    await page.getByRole("link", { name: "Continue to sign in" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("Username or email").fill("grace");
    await page.getByLabel("Password").fill("Graces-Password-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await allowAndLand(page, verifier);

    // The new account's page: the self-service sections are there, with what the sign-up stored.
    await page.goto(`${srv.url}/account`);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    for (const name of ["Profile", "Email address", "Password", "Where you are signed in"]) await page.getByRole("heading", { name, exact: true }).waitFor();
    // The forms are folded (<details>, no script): "Edit your profile" opens the profile form.
    await page.getByText("Edit your profile").click();
    expect(await page.getByLabel("Full name").inputValue()).toBe("Grace Hopper");
    await page.getByLabel("Nickname").fill("Amazing Grace");
    await page.getByRole("button", { name: "Save the profile" }).click();
    await page.getByRole("status").waitFor();
    expect(await page.getByRole("status").textContent()).toBe("Your profile was saved.");
    expect(await page.locator("section[aria-labelledby=email] p").first().textContent()).toBe("grace@example.test (confirmed)");
    await page.screenshot({ path: join(ARTIFACTS, "account-page.png"), fullPage: true });
    expect(csp).toEqual([]);
    await page.close();
  });

  test("password reset: 'Forgot password?', the mailed link, a new password, then sign-in with it", async () => {
    const user = await createOidcUser(srv.deps, { username: "alan", email: "alan@example.test", password: "Alans-Old-Password-1" });
    // Another person at this browser: grace's session from the sign-up is gone.
    await context.clearCookies();
    const { page, csp } = await newPage();
    const { verifier, url } = authorize();
    await page.goto(url);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.getByRole("heading", { name: "Reset your password" }).waitFor();
    await page.getByLabel("Email address").fill(user.email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByRole("heading", { name: "Check your mail" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "reset-check-mail.png"), fullPage: true });

    const mail = await peer.waitFor((m) => to(m) === "alan@example.test" && m.subject === "Reset your password");
    const link = linkIn(mail.text!, "/password/reset?token=");
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await page.getByLabel("New password", { exact: true }).fill("short");
    await page.getByLabel("Repeat the new password").fill("short");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("The password must have 8 to");
    await page.screenshot({ path: join(ARTIFACTS, "reset-policy-error.png"), fullPage: true });
    await page.getByLabel("New password", { exact: true }).fill("Alans-New-Password-2");
    await page.getByLabel("Repeat the new password").fill("Alans-New-Password-2");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByRole("heading", { name: "Password changed" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "reset-done.png"), fullPage: true });

    // Back at the client's sign-in: the old password is refused, the new one works.
    await page.goto(url);
    await page.getByLabel("Username or email").fill("alan");
    await page.getByLabel("Password").fill("Alans-Old-Password-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toBe("The username or password is incorrect.");
    await page.getByLabel("Password").fill("Alans-New-Password-2");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await allowAndLand(page, verifier);
    expect(csp).toEqual([]);
    await page.close();
  });
});
