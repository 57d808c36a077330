// A backend killed mid-query (pg_terminate_backend, as an administrator or a failover does): the
// query that was running fails, and every query and request after the reconnect succeeds — no
// connection carries the dead backend's error into its next query (issue 12, item 6; the fix is
// in patches/postgres@3.4.9.patch).
import { afterAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import { buildDeps, listen, prepareDatabase } from "../../src/server";
import { freePort, testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { seedFixtures } from "./harness";

const db = await createTestDatabase();
// pg_terminate_backend and pg_stat_activity need a real PostgreSQL server.
const real = db.engine === "postgres";

describe.skipIf(!real)("a backend terminated mid-query", () => {
  const app = `authly-kill-${crypto.randomUUID().slice(0, 8)}`;
  const admin = createSql({ url: db.url, pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 30 }, applicationName: `${app}-admin` });

  afterAll(async () => {
    await admin.end({ timeout: 5 });
  });

  /** Terminates every backend of `name` that runs pg_sleep, once `count` of them do (bounded). */
  async function terminateSleepers(name: string, count: number): Promise<number> {
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name} AND state = 'active' AND query LIKE '%pg_sleep%'`;
      if (row!.n >= count) break;
      await Bun.sleep(20);
    }
    const killed = await admin<{ ok: boolean }[]>`
      SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = ${name} AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`;
    return killed.filter((k) => k.ok).length;
  }

  test("after the kill, every later query on the pool succeeds (no stale error after reconnecting)", async () => {
    const name = `${app}-pool`;
    const sql = createSql({ url: db.url, pool: { min: 1, max: 4, connectTimeout: 10, idleTimeout: 30 }, applicationName: name });
    try {
      const sleepers = Array.from({ length: 4 }, () => sql`SELECT pg_sleep(60)`.then(() => "finished", (e: Error) => e.message));
      expect(await terminateSleepers(name, 4)).toBe(4);
      for (const outcome of await Promise.all(sleepers)) expect(outcome).not.toBe("finished");
      // Every connection of the pool lost its backend; each reconnects on its next query.
      const failures: string[] = [];
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(Array.from({ length: 8 }, () => sql<{ v: number }[]>`SELECT 1 AS v`.then((r) => r[0]!.v, (e: Error) => e.message)));
        for (const r of results) if (r !== 1) failures.push(String(r));
      }
      expect(failures).toEqual([]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }, 60_000);

  test("after the kill, every later HTTP request succeeds", async () => {
    const name = `${app}-server`;
    const port = await freePort();
    const config = loadConfig(testEnv(db, { AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_ISSUER: `http://127.0.0.1:${port}`, AUTHLY_SHUTDOWN_GRACE_SECONDS: "1", AUTHLY_ADMIN_RATE_LIMIT: "1000000" }), { purpose: "server" });
    const deps = buildDeps(config, createSql({ url: db.url, pool: config.mode.pool, applicationName: name }));
    await prepareDatabase(deps, { migrate: true, bootstrap: false });
    const running = await listen(deps);
    try {
      const f = await seedFixtures(deps);
      const max = config.mode.pool.max;
      const sleepers = Array.from({ length: max }, () => deps.sql`SELECT pg_sleep(60)`.then(() => "finished", (e: Error) => e.message));
      expect(await terminateSleepers(name, max)).toBe(max);
      for (const outcome of await Promise.all(sleepers)) expect(outcome).not.toBe("finished");
      const basic = `Basic ${btoa(`${encodeURIComponent(f.clientId)}:${encodeURIComponent(f.clientSecret)}`)}`;
      const statuses = new Map<number, number>();
      for (let round = 0; round < 5; round++) {
        const batch = await Promise.all(
          Array.from({ length: max * 2 }, () =>
            fetch(`${running.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic }, body: "grant_type=client_credentials&scope=api%3Aread" }).then((r) => r.status),
          ),
        );
        for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 200: max * 2 * 5 });
    } finally {
      await running.stop();
    }
  }, 60_000);
});
