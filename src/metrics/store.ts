// The database side of /metrics: Authly's own connections as PostgreSQL sees them.
import type { Sql } from "../db/sql";

/** Connections named `authly` in this database, by state (active, idle, idle in transaction ...). */
export async function countConnections(sql: Sql): Promise<{ state: string; n: number }[]> {
  return sql<{ state: string; n: number }[]>`
    SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n
    FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'authly'
    GROUP BY 1`;
}
