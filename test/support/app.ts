// A real Authly app on a test database: the same createApp, config and services as `serve`,
// driven with app.handle(new Request(...)) or on a real loopback port.
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import { POOL_SETTINGS } from "../../src/modes";
import type { Deps } from "../../src/deps";
import { buildDeps, listen, prepareDatabase, type RunningServer } from "../../src/server";
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "./db";

export const TEST_SECRETS = {
  JWT_SECRET_KEY: "test-jwt-secret-key-0123456789-abcdefghij",
  JWT_REFRESH_SECRET_KEY: "test-refresh-secret-key-0123456789-abcdef",
};

export interface TestApp {
  db: TestDatabase;
  deps: Deps;
  app: ReturnType<typeof createApp>;
  issuer: string;
  /** app.handle with a path relative to the issuer. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

const dataDirs: string[] = [];
process.once("exit", () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A data folder of its own for a test server (the bootstrap writes its password file there), so no
 *  test writes into the user's ~/.authly or, without HOME, into the working directory. Removed at exit. */
export function testDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "authly-test-data-"));
  dataDirs.push(dir);
  return dir;
}

export function testEnv(db: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUTHLY_MODE: "testing",
    AUTHLY_DATA_DIR: testDataDir(),
    DATABASE_URL: db.url,
    ...TEST_SECRETS,
    AUTHLY_ISSUER: "http://localhost",
    AUTHLY_ACCESS_LOG: "false",
    AUTHLY_LOG_LEVEL: "warn",
    AUTHLY_DEV_MODE: "true",
    // app.handle requests all come from one address ("unknown"): a file's flows (and the fuzz, which
    // otherwise meets 429 on the interaction forms) stay clear of the per-source limit.
    // test/integration/authorize-rate-limit.test.ts sets its own low one.
    AUTHLY_AUTHORIZE_RATE_LIMIT: "1000000",
    // Open dynamic registration (dev mode) is limited per source too; test/integration/registration.test.ts sets a low one.
    AUTHLY_REGISTRATION_RATE_LIMIT: "1000000",
    ...extra,
  };
}

export async function createTestApp(opts: { env?: Record<string, string>; bootstrap?: boolean } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig(testEnv(db, opts.env), { purpose: "server" });
  const deps = buildDeps(config, db.sql);
  await prepareDatabase(deps, { migrate: true, bootstrap: opts.bootstrap ?? true });
  deps.health.ready = true;
  const app = createApp(deps, { accessLog: false });
  return {
    db,
    deps,
    app,
    issuer: config.issuer,
    request(path, init) {
      return app.handle(new Request(new URL(path, "http://localhost"), init));
    },
  };
}

/** Another node of the same deployment: the app built again over a connection pool of its own on
 *  the same database (as a second `serve` process would be). `close` ends its pool. On PGlite every
 *  pool goes through one backend, so two nodes there are not two nodes: callers skip. */
export function createSecondNode(t: Pick<TestApp, "db">, env: Record<string, string> = {}): Pick<TestApp, "deps" | "app" | "request"> & { close(): Promise<void> } {
  const config = loadConfig(testEnv(t.db, env), { purpose: "server" });
  const sql = createSql({ url: t.db.url, pool: POOL_SETTINGS.testing });
  const deps = buildDeps(config, sql);
  deps.health.ready = true;
  const app = createApp(deps, { accessLog: false });
  return {
    deps,
    app,
    request: (path, init) => app.handle(new Request(new URL(path, "http://localhost"), init)),
    close: () => sql.end({ timeout: 1 }),
  };
}

/** The same app on a real loopback port (for clients that need a URL). Stopped after the file. */
export async function startTestServer(opts: { env?: Record<string, string>; bootstrap?: boolean } = {}): Promise<RunningServer & { db: TestDatabase }> {
  const db = await createTestDatabase();
  const port = await freePort();
  const config = loadConfig(testEnv(db, { AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_ISSUER: `http://127.0.0.1:${port}`, ...opts.env }), { purpose: "server" });
  const deps = buildDeps(config, db.sql);
  await prepareDatabase(deps, { migrate: true, bootstrap: opts.bootstrap ?? true });
  const running = await listen(deps);
  afterAll(() => running.stop());
  return { ...running, db };
}

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

/** Sends raw bytes to a loopback server; returns what came back before it closed or `waitMs` passed. */
export async function sendRaw(url: string, bytes: string | Uint8Array, waitMs = 2000): Promise<string> {
  const { connect } = await import("node:net");
  return new Promise<string>((resolve) => {
    let got = "";
    const sock = connect(Number(new URL(url).port), "127.0.0.1", () => sock.write(bytes));
    sock.on("data", (d) => (got += d.toString("latin1")));
    sock.on("close", () => resolve(got));
    sock.on("error", () => resolve(got));
    setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, waitMs);
  });
}
