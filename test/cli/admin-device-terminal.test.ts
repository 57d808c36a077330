// `authly admin auth login --device` on a real terminal (tmux): the URL, the code and a QR code of
// the complete URL are shown, the login completes once the code is approved in a browser (driven
// here by HTTP), and --no-qr leaves the QR code out.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Browser, isLoginPage } from "../support/browser";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PASSWORD, startCliWorld, storedLoginHeaders, type CliWorld } from "./admin-support";
import { hasTmux, startTerminal } from "./terminal-support";

setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld({ env: { AUTHLY_DEVICE_POLL_INTERVAL: "1" } });
const { screen, waitFor, type } = startTerminal(w, { session: "d", rows: 60, history: 300, env: { LANG: "C.UTF-8" } });

async function approve(userCode: string): Promise<void> {
  const b = Browser.forServer(w.url);
  let page = await b.submit(await b.open("/device"), "/device", { user_code: userCode });
  if (isLoginPage(page)) page = await b.submit(page, "/login", { login: "admin", password: ADMIN_PASSWORD });
  expect((await b.submit(page, "/device/decision", { decision: "allow" })).status).toBe(200);
}

// CI installs tmux and must run these (a missing tmux fails them there); elsewhere: skipped, said so.
if (!hasTmux && !process.env.CI) console.warn("terminal tests skipped: tmux is missing (apt-get install -y tmux)");
describe.skipIf(!hasTmux && !process.env.CI)("login --device on a terminal", () => {
  test("shows the URL, the code and a QR code, and logs in once the code is approved", async () => {
    await waitFor("$ ");
    type("authly admin auth login --device; echo EXIT=$?");
    const s = await waitFor(/Waiting for approval/);
    const code = s.match(/\b([B-Z]{4}-[B-Z]{4})\b/)![1]!;
    expect(s).toContain(`open ${w.url}/device in a browser`);
    expect(s).toContain(`Or open ${w.url}/device?user_code=${code}`);
    // The QR code: rows of half and full blocks.
    expect(s).toMatch(/[▀▄█]{10,}/);
    await approve(code);
    const done = await waitFor(/EXIT=\d/);
    expect(done).toContain("Successfully logged in as admin");
    expect(done).toContain("EXIT=0");
    // The device grant's tokens are DPoP-bound to the key stored with them (RFC 9449 §5), and work.
    const stored = JSON.parse(readFileSync(join(w.configDir, "tokens.json"), "utf8"));
    expect(stored.token_type).toBe("DPoP");
    expect((await fetch(`${w.url}/admin/status`, { headers: await storedLoginHeaders(w.configDir, "GET", "/admin/status") })).status).toBe(200);
  });

  test("--no-qr leaves the QR code out", async () => {
    const from = screen().length;
    type("authly admin auth login --device --no-qr; echo EXIT2=$?");
    const s = (await waitFor(/Waiting for approval/, from)).slice(from);
    const code = s.match(/\b([B-Z]{4}-[B-Z]{4})\b/)![1]!;
    expect(s).toContain(`Or open ${w.url}/device?user_code=${code}`);
    expect(s).not.toMatch(/[▀▄█]{10,}/);
    await approve(code);
    expect(await waitFor(/EXIT2=\d/, from)).toContain("EXIT2=0");
  });
});
