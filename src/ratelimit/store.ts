// SQL of the shared fixed-window counters (table rate_limits): one row per key and window.
import { outsideRequestDeadline, type Tx } from "../db/sql";

/** Adds one hit to the key's current window and returns the new count. One round trip: the hit
 *  counts even when the request then misses its deadline (db/sql.ts outsideRequestDeadline). */
export async function hit(sql: Tx, key: string, windowStart: Date): Promise<number> {
  const [row] = await outsideRequestDeadline(() => sql<{ count: number }[]>`
    INSERT INTO rate_limits (key, window_start, count) VALUES (${key}, ${windowStart}, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
    RETURNING count`);
  return row!.count;
}
