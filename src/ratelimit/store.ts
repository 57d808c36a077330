// SQL of the shared fixed-window counters (table rate_limits): one row per key and window.
import type { Tx } from "../db/sql";

/** Adds one hit to the key's current window and returns the new count. */
export async function hit(sql: Tx, key: string, windowStart: Date): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    INSERT INTO rate_limits (key, window_start, count) VALUES (${key}, ${windowStart}, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
    RETURNING count`;
  return row!.count;
}

/** Deletes windows that ended before `before`, at most `limit` rows (bounded batches). */
export async function purgeWindows(sql: Tx, before: Date, limit = 5000): Promise<number> {
  const r = await sql`
    DELETE FROM rate_limits WHERE ctid IN (SELECT ctid FROM rate_limits WHERE window_start < ${before} LIMIT ${limit})`;
  return r.count;
}
