// The compiled `authly` executable, copied alone into an empty folder and run with an empty
// environment (plus only the variables a step needs): --version, help, `serve --embedded` with the
// embedded PGlite engine, its pages and endpoints, and an admin CLI round trip against it.
// Uses AUTHLY_BIN, else dist/authly-<host> when it is newer than the sources, else builds it
// (bounded in time).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./support/app";
import { BUILD_TIMEOUT_MS, ensureBinary } from "./support/binary";
import { captureOutput } from "./support/process";

const ROOT = resolve(import.meta.dir, "..");
const VERSION = (await Bun.file(join(ROOT, "package.json")).json()).version as string;
const has = (p: string) => existsSync(join(ROOT, p));

let dir = "";
let bin = "";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the copied binary with exactly `env` (nothing inherited), in the empty folder. */
async function run(args: string[], env: Record<string, string> = {}, stdin?: string, timeoutMs = 30_000): Promise<Run> {
  const proc = Bun.spawn([bin, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe", stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin) });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

interface Server {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  readyMs: number;
  stop(): Promise<number>;
}

async function serve(port: number, env: Record<string, string>, extra: string[] = []): Promise<Server> {
  const started = performance.now();
  const proc = Bun.spawn([bin, "serve", "--embedded", "--data-dir", join(dir, "data"), "--host", "127.0.0.1", "--port", String(port), ...extra], {
    cwd: dir,
    env,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const output = captureOutput(proc);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`authly serve exited early (code ${proc.exitCode}):\n${output()}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`authly serve was not ready in time:\n${output()}`);
    }
    const ok = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await Bun.sleep(100);
  }
  const readyMs = performance.now() - started;
  return {
    url,
    proc,
    readyMs,
    output,
    async stop() {
      if (exited) return proc.exitCode ?? -1;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

beforeAll(async () => {
  const source = await ensureBinary();
  dir = mkdtempSync(join(tmpdir(), "authly-binary-"));
  bin = join(dir, "authly");
  copyFileSync(source, bin);
  chmodSync(bin, 0o755);
  const mb = statSync(bin).size / 1024 / 1024;
  console.log(`authly binary: ${mb.toFixed(1)} MB (${source})`);
}, BUILD_TIMEOUT_MS + 30_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the compiled binary, alone in an empty folder, empty environment", () => {
  test("the folder holds nothing but the binary", () => {
    expect(readdirSync(dir)).toEqual(["authly"]);
  });

  test("--version prints the package version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  }, 30_000);

  test("--help and admin --help list their commands", async () => {
    const top = await run(["--help"]);
    expect(top.code).toBe(0);
    for (const cmd of ["serve", "admin", "migrate", "healthcheck"]) expect(top.stdout).toContain(cmd);
    const admin = await run(["admin", "--help"]);
    expect(admin.code).toBe(0);
    expect(admin.stdout).toContain("authly admin");
    expect(admin.stderr).not.toMatch(/error/i);
  }, 30_000);

  test("AUTHLY_EMBEDDED_ENGINE=container: the binary (built without testcontainers) names what is missing and what to use, and exits", async () => {
    const port = await freePort();
    const r = await run(["serve", "--embedded", "--data-dir", join(dir, "container-data"), "--host", "127.0.0.1", "--port", String(port)], { AUTHLY_EMBEDDED_ENGINE: "container" }, undefined, 60_000);
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toContain("testcontainers");
    expect(text).toContain("AUTHLY_EMBEDDED_ENGINE=pglite");
    expect(text).not.toMatch(/\n\s+at /);
  }, 90_000);

  test("serve --embedded: health, discovery, login page, API docs page, metrics, healthcheck, CLI round trip; a restart keeps the data", async () => {
    const port = await freePort();
    const password = "Binary-test-admin-1";
    const env = { AUTHLY_ADMIN_PASSWORD: password, AUTHLY_LOG_LEVEL: "info", AUTHLY_ACCESS_LOG: "false", AUTHLY_DEV_MODE: "true" };
    const first = await serve(port, env, ["--seed"]);
    let second: Server | undefined;
    try {
      console.log(`authly binary: first start (creates the embedded database) ready in ${(first.readyMs / 1000).toFixed(1)} s`);
      expect(first.output()).toContain("Embedded database ready");
      const health = await fetch(`${first.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "healthy", database: "connected" });

      // The container health check: the binary asks the server itself.
      const hc = await run(["healthcheck"], { AUTHLY_PORT: String(port) });
      expect(hc.code).toBe(0);
      expect((await run(["healthcheck", "--ready", "--url", first.url])).code).toBe(0);
      expect((await run(["healthcheck", "--url", `http://127.0.0.1:${await freePort()}`, "--timeout", "2"])).code).toBe(1);

      // /metrics answers a loopback client without a token.
      const metrics = await fetch(`${first.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain(`authly_build_info{version="${VERSION}"} 1`);

      if (has("src/oauth/discovery.ts")) {
        const disc = await fetch(`${first.url}/.well-known/openid-configuration`);
        expect(disc.status).toBe(200);
        const doc = await disc.json();
        expect(doc.issuer).toBeString();
        expect(doc.token_endpoint).toEndWith("/oauth/token");
        expect(doc.authorization_endpoint).toEndWith("/oauth/authorize");
      }

      if (has("src/interaction/routes.ts")) {
        // The seeded public client starts a code flow; the login page comes from inside the binary.
        const verifier = "binary-test-verifier-0123456789-abcdefghijklmnopq";
        const challenge = new Bun.CryptoHasher("sha256").update(verifier).digest("base64url");
        const q = new URLSearchParams({ response_type: "code", client_id: "demo-spa", redirect_uri: "http://localhost:3000/callback", scope: "openid profile", state: "s1", code_challenge: challenge, code_challenge_method: "S256" });
        // Follow the redirects like a browser: the interaction is bound to its cookie.
        const jar = new Map<string, string>();
        const keep = (r: Response) => {
          for (const c of r.headers.getSetCookie()) {
            const [pair] = c.split(";");
            const i = pair!.indexOf("=");
            jar.set(pair!.slice(0, i), pair!.slice(i + 1));
          }
          return r;
        };
        const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
        let res = keep(await fetch(`${first.url}/oauth/authorize?${q}`, { redirect: "manual" }));
        for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400; hops++) {
          res = keep(await fetch(new URL(res.headers.get("location")!, first.url), { redirect: "manual", headers: { cookie: cookie() } }));
        }
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toContain("text/html");
        const html = await res.text();
        expect(html).toContain("<form");
        expect(html).toMatch(/type="password"/);
      }

      if (has("src/admin/routes.ts") && has("src/oauth/token.ts")) {
        // The admin API's documentation page, served from inside the binary (no CDN).
        const login = await fetch(`${first.url}/oauth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username: "admin", password, scope: "admin:system:read" }),
        });
        expect(login.status).toBe(200);
        const docs = await fetch(`${first.url}/admin/docs`, { headers: { authorization: `Bearer ${(await login.json()).access_token}` } });
        expect(docs.status).toBe(200);
        expect(docs.headers.get("content-type")).toContain("text/html");
        const page = await docs.text();
        expect(page.includes("<title>Authly admin API")).toBe(true);
        // Swagger UI's files come from inside the binary, and the document lists the routes.
        const script = await fetch(`${first.url}/admin/docs/swagger-ui-bundle.js`);
        expect(script.status).toBe(200);
        expect((await script.text()).includes("SwaggerUIBundle")).toBe(true);
        expect((await fetch(`${first.url}/admin/docs/swagger-ui.css`)).status).toBe(200);
        expect(JSON.stringify(await (await fetch(`${first.url}/admin/openapi.json`)).json()).includes('"/admin/clients"')).toBe(true);
      }

      if (has("src/cli/admin/auth.ts")) {
        // The admin CLI of the same binary against the server: login, create, read back, logout.
        const home = join(dir, "cli-home");
        mkdirSync(home, { recursive: true });
        const cli = { HOME: home, AUTHLY_ADMIN_API_URL: first.url };
        const login = await run(["admin", "auth", "login", "--username", "admin", "--password-stdin"], cli, password);
        expect(login.stderr).toBe("");
        expect(login.code).toBe(0);
        const created = await run(["admin", "scope", "create", "--name", "binary:test", "--description", "made by the binary test", "--output", "json"], cli);
        expect(created.code).toBe(0);
        expect(JSON.parse(created.stdout).name).toBe("binary:test");
        const shown = await run(["admin", "scope", "show", "binary:test", "--output", "json"], cli);
        expect(shown.code).toBe(0);
        expect(JSON.parse(shown.stdout).description).toBe("made by the binary test");
        expect((await run(["admin", "auth", "logout"], cli)).code).toBe(0);
      }

      expect(await first.stop()).toBe(0);
      second = await serve(port, env);
      console.log(`authly binary: restart (existing embedded database) ready in ${(second.readyMs / 1000).toFixed(1)} s`);
      expect(second.output()).not.toContain("(created)");
      expect((await fetch(`${second.url}/health`)).status).toBe(200);
      if (has("src/cli/admin/auth.ts")) {
        const home = join(dir, "cli-home");
        const cli = { HOME: home, AUTHLY_ADMIN_API_URL: second.url };
        expect((await run(["admin", "auth", "login", "--username", "admin", "--password-stdin"], cli, password)).code).toBe(0);
        const shown = await run(["admin", "scope", "show", "binary:test", "--output", "json"], cli);
        expect(shown.code).toBe(0);
      }
      expect(await second.stop()).toBe(0);
    } finally {
      await first.stop();
      await second?.stop();
    }
  }, 300_000);
});
