// Themes and languages in a real browser (issue 17): headless Chromium asking for German
// (Accept-Language) opens a client's authorization URL; the login page is German and drawn in the
// client's theme (set through the admin API): its colours, product name and logo, all loaded under
// the page's CSP. Screenshots are kept in test-artifacts/.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { startAdminApi } from "../support/admin";
import { createOidcClient } from "../support/oidc-fixtures";
import { pkce } from "../support/browser";
import { CHROMIUM, launchChromium } from "../support/chromium";

const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
// As test/e2e/browser.test.ts: CI must run it; without Chromium on a developer machine it is skipped, never passed.
const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!runnable)("headless Chromium, German, a client's theme", () => {
  test("the login page speaks German and shows the client's colours, name and logo; the error page shows the request id", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package to run the browser test`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const a = await startAdminApi();
    const rpServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("rp") });
    afterAll(() => rpServer.stop(true));
    const callback = `http://127.0.0.1:${rpServer.port}/callback`;
    const appLogo = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#0a7d32"/><circle cx="24" cy="24" r="9" fill="#fff"/></svg>').toString("base64")}`;
    const rp = await createOidcClient(a.deps, { client_name: "Gartenfreunde", redirect_uris: [callback], logo_uri: appLogo });
    const brandLogo = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" rx="6" fill="#0a7d32"/></svg>').toString("base64")}`;
    const set = await a.call("PATCH", `/admin/clients/${rp.client_id}/branding`, {
      body: { product_name: "Gartenfreunde ID", primary_colour: "#0a7d32", background_colour: "#eef7f0", logo_uri: brandLogo, stylesheet: "main{border-top:6px solid var(--primary)}" },
    });
    expect(set.status).toBe(200);
    const { challenge } = pkce();
    const authorize = `${a.url}/oauth/authorize?${new URLSearchParams({ client_id: rp.client_id, redirect_uri: callback, response_type: "code", scope: "openid", state: "s", code_challenge: challenge, code_challenge_method: "S256" })}`;

    const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await launchChromium(profile, { viewport: { width: 1024, height: 768 } });
      await context.setExtraHTTPHeaders({ "Accept-Language": "de-DE,de;q=0.9,en;q=0.5" });
      const page = context.pages()[0] ?? (await context.newPage());
      const cspViolations: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
      });

      await page.goto(authorize);
      await page.getByRole("heading", { name: "Anmelden" }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe("de");
      expect(await page.title()).toBe("Anmelden · Gartenfreunde ID");
      // The theme stylesheet (served by us, allowed by 'self') sets the client's colours.
      const button = page.getByRole("button", { name: "Anmelden", exact: true });
      expect(await button.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(10, 125, 50)");
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe("rgb(238, 247, 240)");
      expect(await page.locator("main").evaluate((el) => getComputedStyle(el).borderTopWidth)).toBe("6px");
      expect(await page.locator(".brand").innerText()).toBe("Gartenfreunde ID");
      // Both logos are data: URIs: loaded, nothing fetched from elsewhere.
      for (const sel of [".brand img", ".app img"]) expect(await page.locator(sel).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      expect(await page.getByText("um mit Gartenfreunde fortzufahren").count()).toBe(1);
      expect(await page.getByLabel("Benutzername oder E-Mail-Adresse").count()).toBe(1);
      expect(await page.locator("footer").innerText()).toBe("Gesichert durch Gartenfreunde ID");
      await page.screenshot({ path: join(ARTIFACTS, "login-de-themed.png"), fullPage: true });

      // A wrong password: the German alert, in the same theme.
      await page.getByLabel("Benutzername oder E-Mail-Adresse").fill("niemand");
      await page.getByLabel("Passwort").fill("falsches-passwort");
      await button.click();
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").textContent()).toBe("Benutzername oder Passwort ist falsch.");

      // An authorization request for an unknown client: the error page, German, with the request id.
      const res = await page.goto(`${a.url}/oauth/authorize?client_id=unbekannt&response_type=code`);
      expect(res!.status()).toBe(400);
      await page.getByRole("heading", { name: "Unbekannte Anwendung" }).waitFor();
      const id = res!.headers()["x-request-id"]!;
      expect(await page.locator("[data-request-id]").innerText()).toBe(`Anfrage-ID: ${id}`);
      await page.screenshot({ path: join(ARTIFACTS, "error-de.png"), fullPage: true });
      expect(cspViolations).toEqual([]);
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
