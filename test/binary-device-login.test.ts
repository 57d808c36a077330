// `authly admin auth login --device` through the real compiled binary (RFC 8628): the binary asks
// for a device code for authly-cli and prints the URL and code; the test, as the admin in a browser
// (a form client over HTTP), signs in on /device and approves; the binary, polling meanwhile, stores
// the tokens, and later commands use them. Uses AUTHLY_BIN, else dist/authly-<host> when it is newer
// than the sources, else builds it (bounded in time).
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer } from "./support/app";
import { BUILD_TIMEOUT_MS, ensureBinary } from "./support/binary";
import { Browser, isLoginPage } from "./support/browser";
import { createOidcUser, type OidcTestUser } from "./support/oidc-fixtures";

const server = await startTestServer({ env: { AUTHLY_DEVICE_POLL_INTERVAL: "1" } });
let bin = "";
let admin: OidcTestUser;

beforeAll(async () => {
  bin = await ensureBinary();
  admin = await createOidcUser(server.deps, { is_admin: true });
}, BUILD_TIMEOUT_MS);

/** The binary with only the variables it needs (its own config folder, file token storage). */
function cliEnv(home: string): Record<string, string> {
  return { HOME: home, AUTHLY_CONFIG_DIR: join(home, ".authly"), AUTHLY_TOKEN_STORAGE: "file", NO_COLOR: "1", PATH: "/usr/bin:/bin" };
}

interface Started {
  /** Resolves with stdout so far once `pattern` appears in it (rejects after the bound). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  done(ms?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

function start(args: string[], env: Record<string, string>): Started {
  const proc = Bun.spawn([bin, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      for (const w of [...waiters]) {
        const m = stdout.match(w.pattern);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  const pumped = Promise.all([pump(proc.stdout, (s) => (stdout += s)), pump(proc.stderr, (s) => (stderr += s))]);
  return {
    waitFor(pattern, ms = 30_000) {
      const m = stdout.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        setTimeout(() => reject(new Error(`no ${pattern} in the output within ${ms} ms:\n${stdout}\n${stderr}`)), ms);
      });
    },
    async done(ms = 60_000) {
      const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
      const code = await proc.exited;
      clearTimeout(timer);
      await pumped;
      return { code, stdout, stderr };
    },
  };
}

/** The admin, in a browser: opens the printed URL, enters the code, signs in, answers. */
async function answerInBrowser(verificationUri: string, userCode: string, decision: "allow" | "deny") {
  const b = Browser.forServer(server.url);
  let page = await b.open(new URL(verificationUri).pathname);
  page = await b.submit(page, "/device", { user_code: userCode });
  if (isLoginPage(page)) page = await b.submit(page, "/login", { login: admin.username, password: admin.password });
  expect(page.html).toContain("Authly admin CLI");
  expect(page.html).toContain(userCode);
  const done = await b.submit(page, "/device/decision", { decision });
  expect(done.status).toBe(200);
}

describe("authly admin auth login --device (compiled binary)", () => {
  test("prints the URL and code, polls while the admin approves in a browser, then stores the tokens like the password login", async () => {
    const home = mkdtempSync(join(tmpdir(), "authly-device-"));
    const env = cliEnv(home);
    const cli = start(["admin", "auth", "login", "--device", "--api-url", server.url], env);
    const [, uri, code] = await cli.waitFor(/open (\S+) in a browser and enter the code:\s+([B-Z]{4}-[B-Z]{4})/);
    expect(uri).toBe(`${server.url}/device`);
    const out = await cli.waitFor(/Or open (\S+)/);
    expect(out[1]).toBe(`${server.url}/device?user_code=${code}`);
    await answerInBrowser(uri!, code!, "allow");
    const r = await cli.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Successfully logged in as ${admin.username}`);
    // No terminal: no QR code.
    expect(r.stdout).not.toContain("▀");
    expect(existsSync(join(home, ".authly", "tokens.json"))).toBe(true);

    // The stored login works for admin commands.
    const who = start(["admin", "auth", "whoami", "--output", "json"], env);
    const w = await who.done();
    expect(w.code).toBe(0);
    const me = JSON.parse(w.stdout);
    expect(me.username).toBe(admin.username);
    expect(me.api_url).toBe(server.url);
    expect(me.scopes).toContain("admin:clients:read");
    const list = await start(["admin", "client", "list", "--output", "json"], env).done();
    expect(list.code).toBe(0);
  }, 120_000);

  test("a request denied in the browser ends the CLI with the auth exit code (2) and stores nothing", async () => {
    const home = mkdtempSync(join(tmpdir(), "authly-device-"));
    const env = cliEnv(home);
    const cli = start(["admin", "auth", "login", "--device", "--api-url", server.url], env);
    const [, uri, code] = await cli.waitFor(/open (\S+) in a browser and enter the code:\s+([B-Z]{4}-[B-Z]{4})/);
    await answerInBrowser(uri!, code!, "deny");
    const r = await cli.done();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("denied");
    expect(existsSync(join(home, ".authly", "tokens.json"))).toBe(false);
  }, 120_000);

  test("without a terminal and without a password option, the error points to --device", async () => {
    const home = mkdtempSync(join(tmpdir(), "authly-device-"));
    const r = await start(["admin", "auth", "login", "--api-url", server.url], cliEnv(home)).done();
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("--device");
  }, 60_000);
});
