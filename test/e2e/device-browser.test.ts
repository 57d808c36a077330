// The device flow in a real browser (RFC 8628 §3.3): headless Chromium on a 390 px wide screen opens
// the verification URI, enters the code (lower case, no dash), signs in on the login page, sees the
// client, the code and the phishing warning, and approves; the device's poll then gets tokens.
// Screenshots of the entry, error and confirmation pages are kept in test-artifacts/.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { startTestServer } from "../support/app";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";
import { CHROMIUM, launchChromium } from "../support/chromium";

const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");

// CI installs Chromium and must run this test (a missing browser fails it there). On a developer
// machine without the package the test is reported as skipped, never as passed.
const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`device browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!runnable)("headless Chromium, device verification page", () => {
  test("a phone-sized browser enters the code, signs in, sees client, code and warning, approves; the device gets tokens", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser test`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const srv = await startTestServer();
    const tv = await createOidcClient(srv.deps, { client_type: "public", client_name: "Living Room TV", grant_types: [DEVICE_CODE_GRANT, "refresh_token"], redirect_uris: [] });
    const user = await createOidcUser(srv.deps, { name: "Ada Lovelace" });
    const form = (p: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(p).toString() });
    const issued = (await (await fetch(`${srv.url}/oauth/device_authorization`, form({ client_id: tv.client_id, scope: "openid profile offline_access" }))).json()) as { device_code: string; user_code: string; verification_uri: string };

    const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await launchChromium(profile, {
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const cspViolations: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
      });
      const fitsWidth = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

      await page.goto(issued.verification_uri);
      await page.getByRole("heading", { name: "Connect a device" }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("user_code");
      expect(await fitsWidth()).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "device-entry.png"), fullPage: true });

      // A wrong code: announced as an alert, the field marked invalid.
      await page.getByLabel("Code").fill("bcdf-ghjk");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").textContent()).toContain("not valid or has expired");
      expect(await page.getByLabel("Code").getAttribute("aria-invalid")).toBe("true");
      await page.screenshot({ path: join(ARTIFACTS, "device-entry-error.png"), fullPage: true });

      await page.getByLabel("Code").fill(issued.user_code.toLowerCase().replace("-", ""));
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect(await page.getByText("Living Room TV").count()).toBeGreaterThan(0);
      await page.getByLabel("Username or email").fill(user.username);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();

      await page.getByRole("heading", { name: "Living Room TV" }).waitFor();
      expect(await page.locator(".code").textContent()).toBe(issued.user_code);
      expect(await page.getByText("Only continue if you started this on your device").count()).toBe(1);
      expect(await page.getByText("Signed in as").textContent()).toContain("Ada Lovelace");
      expect(await fitsWidth()).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "device-confirm.png"), fullPage: true });

      await page.getByRole("button", { name: "Allow" }).click();
      await page.getByRole("heading", { name: "Device connected" }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, "device-done.png"), fullPage: true });
      expect(cspViolations).toEqual([]);

      const tokens = await fetch(`${srv.url}/oauth/token`, form({ grant_type: DEVICE_CODE_GRANT, device_code: issued.device_code, client_id: tv.client_id }));
      expect(tokens.status).toBe(200);
      const body = (await tokens.json()) as Record<string, string>;
      expect(body.id_token).toBeTruthy();
      expect(body.refresh_token).toBeTruthy();
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
