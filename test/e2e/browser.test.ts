// A person in a real browser: headless Chromium (Debian's package, driven by playwright-core)
// opens the client's authorization URL, signs in, consents and lands on the client's redirect
// URI. Screenshots of the login and consent pages are kept in test-artifacts/.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { startTestServer } from "../support/app";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { pkce } from "../support/browser";
import { exchangeCode } from "../support/oidc-flow";
import { CHROMIUM, launchChromium } from "../support/chromium";

const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");

// CI installs Chromium and must run this test (a missing browser fails it there). On a developer
// machine without the package the test is reported as skipped, never as passed.
const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!runnable)("headless Chromium", () => {
  test("logs in, consents and lands on the client's redirect URI", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser test`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const srv = await startTestServer();
    // The relying party: a page that shows what it received.
    const rpServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(`<!doctype html><title>Example App</title><h1>Signed in</h1><p>${new URL(req.url).searchParams.has("code") ? "code received" : "no code"}</p>`, { headers: { "content-type": "text/html" } }) });
    afterAll(() => rpServer.stop(true));
    const callback = `http://127.0.0.1:${rpServer.port}/callback`;
    const rp = await createOidcClient(srv.deps, {
      client_name: "Example Photo App",
      redirect_uris: [callback],
      client_uri: "https://photos.example.com",
      logo_uri: `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#f59e0b"/><circle cx="24" cy="24" r="10" fill="#fff"/><circle cx="24" cy="24" r="5" fill="#92400e"/></svg>').toString("base64")}`,
      policy_uri: "https://photos.example.com/privacy",
      tos_uri: "https://photos.example.com/terms",
    });
    const user = await createOidcUser(srv.deps, { name: "Ada Lovelace" });
    const { verifier, challenge } = pkce();
    const state = "browser-state";
    const authorize = `${srv.url}/oauth/authorize?${new URLSearchParams({ client_id: rp.client_id, redirect_uri: callback, response_type: "code", scope: "openid profile email", state, nonce: "browser-nonce", code_challenge: challenge, code_challenge_method: "S256" })}`;

    const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await launchChromium(profile, {
        viewport: { width: 1024, height: 768 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const cspViolations: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
      });

      await page.goto(authorize);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      // The stylesheet is allowed by its CSP hash: the primary button is styled.
      const bg = await page.getByRole("button", { name: "Sign in", exact: true }).evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(bg).toBe("rgb(11, 92, 173)");
      // Focus starts in the username field.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("login");
      await page.screenshot({ path: join(ARTIFACTS, "login-page.png"), fullPage: true });

      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill("not-the-password");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").textContent()).toBe("The username or password is incorrect.");
      await page.screenshot({ path: join(ARTIFACTS, "login-error.png"), fullPage: true });

      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Example Photo App" }).waitFor();
      expect(await page.getByText("Privacy policy").getAttribute("href")).toBe("https://photos.example.com/privacy");
      // The logo is shown (the CSP allows it) and decorative (empty alt: the name is the heading).
      expect(await page.locator(".app img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "consent-page.png"), fullPage: true });

      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((u) => u.toString().startsWith(callback));
      const landed = new URL(page.url());
      expect(landed.searchParams.get("state")).toBe(state);
      expect(landed.searchParams.get("iss")).toBe(srv.url);
      await page.getByRole("heading", { name: "Signed in" }).waitFor();
      expect(cspViolations).toEqual([]);

      // The code the browser carried is good at the token endpoint.
      const tok = await exchangeCode({ request: (p, init) => fetch(srv.url + p, init) }, { ...rp, redirect_uri: callback }, landed.searchParams.get("code")!, verifier);
      expect(tok.status).toBe(200);
      expect(tok.body.id_token).toBeTruthy();

      // The session cookie as the browser stored it.
      const cookies = await context.cookies(srv.url);
      const session = cookies.find((c) => c.name === "authly_session")!;
      expect(session.httpOnly).toBe(true);
      expect(session.sameSite).toBe("Lax");
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
