// The admin API's interactive documentation (/admin/docs: Swagger UI through @elysiajs/openapi)
// in headless Chromium: it renders every route from the OpenAPI document with its own assets,
// served by Authly itself — no request leaves loopback and the page's CSP holds (no violation).
// A screenshot is kept in test-artifacts/admin-docs.png.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { startTestServer } from "../support/app";
import { CHROMIUM, launchChromium } from "../support/chromium";

const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");

// As in browser.test.ts: required in CI (CI=true), reported as skipped elsewhere without Chromium.
const runnable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runnable) console.warn(`admin docs browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!runnable)("admin API docs page in headless Chromium", () => {
  test("renders every admin route offline: only loopback requests, no CSP violation, descriptions as Markdown", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const srv = await startTestServer();
    const doc = (await (await fetch(`${srv.url}/admin/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(expected.length).toBeGreaterThanOrEqual(28);

    const profile = mkdtempSync(join(tmpdir(), "authly-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await launchChromium(profile, {
        viewport: { width: 1280, height: 900 },
      });
      const requests: string[] = [];
      context.on("request", (r) => requests.push(r.url()));
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on("console", (m) => {
        // Chromium's own /favicon.ico probe (the page links none) is the one 404 allowed.
        if (m.type() === "error" && new URL(m.location().url || "about:blank").pathname === "/favicon.ico") return;
        if (/Content Security Policy|Refused to/i.test(m.text()) || m.type() === "error") problems.push(`${m.text()} (${m.location().url})`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });

      const res = await page.goto(`${srv.url}/admin/docs`);
      expect(res?.status()).toBe(200);
      // Swagger UI has built the operation list from /admin/openapi.json.
      await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
      const shown = await page.locator(".opblock").evaluateAll((els) =>
        els.map((el) => `${el.querySelector(".opblock-summary-method")?.textContent?.trim()} ${(el.querySelector(".opblock-summary-path") as HTMLElement | null)?.dataset.path ?? el.querySelector(".opblock-summary-path")?.textContent?.trim()}`),
      );
      expect([...shown].sort()).toEqual([...expected].sort());
      await page.screenshot({ path: join(ARTIFACTS, "admin-docs.png"), fullPage: false });

      // One operation opened: its description's Markdown is rendered (the scope is code, no backticks).
      const op = page.locator(".opblock-post").filter({ has: page.locator('[data-path="/admin/keys/rotate"]') });
      await op.locator(".opblock-summary").first().click();
      const description = op.locator(".opblock-description-wrapper").first();
      await description.waitFor();
      expect(await description.locator("code").allTextContents()).toContain("admin:system:write");
      expect(await description.textContent()).not.toContain("`");
      await op.getByRole("button", { name: "Try it out" }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, "admin-docs-operation.png"), fullPage: false });

      expect(problems).toEqual([]);
      const origin = new URL(srv.url).origin;
      expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith("data:"))).toEqual([]);
      expect(requests.some((u) => u.startsWith(`${origin}/admin/docs/`))).toBe(true);
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
