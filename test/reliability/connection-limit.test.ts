// A database at its connection limit (issue 12, item 11): `authly serve` warns at start when its
// workers' pools cannot all get a connection, and a query refused with 53300 too_many_connections
// waits for a slot (the pool connects again with back-off, up to the connect timeout) instead of
// failing at once. Runs on a throwaway PostgreSQL of its own with max_connections = 4; skipped
// where PostgreSQL's server binaries or the `postgres` OS user are missing.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { connectionBudgetWarning, createSql } from "../../src/db/sql";
import { freePort } from "../support/app";
import { startTcpProxy } from "./tcp-proxy";
import { available, BIN, pg, pgCtl } from "./throwaway-postgres";

const MAX_CONNECTIONS = 4;

describe.skipIf(!available)("a database at its connection limit", () => {
  const dir = available ? mkdtempSync(join(tmpdir(), "authly-pg-limit-")) : "";
  const data = join(dir, "data");
  const ctl = pgCtl(data);
  let url = "";

  afterAll(() => {
    if (dir) {
      ctl("stop", ["-m", "immediate"]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("starts a PostgreSQL with max_connections = 4", async () => {
    chmodSync(dir, 0o777);
    const port = await freePort();
    expect(pg([join(BIN, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], 60_000).code).toBe(0);
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${MAX_CONNECTIONS} -c superuser_reserved_connections=0`;
    expect(ctl("start", ["-l", join(dir, "log"), "-o", opts]).code).toBe(0);
    url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  }, 90_000);

  test("warns at start when workers × pool size exceeds the free connections, and not when they fit", async () => {
    const sql = createSql({ url, pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 30 }, applicationName: "authly-limit-check" });
    try {
      const warning = await connectionBudgetWarning(sql, 2, 5);
      expect(warning).toContain("2 worker(s) × pool 5 = 10 database connections");
      expect(warning).toContain(`max_connections ${MAX_CONNECTIONS}`);
      expect(await connectionBudgetWarning(sql, 1, 2)).toBeUndefined();
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  test("a query refused with 53300 too_many_connections waits for a free slot instead of failing at once", async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    // Every slot taken by another client.
    const holder = postgres(url, { max: MAX_CONNECTIONS, onnotice: () => {} });
    const sql = createSql({ url: proxy.url(url), pool: { min: 1, max: 2, connectTimeout: 10, idleTimeout: 30 }, applicationName: "authly-limit-wait" });
    try {
      await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => holder`SELECT pg_sleep(0.05)`));
      const [full] = await holder<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`;
      expect(full!.n).toBe(MAX_CONNECTIONS);

      const waiting = sql<{ v: number }[]>`SELECT 1 AS v`.then((r) => r[0]!.v, (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);
      // Refused at least twice: the pool keeps trying (bounded wait).
      const end = Date.now() + 10_000;
      let settled: unknown;
      void waiting.then((v) => (settled = v));
      while (proxy.accepted() < 2 && settled === undefined && Date.now() < end) await Bun.sleep(10);
      expect(settled).toBeUndefined();
      expect(proxy.accepted()).toBeGreaterThanOrEqual(2);

      await holder.end({ timeout: 5 });
      expect(await waiting).toBe(1);
    } finally {
      await holder.end({ timeout: 0 }).catch(() => {});
      await sql.end({ timeout: 5 });
      await proxy.stop();
    }
  }, 60_000);
});
