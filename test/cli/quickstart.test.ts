// docs/quickstart.md, run as written against a real `authly serve --embedded --seed`: the client
// created with the CLI, the PKCE authorization URL script, the login and consent pages (driven by
// HTTP instead of a person), the code exchanged with curl, the ID token decoded, UserInfo; then
// examples/quickstart-oauth4webapi.ts (a real OpenID Connect library) end to end.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/app";
import { Browser, isConsentPage, isLoginPage, type Page } from "../support/browser";
import { captureOutput, ROOT, runAuthly, startServerProcess, type ServerProcess } from "../support/process";
import { makeBinDir } from "./admin-support";

setDefaultTimeout(120_000);

const doc = readFileSync(join(ROOT, "docs/quickstart.md"), "utf8");
/** The ```sh block after `<!-- quickstart-test: name -->` in the quickstart. */
function block(name: string): string {
  const m = new RegExp(`<!-- quickstart-test: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (!m) throw new Error(`docs/quickstart.md has no block '${name}'`);
  return m[1]!;
}

const home = mkdtempSync(join(tmpdir(), "authly-quickstart-"));
const binDir = makeBinDir();
let server: ServerProcess;
let userPassword: string;
let cliEnv: Record<string, string>;

async function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bash", "-c", `set -euo pipefail\n${script}`], {
    env: { PATH: `${binDir}:${process.env.PATH}`, ...cliEnv, NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    cwd: home,
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Login page (the sample user), consent page (allow); returns the redirect to the client. */
async function signIn(browser: Browser, url: string): Promise<URL> {
  let page: Page = await browser.open(url);
  if (isLoginPage(page)) page = await browser.submit(page, "/login", { login: "user", password: userPassword });
  if (isConsentPage(page)) page = await browser.submit(page, "/consent", { decision: "allow" });
  if (!page.location) throw new Error(`sign-in stopped at ${page.url} (${page.status}):\n${page.html.slice(0, 800)}`);
  return new URL(page.location);
}

beforeAll(async () => {
  const port = await freePort();
  // Step 1, on loopback and a free port (the quickstart's defaults are 0.0.0.0:8000).
  server = await startServerProcess(["serve", "--embedded", "--seed", "--host", "127.0.0.1", "--port", String(port)], {
    env: { HOME: home, DATABASE_URL: undefined, JWT_SECRET_KEY: undefined, JWT_REFRESH_SECRET_KEY: undefined, AUTHLY_MODE: undefined, AUTHLY_ISSUER: undefined, AUTHLY_LOG_LEVEL: "info", AUTHLY_ACCESS_LOG: "false" },
    port,
    timeoutMs: 90_000,
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !/Sample user: user \/ \S+/.test(server.output())) await Bun.sleep(20);
  // The generated admin password is not printed: the banner names the 0600 file that holds it.
  const file = /Generated password written to (\S+) /.exec(server.output())![1]!;
  expect(file).toBe(join(home, ".authly", "embedded", "initial-admin-password"));
  expect(server.output()).not.toContain("Generated password:");
  const adminPassword = readFileSync(file, "utf8").trim();
  userPassword = /Sample user: user \/ (\S+)/.exec(server.output())![1]!;
  cliEnv = { HOME: home, AUTHLY_CONFIG_DIR: join(home, ".authly"), AUTHLY_ADMIN_API_URL: server.url, AUTHLY_MODE: "" };
  // Step 2, the scripted form the quickstart gives.
  const login = await runAuthly(["admin", "auth", "login", "--username", "admin", "--password-stdin"], { env: cliEnv, stdin: adminPassword });
  expect(login.code).toBe(0);
  const changed = await runAuthly(["admin", "auth", "change-password", "--current-password", adminPassword, "--new-password", "Quickstart-Admin-Password-1"], { env: cliEnv });
  expect(changed.code).toBe(0);
}, 150_000);

afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("docs/quickstart.md", () => {
  test("client (CLI), PKCE authorization URL, login and consent, curl code exchange, ID token decoded, UserInfo", async () => {
    const env = { AUTHLY: server.url };
    const first = await bash(`${block("client")}\n${block("authorize")}\necho "VARS $CLIENT_ID $VERIFIER $STATE $NONCE"`, env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const [, clientId, verifier, state, nonce] = /VARS (\S+) (\S+) (\S+) (\S+)/.exec(first.stdout)!;
    expect(verifier!.length).toBe(64);
    const url = first.stdout.split("\n").find((l) => l.startsWith(`${server.url}/oauth/authorize?`))!;
    expect(url).toBeDefined();

    const callback = await signIn(Browser.forServer(server.url), url);
    expect(`${callback.origin}${callback.pathname}`).toBe("http://127.0.0.1:8080/callback");
    expect(callback.searchParams.get("state")).toBe(state!);
    const code = callback.searchParams.get("code")!;

    const rest = await bash(`${block("token")}\n${block("decode")}\n${block("userinfo")}`, { ...env, CLIENT_ID: clientId!, VERIFIER: verifier!, CODE: code });
    expect(rest.stderr).toBe("");
    expect(rest.code).toBe(0);
    // Three JSON documents: the token response, the ID token's claims, UserInfo.
    const docs = rest.stdout.trim().split(/\n(?=\{)/).map((d) => JSON.parse(d));
    expect(docs).toHaveLength(3);
    expect(docs[0]).toMatchObject({ token_type: "Bearer" });
    expect(docs[0].scope.split(" ").sort()).toEqual(["email", "openid", "profile"]);
    expect(docs[1]).toMatchObject({ iss: server.url, aud: clientId, nonce });
    expect(docs[2].sub).toBe(docs[1].sub);
    expect(docs[2]).toHaveProperty("email");
  });

  test("examples/quickstart-oauth4webapi.ts signs in with oauth4webapi against the live server", async () => {
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const created = await runAuthly(["admin", "client", "create", "--name", "Quickstart library", "--type", "public", "--redirect-uri", redirectUri, "--scope", "openid profile email", "--output", "json"], { env: cliEnv });
    expect(created.code).toBe(0);
    const clientId = JSON.parse(created.stdout).client_id as string;
    const proc = Bun.spawn([process.execPath, join(ROOT, "examples/quickstart-oauth4webapi.ts")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CLIENT_ID: clientId, AUTHLY_ISSUER: server.url, REDIRECT_URI: redirectUri },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      cwd: ROOT,
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    const output = captureOutput(proc);
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && proc.exitCode === null && !output().includes("/oauth/authorize?")) await Bun.sleep(20);
      const url = output().split("\n").find((l) => l.startsWith(`${server.url}/oauth/authorize?`));
      expect(url, output()).toBeDefined();
      const callback = await signIn(Browser.forServer(server.url), url!);
      expect(callback.toString().startsWith(redirectUri)).toBe(true);
      // The browser follows the redirect to the script's one-shot server.
      const answer = await fetch(callback);
      expect(await answer.text()).toContain("Signed in");
      expect(await proc.exited).toBe(0);
    } finally {
      clearTimeout(timer);
      proc.kill();
    }
    expect(output()).toContain("ID token claims:");
    expect(output()).toContain(`"iss": "${server.url}"`);
    expect(output()).toContain(`"aud": "${clientId}"`);
    expect(output()).toMatch(/UserInfo: \{\n\s+"sub": /);
  });
});
