// `authly serve` as a real subprocess: configuration errors, database errors, migrations at start,
// two racing starters, graceful shutdown, workers, and the embedded engine.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../support/db";
import { freePort, TEST_SECRETS } from "../support/app";
import { runAuthly, startServerProcess } from "../support/process";

const quiet = { AUTHLY_LOG_LEVEL: "warn", AUTHLY_ACCESS_LOG: "false" };

describe("authly serve", () => {
  test("--version prints the package version", async () => {
    const r = await runAuthly(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((await Bun.file("package.json").json()).version);
  });

  test("a bad environment stops start-up with every problem listed, exit code 5, no secret shown", async () => {
    const secret = "tooshort-secret";
    const r = await runAuthly(["serve"], { cleanEnv: true, env: { JWT_SECRET_KEY: secret, AUTHLY_PORT: "x", DATABASE_URL: "mysql://nope" }, timeoutMs: 15_000 });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("DATABASE_URL");
    expect(r.stderr).toContain("JWT_SECRET_KEY");
    expect(r.stderr).toContain("JWT_REFRESH_SECRET_KEY");
    expect(r.stderr).toContain("AUTHLY_PORT");
    expect(r.stderr + r.stdout).not.toContain(secret);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  test("an unreachable database gives a clear message and a non-zero exit, not a hang", async () => {
    const port = await freePort();
    const r = await runAuthly(["serve", "--port", String(await freePort())], {
      env: { ...TEST_SECRETS, ...quiet, AUTHLY_MODE: "cli", DATABASE_URL: `postgresql://nobody:hunter2@127.0.0.1:${port}/authly` },
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cannot connect to PostgreSQL");
    expect(r.stderr).not.toContain("hunter2");
    expect(r.ms).toBeLessThan(12_000);
  });

  test("without --migrate a pending database is refused with the command to run", async () => {
    const db = await createTestDatabase({ migrated: false });
    const r = await runAuthly(["serve", "--port", String(await freePort())], { env: { ...TEST_SECRETS, ...quiet, AUTHLY_MODE: "testing", DATABASE_URL: db.url }, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("authly migrate");
  });

  test("two servers started at once on one empty database both come up; each migration is recorded once", async () => {
    const db = await createTestDatabase({ migrated: false });
    const [p1, p2] = [await freePort(), await freePort()];
    const env = { ...TEST_SECRETS, ...quiet, AUTHLY_MODE: "testing", DATABASE_URL: db.url };
    const [a, b] = await Promise.all([
      startServerProcess(["serve", "--migrate", "--port", String(p1)], { env, port: p1 }),
      startServerProcess(["serve", "--migrate", "--port", String(p2)], { env, port: p2 }),
    ]);
    try {
      expect((await fetch(`${a.url}/health`)).status).toBe(200);
      expect((await fetch(`${b.url}/health`)).status).toBe(200);
      const rows = await db.sql<{ version: number; n: number }[]>`SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version`;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      const keys = await db.sql<{ alg: string; n: number }[]>`SELECT alg, count(*)::int AS n FROM signing_keys WHERE state = 'active' GROUP BY alg`;
      expect(keys.every((k) => k.n === 1)).toBe(true);
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    }
  });

  test("SIGTERM drains and exits 0; migrate --status shows applied migrations", async () => {
    const db = await createTestDatabase({ migrated: false });
    const env = { ...TEST_SECRETS, ...quiet, AUTHLY_MODE: "testing", DATABASE_URL: db.url };
    const m = await runAuthly(["migrate"], { env });
    expect(m.code).toBe(0);
    expect(m.stdout).toContain("0001_initial");
    const s = await runAuthly(["migrate", "--status", "--output", "json"], { env });
    expect(JSON.parse(s.stdout).migrations[0]).toMatchObject({ name: "0001_initial", applied: true });
    const port = await freePort();
    const srv = await startServerProcess(["serve", "--host", "127.0.0.1", "--port", String(port)], { env: { ...env, AUTHLY_LOG_LEVEL: "info", AUTHLY_ISSUER: `http://localhost:${port}` }, port });
    // The start-up line names the address really bound, the issuer, and how to reach this process.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !srv.output().includes("Authly listening")) await Bun.sleep(20);
    expect(srv.output()).toContain(`Authly listening on 127.0.0.1:${port}; issuer http://localhost:${port}; from this machine: http://127.0.0.1:${port}`);
    expect(await srv.stop("SIGTERM")).toBe(0);
  });

  test("--workers 2 starts two processes sharing the port; SIGTERM stops them all", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startServerProcess(["serve", "--workers", "2", "--port", String(port)], {
      env: { ...TEST_SECRETS, AUTHLY_LOG_LEVEL: "info", AUTHLY_ACCESS_LOG: "false", AUTHLY_MODE: "testing", DATABASE_URL: db.url },
      port,
    });
    try {
      for (let i = 0; i < 20; i++) expect((await fetch(`${srv.url}/health`)).status).toBe(200);
      // Both workers announced themselves.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (srv.output().match(/worker \d+ \(pid/g) ?? []).length < 2) await Bun.sleep(50);
      expect((srv.output().match(/worker \d+ \(pid/g) ?? []).length).toBe(2);
      // The supervisor names the address really bound (0.0.0.0 by default) and the URL to use.
      while (Date.now() < deadline && !srv.output().includes("All 2 workers ready")) await Bun.sleep(50);
      expect(srv.output()).toContain(`All 2 workers ready. Authly listening on 0.0.0.0:${port} (every interface); issuer http://localhost:${port}; from this machine: http://127.0.0.1:${port}`);
    } finally {
      expect(await srv.stop("SIGTERM")).toBe(0);
    }
  });

  test("invalid --workers is a validation error (exit 5)", async () => {
    const r = await runAuthly(["serve", "--workers", "zero"], { env: { ...TEST_SECRETS } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("--workers");
  });

  test("--embedded serves /health with no PostgreSQL, refuses a second server on the same data folder, and a restart keeps the data", async () => {
    const home = mkdtempSync(join(tmpdir(), "authly-embedded-"));
    try {
      const env = { HOME: home, ...quiet, DATABASE_URL: undefined, JWT_SECRET_KEY: undefined, JWT_REFRESH_SECRET_KEY: undefined, AUTHLY_MODE: undefined, AUTHLY_LOG_LEVEL: "info" };
      const port = await freePort();
      const first = await startServerProcess(["serve", "--embedded", "--port", String(port)], { env, port, timeoutMs: 60_000 });
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
      expect(first.output()).toContain("Embedded database ready");
      const jwks1 = await (await fetch(`${first.url}/health`)).json();
      expect(jwks1.database).toBe("connected");
      // Two PGlite instances on one folder would both open it (and corrupt it): the second server,
      // even on another port, is refused before it touches the folder.
      const rival = await runAuthly(["serve", "--embedded", "--port", String(await freePort())], { env, timeoutMs: 30_000 });
      expect(rival.code).toBe(1);
      expect(rival.stderr).toMatch(new RegExp(`the embedded database in \\S+ is already used by another authly process \\(pid ${first.proc.pid}\\)`));
      expect(rival.stdout + rival.stderr).not.toContain("Embedded database ready");
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
      // migrate --status --embedded reads the same folder: refused while the server holds it.
      const busy = await runAuthly(["migrate", "--status", "--embedded"], { env, timeoutMs: 30_000 });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`is already used by another authly process (pid ${first.proc.pid})`);
      expect(await first.stop()).toBe(0);
      const status = await runAuthly(["migrate", "--status", "--embedded", "--output", "json"], { env, timeoutMs: 60_000 });
      expect(status.stderr).toBe("");
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout).migrations[0]).toMatchObject({ name: "0001_initial", applied: true });
      const missing = await runAuthly(["migrate", "--status", "--embedded", "--data-dir", join(home, "nothing-here")], { env, timeoutMs: 30_000 });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`No embedded database in ${join(home, "nothing-here")}`);
      const second = await startServerProcess(["serve", "--embedded", "--port", String(port)], { env, port, timeoutMs: 60_000 });
      try {
        expect(second.output()).not.toContain("Applied 1 migration");
        expect(second.output()).not.toContain("(created)");
        expect((await fetch(`${second.url}/health`)).status).toBe(200);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);

  test("the container engine fails within seconds with a clear message when no container runtime answers", async () => {
    const home = mkdtempSync(join(tmpdir(), "authly-container-"));
    try {
      const r = await runAuthly(["serve", "--embedded", "--port", String(await freePort())], {
        env: { HOME: home, AUTHLY_EMBEDDED_ENGINE: "container", DOCKER_HOST: "unix:///nonexistent/docker.sock", DATABASE_URL: undefined },
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("container");
      expect(r.stderr).toContain("AUTHLY_EMBEDDED_ENGINE=pglite");
      expect(r.ms).toBeLessThan(15_000);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
