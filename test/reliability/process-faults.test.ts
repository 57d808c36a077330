// Faults against the real `authly serve` processes (issue 8): a worker SIGKILLed mid-load is
// replaced by the supervisor and clients lose at most the requests that worker held; a server
// whose database is cut again and again under load keeps running (no crash) and recovers alone.
import { afterAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { freePort } from "../support/app";
import { serveProcessEnv, startServerProcess, type ServerProcess } from "../support/process";
import { startTcpProxy } from "./tcp-proxy";
import { seedFixtures } from "./harness";
import { connectToEachWorker, type PinnedConnection } from "../support/pinned-http";
import { basic } from "../support/fixtures";
import { loadConfig } from "../../src/config";
import { buildDeps } from "../../src/server";

const env = serveProcessEnv;

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface LoadResult {
  ok: number;
  failedConnections: number;
  /** When each failed request started and when its failure surfaced (Date.now()). */
  failed: { started: number; failedAt: number }[];
  statuses: Map<number, number>;
}

/** `concurrency` loops of GET `path` (a fresh connection each, so they spread over workers) until stop. */
function load(url: string, path: string, concurrency: number, stop: () => boolean): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failedConnections: 0, failed: [], statuses: new Map() };
  return Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let n = 0; n < 5000 && !stop(); n++) {
        const started = Date.now();
        try {
          const r = await fetch(url + path, { headers: { connection: "close" } });
          await r.arrayBuffer();
          result.statuses.set(r.status, (result.statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200) result.ok++;
        } catch {
          result.failedConnections++;
          result.failed.push({ started, failedAt: Date.now() });
        }
      }
    }),
  ).then(() => result);
}

/** Pids of each worker id, from the workers' "listening" lines, in order. */
function workerPids(output: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of output.matchAll(/worker (\d+) \(pid (\d+)\) listening/g)) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), Number(m[2])]);
  return out;
}

describe("process-level faults", () => {
  test("a worker SIGKILLed mid-load: replaced, and clients lose at most the requests it held", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const srv = await startServerProcess(["serve", "--workers", "2", "--port", String(port)], { env: env(db), port });
    servers.push(srv);
    // The supervisor's "ready" line and the worker's own "listening" line come from two processes:
    // wait for both (under load the second can come later).
    const workerOnePids = () => [...srv.output().matchAll(/worker 1 \(pid (\d+)\) listening/g)].map((m) => Number(m[1]));
    await until(() => srv.output().includes("All 2 workers ready") && workerOnePids().length > 0, 30_000, "both workers");
    const pids = workerOnePids();
    const victim = pids[0]!;
    let stop = false;
    const concurrency = 6;
    const running = load(srv.url, "/health", concurrency, () => stop);
    await Bun.sleep(500);
    const killedAt = Date.now();
    process.kill(victim, "SIGKILL");
    await until(() => workerOnePids().length >= 2, 20_000, "worker 1's replacement");
    const replacedAt = Date.now();
    await Bun.sleep(500);
    stop = true;
    const r = await running;
    expect(r.ok).toBeGreaterThan(50);
    // Only the connections the killed worker held can fail — those in flight and those already
    // queued on its listening socket (SO_REUSEPORT gives each worker its own accept queue) — so
    // failures happen only while it dies, a handful per client loop at most, none after that.
    expect(r.failedConnections).toBeLessThanOrEqual(concurrency * 2);
    // Nothing fails before the kill, and no request started after the replacement was seen fails
    // (a failure may surface a little later than the reset that caused it, under load).
    expect(r.failed.filter((f) => f.failedAt < killedAt || f.started > replacedAt)).toEqual([]);
    expect([...r.statuses.keys()].filter((st) => st !== 200)).toEqual([]);
    expect(srv.proc.exitCode).toBeNull();
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    expect(await srv.stop("SIGTERM")).toBe(0);
  }, 90_000);

  test("the database cut again and again under load: the server process survives and recovers by itself", async () => {
    const db = await createTestDatabase();
    const target = new URL(db.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const port = await freePort();
    const srv = await startServerProcess(["serve", "--port", String(port)], { env: env(db, { DATABASE_URL: proxy.url(db.url) }), port });
    servers.push(srv);
    let stop = false;
    const running = load(srv.url, "/health/ready", 8, () => stop);
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(150);
      await proxy.cut();
      await Bun.sleep(250);
      await proxy.restore();
    }
    const restoredAt = performance.now();
    // Within the mode's connect timeout (10 s in testing) plus the reconnect back-off, with slack
    // for a loaded CI machine: a connection attempt caught by a cut can wait for that timeout.
    await until(async () => (await fetch(`${srv.url}/health/ready`)).status === 200, 30_000, `ready again (proxy ${proxy.state()}, ${proxy.connections()} connections)\n${srv.output().slice(-2000)}`);
    if (process.env.FAULT_TRACE) console.log(`ready again ${Math.round(performance.now() - restoredAt)} ms after the last restore`);
    stop = true;
    const r = await running;
    await proxy.stop();
    expect(srv.proc.exitCode).toBeNull();
    expect(r.failedConnections).toBe(0);
    expect([...r.statuses.keys()].filter((st) => st !== 200 && st !== 503)).toEqual([]);
    expect(r.statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(srv.output()).not.toMatch(/socket\.write|TypeError|uncaught/i);
    expect(await srv.stop("SIGTERM")).toBe(0);
  }, 90_000);

  test("a database outage plus a worker death: the healthy worker keeps answering, the replacement starts answering 503, both serve when the database returns, and the supervisor never gives up", async () => {
    const db = await createTestDatabase();
    const target = new URL(db.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    afterAll(() => proxy.stop());
    const port = await freePort();
    const serverEnv = env(db, { DATABASE_URL: proxy.url(db.url) });
    const srv = await startServerProcess(["serve", "--workers", "2", "--port", String(port)], { env: serverEnv, port });
    servers.push(srv);
    const pids = () => workerPids(srv.output());
    await until(() => srv.output().includes("All 2 workers ready") && (pids().get(1)?.length ?? 0) >= 1 && (pids().get(2)?.length ?? 0) >= 1, 30_000, "both workers");
    // After the start: the supervisor created the signing keys the fixtures' tokens need.
    const f = await seedFixtures(buildDeps(loadConfig(serverEnv, { purpose: "server" }), db.sql), db.sql);
    const token = (c: PinnedConnection) =>
      c.request("POST", "/oauth/token", {
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(f.clientId, f.clientSecret) },
        body: new URLSearchParams({ grant_type: "client_credentials", scope: "api:read" }).toString(),
      });
    const before = await connectToEachWorker(port, 2);
    for (const c of before.values()) expect((await token(c)).status).toBe(200);
    before.get(1)!.close();
    const healthy = before.get(2)!;

    await proxy.cut();
    const victim = pids().get(1)![0]!;
    process.kill(victim, "SIGKILL");
    const cutAt = Date.now();
    // The old supervisor counted every failed restart during the outage as a crash and, with two
    // workers, gave up about 7 s in, stopping the healthy worker too. Hold the outage for 9 s
    // (bounded), probing the healthy worker on its kept-alive connection all along.
    let probes = 0;
    while (Date.now() - cutAt < 9000) {
      expect((await healthy.request("GET", "/health/live")).status).toBe(200);
      const t = await token(healthy);
      expect(t.status).toBe(503);
      expect(t.json().error).toBe("temporarily_unavailable");
      probes++;
      await Bun.sleep(250);
    }
    expect(probes).toBeGreaterThan(5);
    // Worker 1 came back during the outage and answers too: alive, not ready, 503 on DB routes.
    await until(() => (pids().get(1)?.length ?? 0) >= 2, 20_000, `worker 1's replacement\n${srv.output().slice(-3000)}`);
    const during = await connectToEachWorker(port, 2);
    const replacement = during.get(1)!;
    expect((await replacement.request("GET", "/health/live")).status).toBe(200);
    expect((await replacement.request("GET", "/health/ready")).status).toBe(503);
    const refused = await token(replacement);
    expect(refused.status).toBe(503);
    expect(refused.json().error).toBe("temporarily_unavailable");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(srv.output()).not.toContain("giving up");

    await proxy.restore();
    for (const [id, c] of during) {
      await until(async () => (await c.request("GET", "/health/ready")).status === 200, 30_000, `worker ${id} ready again`);
      let ok = 0;
      for (let i = 0; i < 20 && ok === 0; i++) if ((await token(c)).status === 200) ok++;
      expect(ok).toBe(1);
      const jwks = await c.request("GET", "/.well-known/jwks.json");
      expect(jwks.status).toBe(200);
      expect(jwks.json().keys.length).toBeGreaterThan(0);
      c.close();
    }
    healthy.close();
    if (process.env.FAULT_TRACE) console.log(srv.output());
    expect(srv.proc.exitCode).toBeNull();
    expect(srv.output()).not.toContain("giving up");
    expect(await srv.stop("SIGTERM")).toBe(0);
  }, 120_000);
});
