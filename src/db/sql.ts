// postgres.js pool built from the mode's pool settings (modes.ts). Store functions take `sql` as
// their first argument so that they also run inside `sql.begin(tx => ...)`.
import postgres from "postgres";
import type { PoolSettings } from "../modes";

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>> | Sql;

export interface SqlOptions {
  url: string;
  pool: PoolSettings;
  /** Schema to put first on search_path (tests: one schema per test file). */
  schema?: string;
  applicationName?: string;
}

export function createSql(opts: SqlOptions): Sql {
  return postgres(opts.url, {
    max: opts.pool.max,
    idle_timeout: opts.pool.idleTimeout,
    connect_timeout: opts.pool.connectTimeout,
    max_lifetime: 60 * 30,
    // postgres.js's default reconnect back-off (3^n / 100 s, shared by the pool) reaches 20 s after a
    // few failed connects: requests then queued that long during an outage, and recovery after the
    // database returned took as long. Capped at 1 s so Authly answers 503 fast and recovers fast.
    backoff: reconnectBackoff,
    onnotice: () => {},
    prepare: true,
    connection: {
      application_name: opts.applicationName ?? "authly",
      ...(opts.schema ? { search_path: opts.schema } : {}),
    },
    types: {},
  }) as unknown as Sql;
}

/** Seconds before a reconnect attempt after `retries` failures: 50 ms doubling, at most 1 s, jittered. */
export function reconnectBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

/** Pool figures for /admin/status; postgres.js exposes no counters, so report the settings. */
export function describePool(pool: PoolSettings) {
  return { min: pool.min, max: pool.max, connect_timeout_seconds: pool.connectTimeout, idle_timeout_seconds: pool.idleTimeout };
}

/** Redacts the password of a database URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** One round trip: proves the database answers. */
export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
