// A real Authly server on a loopback port whose database connections run through a TCP proxy the
// test controls (cut, blackhole, latency), plus fixtures and the probes the fault tests share.
import { afterAll } from "bun:test";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import type { Deps } from "../../src/deps";
import { buildDeps, listen, prepareDatabase, type RunningServer } from "../../src/server";
import { issueAccessToken } from "../../src/tokens/access-token";
import { hashClientSecret } from "../../src/clients/secrets";
import { hashPassword, passwordParams } from "../../src/accounts/password";
import { freePort, testEnv } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";

export interface ProxiedServer extends RunningServer {
  db: TestDatabase;
  proxy: TcpProxy;
  deps: Deps;
}

export async function startProxiedServer(env: Record<string, string> = {}, opts: { applicationName?: string } = {}): Promise<ProxiedServer> {
  const db = await createTestDatabase();
  const target = new URL(db.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const port = await freePort();
  const url = proxy.url(db.url);
  const config = loadConfig(
    testEnv(db, { DATABASE_URL: url, AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_ISSUER: `http://127.0.0.1:${port}`, AUTHLY_SHUTDOWN_GRACE_SECONDS: "1", AUTHLY_ADMIN_RATE_LIMIT: "1000000", ...env }),
    { purpose: "server" },
  );
  const sql = createSql({ url, pool: config.mode.pool, applicationName: opts.applicationName ?? "authly-fault-test" });
  const deps = buildDeps(config, sql);
  await prepareDatabase(deps, { migrate: true, bootstrap: true });
  const running = await listen(deps);
  afterAll(async () => {
    await proxy.restore().catch(() => {});
    await running.stop().catch(() => {});
    await proxy.stop();
  }, 20_000);
  return { ...running, db, proxy, deps };
}

export interface Fixtures {
  clientId: string;
  clientSecret: string;
  userId: string;
  username: string;
  password: string;
  /** An admin access token with every admin scope. */
  adminToken: string;
  /** A user access token with openid profile. */
  userToken: string;
}

/** A confidential client (client_credentials + refresh), an admin user and tokens, written directly. */
export async function seedFixtures(deps: Deps, sql = deps.sql): Promise<Fixtures> {
  const clientId = `fault-client-${crypto.randomUUID().slice(0, 8)}`;
  const clientSecret = `cs_fault_${crypto.randomUUID()}`;
  await sql`
    INSERT INTO clients (client_id, client_type, client_name, secret_hash, redirect_uris, grant_types, scopes, token_endpoint_auth_method, require_consent)
    VALUES (${clientId}, 'confidential', 'Fault test client', ${hashClientSecret(deps, clientSecret)}, ${["http://127.0.0.1/cb"]},
            ${["client_credentials", "authorization_code", "refresh_token"]}, ${["openid", "profile", "offline_access", "api:read"]}, 'client_secret_basic', false)`;
  await sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'fault test scope') ON CONFLICT DO NOTHING`;
  const username = `fault-admin-${crypto.randomUUID().slice(0, 8)}`;
  const password = `pw-${crypto.randomUUID()}`;
  const [user] = await sql<{ id: string }[]>`
    INSERT INTO users (username, email, password_hash, is_admin) VALUES (${username}, ${`${username}@example.test`}, ${await hashPassword(password, passwordParams(deps.config))}, true)
    RETURNING id`;
  const adminScopes = "admin:clients:read admin:clients:write admin:scopes:read admin:scopes:write admin:users:read admin:users:write admin:system:read admin:system:write";
  const admin = await issueAccessToken(deps, { clientId: "authly-cli", sub: user!.id, userId: user!.id, scope: adminScopes });
  const userTok = await issueAccessToken(deps, { clientId, sub: user!.id, userId: user!.id, scope: "openid profile" });
  return { clientId, clientSecret, userId: user!.id, username, password, adminToken: admin.token, userToken: userTok.token };
}

export interface Probe {
  name: string;
  /** The status while the database is up (200 unless said). */
  okStatus?: number;
  /** True when the route is mounted in this build (protocol routes land from other issues). */
  needsDatabase: boolean;
  request(base: string): Promise<Response>;
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = "application/x-www-form-urlencoded";

/** Requests that each need the database, for whichever of these routes the app mounts. */
export function probes(f: Fixtures, mounted: Set<string>): Probe[] {
  const all: (Probe & { route: string })[] = [
    { route: "GET /health", name: "health", needsDatabase: true, request: (b) => fetch(`${b}/health`) },
    { route: "GET /health/ready", name: "ready", needsDatabase: true, request: (b) => fetch(`${b}/health/ready`) },
    {
      route: "POST /oauth/token",
      name: "token client_credentials",
      needsDatabase: true,
      request: (b) => fetch(`${b}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic(f.clientId, f.clientSecret) }, body: form({ grant_type: "client_credentials", scope: "api:read" }) }),
    },
    {
      route: "POST /oauth/introspect",
      name: "introspect",
      needsDatabase: true,
      request: (b) => fetch(`${b}/oauth/introspect`, { method: "POST", headers: { "content-type": FORM, authorization: basic(f.clientId, f.clientSecret) }, body: form({ token: f.userToken }) }),
    },
    {
      route: "POST /oauth/revoke",
      name: "revoke",
      needsDatabase: true,
      request: (b) => fetch(`${b}/oauth/revoke`, { method: "POST", headers: { "content-type": FORM, authorization: basic(f.clientId, f.clientSecret) }, body: form({ token: "not-a-token-we-issued" }) }),
    },
    {
      route: "GET /oauth/authorize",
      name: "authorize (to the login page)",
      okStatus: 303,
      needsDatabase: true,
      request: (b) =>
        fetch(`${b}/oauth/authorize?${form({ client_id: f.clientId, redirect_uri: "http://127.0.0.1/cb", response_type: "code", scope: "openid", state: "s", nonce: "n", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" })}`, { redirect: "manual" }),
    },
    { route: "GET /oidc/userinfo", name: "userinfo", needsDatabase: true, request: (b) => fetch(`${b}/oidc/userinfo`, { headers: { authorization: `Bearer ${f.userToken}` } }) },
    { route: "GET /admin/status", name: "admin status", needsDatabase: true, request: (b) => fetch(`${b}/admin/status`, { headers: { authorization: `Bearer ${f.adminToken}` } }) },
    { route: "GET /admin/clients", name: "admin clients", needsDatabase: true, request: (b) => fetch(`${b}/admin/clients`, { headers: { authorization: `Bearer ${f.adminToken}` } }) },
  ];
  return all.filter((p) => mounted.has(p.route));
}

/** "METHOD /path" of every route the app mounts. */
export function mountedRoutes(app: { routes: { method: string; path: string }[] }): Set<string> {
  return new Set(app.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
}

/** Signs of an internal detail leaking into a response body. */
export const LEAK_PATTERNS: RegExp[] = [
  /\bat\s+\S+\s+\(?[^)]*:\d+:\d+\)?/, // stack frame
  /\.ts:\d+/,
  /node_modules/,
  /ECONNREFUSED|ECONNRESET|CONNECTION_CLOSED|CONNECT_TIMEOUT/,
  /PostgresError|syntax error at or near|relation "\w+" does not exist|invalid input syntax for/i,
  /127\.0\.0\.1:\d{4,5}\b.*postgres|postgresql:\/\//i,
  /\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b\s+\w+\s+SET\b/,
];

export function leaks(body: string): RegExp | undefined {
  return LEAK_PATTERNS.find((re) => re.test(body));
}
