// The background purge (issue 8 "Cost as the data grows"): expired codes, tokens, grants,
// sessions, interactions, assertion jtis, upstream logout-token jtis, rate-limit windows and login failures are deleted in
// bounded batches; live rows are never touched; concurrent runs on several nodes do no harm.
import { describe, expect, test } from "bun:test";
import { createSql } from "../../src/db/sql";
import { POOL_SETTINGS } from "../../src/modes";
import { purgeExpired, startPurgeJob } from "../../src/maintenance/service";
import { PURGE_RULES } from "../../src/maintenance/store";
import { createTestApp } from "../support/app";

const t = await createTestApp();
const sql = t.db.sql;
const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('purge-user') RETURNING id`;
const uid = user!.id;
const [idp] = await sql<{ id: string }[]>`
  INSERT INTO upstream_idps (slug, name, kind, authorization_endpoint, token_endpoint, client_id, token_endpoint_auth_method)
  VALUES ('purge-idp', 'P', 'oauth2', 'https://idp.example/a', 'https://idp.example/t', 'c', 'none') RETURNING id`;

const EXPIRED = "now() - interval '2 days'";
const LIVE = "now() + interval '1 hour'";

/** n expired + n live rows in every purgeable table; returns the live markers. */
async function seed(n: number, tag: string): Promise<void> {
  for (const [kind, at] of [["x", EXPIRED], ["l", LIVE]] as const) {
    await sql.unsafe(`
      INSERT INTO grants (id, client_id, user_id, grant_type, expires_at)
        SELECT gen_random_uuid(), '${tag}-${kind}', '${uid}', 'authorization_code', ${at} FROM generate_series(1, ${n});
      INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, auth_time, expires_at)
        SELECT '${tag}-${kind}-' || i, 'c', '${uid}', 'https://rp/cb', 'openid', 'x', now(), ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at)
        SELECT '${tag}-${kind}-' || g.id, g.id, 'c', '${uid}', 'openid', ${at} FROM grants g WHERE g.client_id = '${tag}-${kind}';
      INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at)
        SELECT '${tag}-${kind}-' || g.id, g.id, 'c', '${uid}', 'openid', ${at} FROM grants g WHERE g.client_id = '${tag}-${kind}';
      INSERT INTO sessions (token_hash, user_id, auth_time, idle_expires_at, expires_at)
        SELECT '${tag}-${kind}-' || i, '${uid}', now(), ${at}, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO interactions (id_hash, client_id, params, csrf_hash, expires_at)
        SELECT '${tag}-${kind}-' || i, 'c', '{}', 'h', ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO client_assertion_jtis (jti_hash, client_id, expires_at)
        SELECT '${tag}-${kind}-' || i, 'c', ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO dpop_jtis (jti_hash, expires_at)
        SELECT '${tag}-${kind}-' || i, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO device_codes (device_code_hash, user_code_hash, client_id, scope, interval_seconds, expires_at)
        SELECT '${tag}-${kind}-' || i, '${tag}-${kind}-u' || i, 'c', 'openid', 5, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO webauthn_challenges (challenge_hash, purpose, expires_at)
        SELECT '${tag}-${kind}-' || i, 'authenticate', ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO pushed_authorization_requests (request_uri_hash, client_id, params, expires_at)
        SELECT '${tag}-${kind}-' || i, 'c', '{}', ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO rate_limits (key, window_start, count)
        SELECT '${tag}-${kind}-' || i, ${kind === "x" ? EXPIRED : "now()"}, 3 FROM generate_series(1, ${n}) i;
      INSERT INTO login_failures (key, failures, last_failure_at, locked_until)
        SELECT '${tag}-${kind}-' || i, 2, ${kind === "x" ? EXPIRED : "now()"}, ${kind === "x" ? "NULL" : LIVE} FROM generate_series(1, ${n}) i;
      INSERT INTO login_known_sources (user_id, source, expires_at)
        SELECT '${uid}', '${tag}-${kind}-' || i, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO registration_tokens (token_hash, max_uses, expires_at)
        SELECT '${tag}-${kind}-' || i, 1, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO upstream_logout_jtis (idp_id, jti_hash, expires_at)
        SELECT '${idp!.id}', '${tag}-${kind}-' || i, ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO signup_requests (token_hash, username, email, password_hash, expires_at)
        SELECT '${tag}-${kind}-' || i, 'u' || i, 'u' || i || '@example.test', 'h', ${at} FROM generate_series(1, ${n}) i;
      INSERT INTO signup_invites (token_hash, email, mailed, expires_at)
        SELECT '${tag}-${kind}-' || i, 'u' || i || '@example.test', false, ${at} FROM generate_series(1, ${n}) i;
    `);
  }
}

const TABLES = PURGE_RULES.map((r) => r.table);

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const [r] = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = r!.n;
  }
  return out;
}

describe("purge of expired rows", () => {
  test("deletes every expired row and keeps every live one, in every table", async () => {
    await sql.unsafe(TABLES.map((x) => `DELETE FROM ${x};`).join(""));
    await seed(7, "a");
    const report = await purgeExpired(t.deps, { batchSize: 3 });
    const after = await counts();
    for (const table of TABLES) expect({ table, left: after[table] }).toEqual({ table, left: 7 });
    expect(report.unfinished).toEqual([]);
    // Live rows are exactly the ones left.
    const [stale] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions WHERE expires_at < now()`;
    expect(stale!.n).toBe(0);
    expect(report.deleted.authorization_codes).toBe(7);
    expect(report.deleted.rate_limits).toBe(7);
  });

  test("a run is bounded: at most batchSize x maxBatches rows per table, the rest next time", async () => {
    await sql.unsafe(TABLES.map((x) => `DELETE FROM ${x};`).join(""));
    await seed(10, "b");
    const first = await purgeExpired(t.deps, { batchSize: 2, maxBatches: 2 });
    expect(first.deleted.authorization_codes).toBe(4);
    expect(first.unfinished).toContain("authorization_codes");
    const second = await purgeExpired(t.deps, { batchSize: 100 });
    expect(second.unfinished).toEqual([]);
    const after = await counts();
    for (const table of TABLES) expect({ table, left: after[table] }).toEqual({ table, left: 10 });
  });

  test("keeps a code and a refresh token for the grace period past expiry (replay detection)", async () => {
    await sql.unsafe(TABLES.map((x) => `DELETE FROM ${x};`).join(""));
    await sql`INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, auth_time, expires_at)
              VALUES ('just-expired', 'c', ${uid}, 'https://rp/cb', 'openid', 'x', now(), now() - interval '1 minute')`;
    await purgeExpired(t.deps, { graceSeconds: 3600 });
    expect((await counts()).authorization_codes).toBe(1);
    await purgeExpired(t.deps, { graceSeconds: 0 });
    expect((await counts()).authorization_codes).toBe(0);
  });

  test("runs concurrently on several nodes without errors or double work", async () => {
    await sql.unsafe(TABLES.map((x) => `DELETE FROM ${x};`).join(""));
    await seed(40, "c");
    const nodes = [0, 1, 2].map(() => createSql({ url: t.db.url, pool: POOL_SETTINGS.testing }));
    try {
      const reports = await Promise.all(nodes.map((n) => purgeExpired({ ...t.deps, sql: n }, { batchSize: 5 })));
      for (const table of TABLES) {
        const total = reports.reduce((a, r) => a + (r.deleted[table] ?? 0), 0);
        // Grants cascade to their tokens, so token tables may be emptied by the grants rule.
        if (!["refresh_tokens", "access_tokens"].includes(table)) expect({ table, total }).toEqual({ table, total: 40 });
      }
      const after = await counts();
      for (const table of TABLES) expect({ table, left: after[table] }).toEqual({ table, left: 40 });
    } finally {
      await Promise.all(nodes.map((n) => n.end({ timeout: 1 })));
    }
  });

  test("the scheduled job survives an unreachable database and stops cleanly", async () => {
    const dead = createSql({ url: "postgresql://postgres@127.0.0.1:1/none", pool: { ...POOL_SETTINGS.testing, connectTimeout: 2 } });
    const job = startPurgeJob({ ...t.deps, sql: dead }, 3600);
    expect(await job.runNow()).toBeUndefined();
    await job.stop();
    await dead.end({ timeout: 0 });
    const live = startPurgeJob(t.deps, 3600);
    const report = await live.runNow();
    expect(report?.deleted).toBeDefined();
    await live.stop();
  });
});
