// Debian's Chromium for the real-browser tests (playwright-core drives it; no browser download):
// its path and one launch with the flags every test needs (headless, no sandbox as root, nothing
// that reaches the network by itself).
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A persistent headless context on `profile`; `args` are added to the common flags. */
export function launchChromium(profile: string, opts: { viewport: { width: number; height: number }; deviceScaleFactor?: number; args?: string[] }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...(opts.args ?? [])],
    viewport: opts.viewport,
    ...(opts.deviceScaleFactor ? { deviceScaleFactor: opts.deviceScaleFactor } : {}),
    timeout: 60_000,
  });
}
