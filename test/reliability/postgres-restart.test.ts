// The real thing (issue 8 "Faults"): a throwaway PostgreSQL instance of our own (initdb into a
// temporary folder, its own port; the shared cluster is never touched) is stopped under load —
// fast shutdown, then an immediate (crash-like) one — and started again. Authly answers 503
// meanwhile, never 500, never hangs past the connect timeout, and recovers by itself.
// Skipped where PostgreSQL's server binaries or the `postgres` OS user are missing.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import { buildDeps, listen, prepareDatabase, type RunningServer } from "../../src/server";
import { freePort, TEST_SECRETS } from "../support/app";
import { leaks, seedFixtures } from "./harness";
import { available, BIN, pg, pgCtl } from "./throwaway-postgres";

describe.skipIf(!available)("our own PostgreSQL stopped and started under load", () => {
  const dir = available ? mkdtempSync(join(tmpdir(), "authly-pg-")) : "";
  const data = join(dir, "data");
  let port = 0;
  let running: RunningServer | undefined;

  const ctl = pgCtl(data);

  afterAll(async () => {
    await running?.stop().catch(() => {});
    if (dir) {
      ctl("stop", ["-m", "immediate"]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("fast shutdown and a crash-like immediate stop: 503 meanwhile, recovery without restart", async () => {
    chmodSync(dir, 0o777);
    port = await freePort();
    const init = pg([join(BIN, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], 60_000);
    expect(init.code).toBe(0);
    const start = () => ctl("start", ["-l", join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`]);
    expect(start().code).toBe(0);

    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    const httpPort = await freePort();
    const config = loadConfig(
      { AUTHLY_MODE: "testing", DATABASE_URL: url, ...TEST_SECRETS, AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(httpPort), AUTHLY_ISSUER: `http://127.0.0.1:${httpPort}`, AUTHLY_ACCESS_LOG: "false", AUTHLY_LOG_LEVEL: "error", AUTHLY_ADMIN_RATE_LIMIT: "1000000", AUTHLY_SHUTDOWN_GRACE_SECONDS: "1" },
      { purpose: "server" },
    );
    const deps = buildDeps(config, createSql({ url, pool: config.mode.pool, applicationName: "authly-restart-test" }));
    await prepareDatabase(deps, { migrate: true, bootstrap: false });
    running = await listen(deps);
    const f = await seedFixtures(deps);
    const base = running.url;
    const basic = `Basic ${btoa(`${encodeURIComponent(f.clientId)}:${encodeURIComponent(f.clientSecret)}`)}`;
    const token = () => fetch(`${base}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic }, body: "grant_type=client_credentials&scope=api%3Aread" });
    const limitMs = config.mode.pool.connectTimeout * 1000 + 2_000;

    for (const mode of ["fast", "immediate"]) {
      let done = false;
      const seen = new Map<number, number>();
      const problems: string[] = [];
      const load = Promise.all(
        Array.from({ length: 6 }, async () => {
          for (let n = 0; n < 5000 && !done; n++) {
            const t0 = performance.now();
            const r = await token();
            const body = await r.text();
            const ms = performance.now() - t0;
            seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
            if (![200, 503].includes(r.status) || ms > limitMs || leaks(body)) problems.push(`${r.status} ${Math.round(ms)} ms ${body.slice(0, 120)}`);
            if (r.status === 503) await Bun.sleep(20);
          }
        }),
      );
      await Bun.sleep(300);
      expect(ctl("stop", ["-m", mode]).code).toBe(0);
      const down = await fetch(`${base}/health/ready`);
      expect(down.status).toBe(503);
      await Bun.sleep(500);
      expect(start().code).toBe(0);
      const t0 = performance.now();
      while ((await fetch(`${base}/health/ready`)).status !== 200) {
        if (performance.now() - t0 > 15_000) throw new Error(`not ready 15 s after PostgreSQL restarted (${mode})`);
        await Bun.sleep(50);
      }
      await Bun.sleep(300);
      done = true;
      await load;
      expect(problems).toEqual([]);
      expect(seen.get(503) ?? 0).toBeGreaterThan(0);
      expect((await token()).status).toBe(200);
    }
  }, 120_000);
});
