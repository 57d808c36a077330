// `authly admin auth login --device` on a real terminal (tmux): the URL, the code and a QR code of
// the complete URL are shown, the login completes once the code is approved in a browser (driven
// here by HTTP), and --no-qr leaves the QR code out.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Browser, isLoginPage } from "../support/browser";
import { ADMIN_PASSWORD, startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld({ env: { AUTHLY_DEVICE_POLL_INTERVAL: "1" } });
const socket = join(w.home, "tmux.sock");
const hasTmux = Bun.which("tmux") !== null;

function tmux(...args: string[]): string {
  const r = Bun.spawnSync(["tmux", "-S", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-300", "-t", "d");

async function waitFor(text: string | RegExp, from = 0, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    const tail = s.slice(from);
    if (typeof text === "string" ? tail.includes(text) : text.test(tail)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}; screen:\n${s}`);
    await Bun.sleep(50);
  }
}

function type(text: string): void {
  tmux("send-keys", "-t", "d", "-l", text);
  tmux("send-keys", "-t", "d", "Enter");
}

async function approve(userCode: string): Promise<void> {
  const b = Browser.forServer(w.url);
  let page = await b.submit(await b.open("/device"), "/device", { user_code: userCode });
  if (isLoginPage(page)) page = await b.submit(page, "/login", { login: "admin", password: ADMIN_PASSWORD });
  expect((await b.submit(page, "/device/decision", { decision: "allow" })).status).toBe(200);
}

if (hasTmux) {
  const env = { ...w.env, PATH: `${w.binDir}:${process.env.PATH}`, PS1: "$ ", NO_COLOR: "1", TERM: "xterm", LANG: "C.UTF-8" };
  const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
  tmux("new-session", "-d", "-s", "d", "-x", "160", "-y", "60", `env -i HOME='${w.home}' ${exports} bash --norc --noprofile`);
  afterAll(() => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
  });
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
