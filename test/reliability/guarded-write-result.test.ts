// A write guarded by the request deadline (db/sql.ts) answers like the unguarded one: its rows and
// its row count (stores decide "did anything change" from `count`: a consumed interaction, a
// revoked token).
import { afterAll, expect, test } from "bun:test";
import { createSql, runWithDeadline } from "../../src/db/sql";
import { POOL_SETTINGS } from "../../src/modes";
import { createTestDatabase } from "../support/db";

// Migrated: a guarded single statement commits through authly_commit_deadline (migration 0008).
const db = await createTestDatabase();
const sql = createSql({ url: db.url, pool: POOL_SETTINGS.testing });
afterAll(() => sql.end({ timeout: 1 }));

test("a single-statement write inside a request keeps its row count and rows", async () => {
  await sql`CREATE TABLE guarded_probe (id int PRIMARY KEY, v text)`;
  await sql`INSERT INTO guarded_probe VALUES (1, 'a'), (2, 'b')`;
  const { result } = runWithDeadline(10_000, () => sql`UPDATE guarded_probe SET v = 'c' WHERE id <= 2 RETURNING id`);
  const r = (await result) as unknown as { count: number; length: number };
  expect(r.count).toBe(2);
  expect(r.length).toBe(2);
  const { result: none } = runWithDeadline(10_000, () => sql`DELETE FROM guarded_probe WHERE id = 99`);
  expect(((await none) as unknown as { count: number }).count).toBe(0);
});

test("a transaction inside a request returns what its callback returned", async () => {
  const { result } = runWithDeadline(10_000, () => sql.begin((tx) => tx`UPDATE guarded_probe SET v = 'd' WHERE id = 1`));
  expect(((await result) as unknown as { count: number }).count).toBe(1);
});
