// `authly serve --workers N` as real processes: the supervisor restarts a killed worker, gives up
// with a non-zero exit only when every worker keeps crashing (a port held by another program is
// refused before any worker starts: port-ownership.test.ts), merges the workers' metrics, stops orphaned
// workers, and nothing a flow needs lives in one worker's memory (a flow spread across workers).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { baseDatabaseUrl, createTestDatabase, type TestDatabase } from "../support/db";
import { freePort } from "../support/app";
import { ROOT, serveProcessEnv, startServerProcess, type ServerProcess } from "../support/process";
import { connectToEachWorker, type PinnedConnection } from "../support/pinned-http";
import { Browser } from "../support/browser";
import { loadConfig } from "../../src/config";
import { buildDeps } from "../../src/server";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { exchangeCode, signIn } from "../support/oidc-flow";

const env = serveProcessEnv;

/** Waits (bounded) until `check` is true. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function workerPids(output: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of output.matchAll(/worker (\d+) \(pid (\d+)\) listening/g)) {
    const id = Number(m[1]);
    out.set(id, [...(out.get(id) ?? []), Number(m[2])]);
  }
  return out;
}

const servers: ServerProcess[] = [];

/** The supervisor says both workers are ready and both workers' own "listening" lines (another
 *  process's output, which can come later under load) are in. */
function bothWorkersListening(output: string): boolean {
  const pids = workerPids(output);
  return output.includes("All 2 workers ready") && (pids.get(1)?.length ?? 0) >= 1 && (pids.get(2)?.length ?? 0) >= 1;
}

/** `serve --workers 2` on `port`, returned once both workers listen. */
async function startWorkers(port: number, opts: { env: Record<string, string>; port: number }): Promise<ServerProcess> {
  const srv = await startServerProcess(["serve", "--workers", "2", "--port", String(port)], opts);
  servers.push(srv);
  await until(() => bothWorkersListening(srv.output()), 30_000, "both workers to be ready");
  return srv;
}
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

describe("serve --workers", () => {
  test("a SIGKILLed worker is replaced by the supervisor and the port keeps answering", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startWorkers(port, { env: env(db), port });
    await until(() => (workerPids(srv.output()).get(1)?.length ?? 0) >= 1 && (workerPids(srv.output()).get(2)?.length ?? 0) >= 1, 20_000, "both workers");
    const victim = workerPids(srv.output()).get(1)![0]!;
    process.kill(victim, "SIGKILL");
    // The other worker keeps serving while worker 1 comes back with a new process. (A kept-alive
    // connection to the killed worker is reset: a new one lands on a live worker.)
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = await fetch(`${srv.url}/health`, { headers: { connection: "close" } }).then((r) => r.status, () => 0);
    }
    expect(status).toBe(200);
    await until(() => (workerPids(srv.output()).get(1)?.length ?? 0) >= 2, 20_000, "worker 1's replacement");
    const replacement = workerPids(srv.output()).get(1)![1]!;
    expect(replacement).not.toBe(victim);
    expect(srv.output()).toMatch(new RegExp(`worker 1 \\(pid ${victim}\\) was killed by SIGKILL; restarting in \\d+ ms`));
    const conns = await connectToEachWorker(port, 2);
    for (const c of conns.values()) {
      expect((await c.request("GET", "/health")).status).toBe(200);
      c.close();
    }
    expect(await srv.stop("SIGTERM")).toBe(0);
  }, 90_000);

  test("migrations, signing keys and the bootstrap run once, in the supervisor, before the workers serve; SIGINT stops them all", async () => {
    const db = await createTestDatabase({ migrated: false });
    const port = await freePort();
    const srv = await startServerProcess(["serve", "--workers", "2", "--migrate", "--port", String(port)], {
      env: env(db, { AUTHLY_BOOTSTRAP_ENABLED: "true", AUTHLY_DEV_MODE: "true" }),
      port,
    });
    servers.push(srv);
    await until(() => bothWorkersListening(srv.output()), 30_000, "both workers");
    const out = srv.output();
    expect(out.match(/Applied \d+ migration\(s\)/g)?.length).toBe(1);
    expect(out.match(/Admin account created/g)?.length).toBe(1);
    // Everything the supervisor prepared was logged before the first worker started.
    expect(out.indexOf("Admin account created")).toBeLessThan(out.indexOf("Starting 2 workers"));
    expect(out.indexOf("Applied")).toBeLessThan(out.indexOf("Starting 2 workers"));
    const keys = await db.sql<{ alg: string; n: number }[]>`SELECT alg, count(*)::int AS n FROM signing_keys WHERE state = 'active' GROUP BY alg`;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.n === 1)).toBe(true);
    // Ctrl+C: SIGINT drains the workers like SIGTERM.
    expect(await srv.stop("SIGINT")).toBe(0);
    expect(srv.output()).toContain("Stopping 2 worker(s)");
  }, 90_000);

  test("a worker that stops answering (SIGSTOP: stuck event loop) is killed after the heartbeat timeout and replaced", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startWorkers(port, { env: env(db, { AUTHLY_WORKER_HEARTBEAT_SECONDS: "2" }), port });
    const stuck = workerPids(srv.output()).get(2)![0]!;
    process.kill(stuck, "SIGSTOP");
    try {
      await until(() => (workerPids(srv.output()).get(2)?.length ?? 0) >= 2, 30_000, "worker 2's replacement");
      expect(srv.output()).toMatch(new RegExp(`worker 2 \\(pid ${stuck}\\) answered no heartbeat for \\d+ s; killing it`));
      const conns = await connectToEachWorker(port, 2);
      for (const c of conns.values()) c.close();
    } finally {
      try {
        process.kill(stuck, "SIGKILL");
      } catch {
        // already gone: the supervisor killed it
      }
    }
    expect(await srv.stop("SIGTERM")).toBe(0);
  }, 90_000);

  test("a worker slot that keeps crashing is retried with capped back-off while the other worker keeps serving; the supervisor gives up only when every worker keeps crashing", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startWorkers(port, { env: env(db), port });
    const healthy = (await connectToEachWorker(port, 2)).get(2)!;
    // Kill every process that slot 1 (then every slot) starts, as soon as it says it listens.
    const killed = new Set<number>();
    const killSlots = (slots: number[]) => {
      for (const slot of slots) {
        for (const pid of workerPids(srv.output()).get(slot) ?? []) {
          if (killed.has(pid)) continue;
          killed.add(pid);
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    };
    let exited = false;
    srv.proc.exited.then(() => (exited = true));
    await until(() => {
      killSlots([1]);
      return exited || /worker 1 keeps crashing \(\d+ times within 60 s\); worker\(s\) 2 keep serving/.test(srv.output());
    }, 60_000, "worker 1 to be reported as crash-looping");
    // The old supervisor counted all workers' crashes together and stopped the healthy worker too.
    expect(exited).toBe(false);
    expect(srv.output()).not.toContain("giving up");
    expect((await healthy.request("GET", "/health")).status).toBe(200);
    healthy.close();
    // Now every slot crash-loops: only then does the supervisor give up, with exit code 1.
    await until(() => {
      killSlots([1, 2]);
      return exited;
    }, 90_000, "the supervisor to give up");
    expect(srv.proc.exitCode).toBe(1);
    expect(srv.output()).toMatch(/Every worker keeps crashing \(worker 1: \d+, worker 2: \d+ times within 60 s\) and none is serving; giving up/);
  }, 150_000);

  test("/metrics merges every worker's counts; the pool budget is workers × pool size", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startWorkers(port, { env: env(db), port });
    const conns = await connectToEachWorker(port, 2);
    try {
      const [a, b] = [conns.get(1)!, conns.get(2)!];
      for (let i = 0; i < 3; i++) expect((await a.request("GET", "/health")).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await b.request("GET", "/health")).status).toBe(200);
      // Asked through either worker, the answer covers both.
      for (const c of [a, b]) {
        // A request is counted just after its response is sent: poll (bounded) for the last one.
        let res = await c.request("GET", "/metrics");
        for (let i = 0; i < 50 && !res.text.includes('route="/health",status="200"} 7'); i++) res = await c.request("GET", "/metrics");
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toContain("text/plain");
        expect(res.text).toContain('authly_http_requests_total{method="GET",route="/health",status="200"} 7');
        expect(res.text).toMatch(/^authly_processes 2$/m);
        expect(res.text).toMatch(/^authly_db_pool_max_connections 10$/m);
      }
      expect(srv.output()).toContain("database connections up to 10 (2 × 5)");

      // A worker that dies does not take its counts with it: the node's counters never go back.
      const victim = workerPids(srv.output()).get(1)![0]!;
      process.kill(victim, "SIGKILL");
      await until(() => (workerPids(srv.output()).get(1)?.length ?? 0) >= 2, 30_000, "worker 1's replacement");
      const fresh = await connectToEachWorker(port, 2);
      try {
        const res = await fresh.get(1)!.request("GET", "/metrics");
        expect(res.text).toContain('authly_http_requests_total{method="GET",route="/health",status="200"} 7');
        expect(res.text).toMatch(/^authly_processes 2$/m);
      } finally {
        for (const c of fresh.values()) c.close();
      }
    } finally {
      for (const c of conns.values()) c.close();
      expect(await srv.stop("SIGTERM")).toBe(0);
    }
  }, 90_000);

  test("workers stop when their supervisor is killed (no orphans keep the port)", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startWorkers(port, { env: env(db), port });
    const pids = [...workerPids(srv.output()).values()].flat();
    srv.proc.kill("SIGKILL");
    await srv.proc.exited;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => pids.every((p) => !alive(p)), 20_000, "the orphaned workers to exit");
  }, 60_000);
});

// A flow spread across workers: every step on a different process than the one before. Needs the
// token endpoint, the admin API and their bootstrap (docs/contracts.md), and a real PostgreSQL
// (PGlite, the fallback test engine, runs all connections through one backend session).
const flowReady = ["src/oauth/token.ts", "src/admin/routes.ts", "src/interaction/routes.ts"].every((p) => existsSync(join(ROOT, p))) && (await baseDatabaseUrl()).engine === "postgres";

/** A browser whose every request goes to the next worker in turn (one pinned connection each). */
function alternatingBrowser(conns: PinnedConnection[], origin: string): { browser: Browser; served: number[] } {
  let i = 0;
  const served: number[] = [];
  const browser = new Browser(async (url, init) => {
    const path = url.startsWith("http") ? url.slice(new URL(url).origin.length) : url;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const n = i++ % conns.length;
    served.push(n + 1);
    const r = await conns[n]!.request(String(init.method ?? "GET"), path, { headers, body: init.body === undefined || init.body === null ? undefined : String(init.body) });
    return new Response([204, 304].includes(r.status) || r.status < 200 ? null : r.text, { status: r.status, headers: r.headers });
  }, origin);
  return { browser, served };
}

describe("state shared through PostgreSQL, not worker memory", () => {
  test.skipIf(!flowReady)("password login at worker 1, refresh at 2, admin call at 1, rotation at 2 seen by 1, revocation at 1 honoured by 2", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const password = "Workers-test-password-1";
    const srv = await startWorkers(port, {
      env: env(db, { AUTHLY_BOOTSTRAP_ENABLED: "true", AUTHLY_ADMIN_PASSWORD: password, AUTHLY_DEV_MODE: "true", AUTHLY_ISSUER: `http://127.0.0.1:${port}` }),
      port,
    });
    const conns = await connectToEachWorker(port, 2);
    const [w1, w2] = [conns.get(1)!, conns.get(2)!];
    const form = (c: PinnedConnection, path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
      c.request("POST", path, { headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(params).toString() });
    try {
      // 1. Login (password grant of the first-party CLI client) at worker 1.
      const login = await form(w1, "/oauth/token", { grant_type: "password", client_id: "authly-cli", username: "admin", password, scope: "admin:system:read admin:system:write admin:clients:read" });
      expect(login.status).toBe(200);
      const tokens = login.json();
      // 2. Refresh at worker 2: the refresh-token family lives in PostgreSQL.
      const refreshed = await form(w2, "/oauth/token", { grant_type: "refresh_token", client_id: "authly-cli", refresh_token: tokens.refresh_token });
      expect(refreshed.status).toBe(200);
      const t2 = refreshed.json();
      // Reusing the first refresh token at worker 1 is detected (RFC 9700 §4.14.2)...
      const reuse = await form(w1, "/oauth/token", { grant_type: "refresh_token", client_id: "authly-cli", refresh_token: tokens.refresh_token });
      expect(reuse.status).toBe(400);
      expect(reuse.json().error).toBe("invalid_grant");
      // ... and the whole family is gone at worker 2 too.
      const afterReuse = await form(w2, "/oauth/token", { grant_type: "refresh_token", client_id: "authly-cli", refresh_token: t2.refresh_token });
      expect(afterReuse.status).toBe(400);
      // 3. A fresh login at worker 2; its access token works at worker 1 (admin API).
      const login2 = (await form(w2, "/oauth/token", { grant_type: "password", client_id: "authly-cli", username: "admin", password, scope: "admin:system:read admin:system:write admin:clients:read" })).json();
      const bearer = { authorization: `Bearer ${login2.access_token}` };
      expect((await w1.request("GET", "/admin/status", { headers: bearer })).status).toBe(200);
      // 4. Key rotation at worker 2 is visible at worker 1 at once (keys live in PostgreSQL).
      const before = (await w1.request("GET", "/admin/keys", { headers: bearer })).json().keys as { kid: string; state: string }[];
      const rotated = await w2.request("POST", "/admin/keys/rotate", { headers: { ...bearer, "content-type": "application/json" }, body: "{}" });
      expect(rotated.status).toBe(200);
      const activated = (rotated.json().rotated as { activated: string }[]).map((r) => r.activated);
      const after = (await w1.request("GET", "/admin/keys", { headers: bearer })).json().keys as { kid: string; state: string }[];
      for (const kid of activated) expect(after.find((k) => k.kid === kid)?.state).toBe("active");
      expect(after).not.toEqual(before);
      const jwks = (await w1.request("GET", "/.well-known/jwks.json")).json().keys as { kid: string }[];
      for (const kid of activated) expect(jwks.some((k) => k.kid === kid)).toBe(true);
      // 5. Revocation at worker 1 is honoured by worker 2 (RFC 7009; access tokens are recorded).
      const revoke = await form(w1, "/oauth/revoke", { token: login2.access_token, client_id: "authly-cli" });
      expect(revoke.status).toBe(200);
      expect((await w2.request("GET", "/admin/status", { headers: bearer })).status).toBe(401);
    } finally {
      for (const c of conns.values()) c.close();
      expect(await srv.stop("SIGTERM")).toBe(0);
    }
  }, 120_000);

  test.skipIf(!flowReady)("a browser flow alternating workers at every request (interaction, session, consent, code), and a lockout and a rate limit counted across workers", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const serverEnv = env(db, { AUTHLY_ISSUER: issuer, AUTHLY_DEV_MODE: "true", AUTHLY_LOGIN_MAX_FAILURES: "3", AUTHLY_ADMIN_RATE_LIMIT: "3" });
    const deps = buildDeps(loadConfig(serverEnv, { purpose: "server" }), db.sql);
    const user = await createOidcUser(deps);
    const client = await createOidcClient(deps, { scopes: ["openid", "profile"], require_consent: true });
    const srv = await startWorkers(port, { env: serverEnv, port });
    const conns = await connectToEachWorker(port, 2);
    try {
      const { browser, served } = alternatingBrowser([conns.get(1)!, conns.get(2)!], issuer);
      // Authorization request, login page, login POST, consent page, consent POST, callback: each
      // step on the other worker than the step before.
      const flow = await signIn(browser, client, user, { scope: "openid profile" });
      expect(flow.seen).toEqual({ login: true, consent: true });
      expect(new Set(served)).toEqual(new Set([1, 2]));
      const atWorker = (c: PinnedConnection) => ({
        request: async (path: string, init?: RequestInit) => {
          const headers: Record<string, string> = {};
          new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
          const r = await c.request(String(init?.method ?? "GET"), path, { headers, body: init?.body ? String(init.body) : undefined });
          return new Response(r.text, { status: r.status, headers: r.headers });
        },
      });
      const lastWorker = served.at(-1)!;
      const other = conns.get(lastWorker === 1 ? 2 : 1)!;
      const exchanged = await exchangeCode(atWorker(other), client, flow.callback.code!, flow.verifier);
      expect(exchanged.status).toBe(200);

      // Login lockout (AUTHLY_LOGIN_MAX_FAILURES=3): failures at 1, 2, 1 lock the account at 2.
      const attempt = (c: PinnedConnection, password: string) =>
        c.request("POST", "/oauth/token", {
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username: user.username, password, scope: "admin:system:read" }).toString(),
        });
      for (const w of [1, 2, 1]) {
        const failed = await attempt(conns.get(w)!, "wrong-password-1234");
        expect(failed.status).toBe(400);
        expect(failed.json().error).toBe("invalid_grant");
      }
      const locked = await attempt(conns.get(2)!, user.password);
      expect(locked.status).toBe(400);
      expect(locked.json().error_description).toContain("Too many failed login attempts");

      // The admin API rate limit (AUTHLY_ADMIN_RATE_LIMIT=3 per source and minute): requests at
      // 1, 2, 1 use it up, the 4th at 2 is refused although worker 2 has seen only one before.
      // The windows are fixed minutes: the four requests start well inside one.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 55_000) await Bun.sleep(60_000 - intoMinute + 50);
      const statuses: number[] = [];
      for (const w of [1, 2, 1, 2]) statuses.push((await conns.get(w)!.request("GET", "/admin/status")).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      for (const c of conns.values()) c.close();
      expect(await srv.stop("SIGTERM")).toBe(0);
    }
  }, 120_000);
});
