import { describe, expect, test } from "bun:test";
import { createTestDatabase } from "../support/db";
import { createSql } from "../../src/db/sql";
import { migrate, migrationStatus } from "../../src/db/migrate";
import { MIGRATIONS } from "../../src/db/migrations";
import { POOL_SETTINGS } from "../../src/modes";

describe("migrations", () => {
  test("racing starters apply each migration exactly once (advisory lock)", async () => {
    const db = await createTestDatabase({ migrated: false });
    const pools = Array.from({ length: 4 }, () => createSql({ url: db.url, pool: POOL_SETTINGS.testing }));
    const results = await Promise.all(pools.map((p) => migrate(p)));
    await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
    const appliedNow = results.flat().map((m) => m.version).sort((x, y) => x - y); // numeric: 12 after 9
    expect(appliedNow).toEqual(MIGRATIONS.map((m) => m.version));
    const rows = await db.sql<{ version: number; n: number }[]>`SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version`;
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(rows.length).toBe(MIGRATIONS.length);
  });

  test("status lists applied migrations; a second run applies nothing", async () => {
    const db = await createTestDatabase();
    expect(await migrate(db.sql)).toEqual([]);
    const status = await migrationStatus(db.sql);
    expect(status.every((s) => s.applied && s.applied_at)).toBe(true);
  });

  test("a migration changed after it was applied is refused", async () => {
    const db = await createTestDatabase();
    const changed = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: m.sql + "\n-- edited" } : m));
    await expect(migrate(db.sql, changed)).rejects.toThrow(/changed after it was applied/);
  });

  test("a failing migration leaves nothing half-applied", async () => {
    const db = await createTestDatabase();
    const broken = [...MIGRATIONS, { version: 999, name: "0999_broken", sql: "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;" }];
    await expect(migrate(db.sql, broken)).rejects.toThrow();
    const [t] = await db.sql<{ t: string | null }[]>`SELECT to_regclass('half_done')::text AS t`;
    expect(t!.t).toBeNull();
    const [v] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations WHERE version = 999`;
    expect(v!.n).toBe(0);
  });
});

describe("database engine under concurrency", () => {
  test("many pools querying at once never see each other's statements", async () => {
    const db = await createTestDatabase();
    const pools = Array.from({ length: 3 }, () => createSql({ url: db.url, pool: POOL_SETTINGS.testing }));
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => pools[i % 3]!<{ v: number; s: string }[]>`SELECT ${i}::int AS v, ${"x" + i}::text AS s`),
    );
    await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
    results.forEach((rows, i) => expect(rows[0]).toEqual({ v: i, s: "x" + i }));
  });
});
