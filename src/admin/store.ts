// SQL behind /admin/status: counts of clients, scopes, users and live access tokens.
import type { Tx } from "../db/sql";

export interface StatusCounts {
  clients: number;
  active_clients: number;
  scopes: number;
  active_scopes: number;
  users: number;
  active_users: number;
  active_tokens: number;
}

export async function statusCounts(sql: Tx): Promise<StatusCounts> {
  const [row] = await sql<StatusCounts[]>`
    SELECT
      (SELECT count(*)::int FROM clients) AS clients,
      (SELECT count(*)::int FROM clients WHERE is_active) AS active_clients,
      (SELECT count(*)::int FROM scopes) AS scopes,
      (SELECT count(*)::int FROM scopes WHERE is_active) AS active_scopes,
      (SELECT count(*)::int FROM users) AS users,
      (SELECT count(*)::int FROM users WHERE is_active) AS active_users,
      -- A user's access tokens of a grant and client tokens are not recorded (tokens/access-token.ts):
      -- live grants (token families) stand for the first, recorded live tokens are the rest.
      (SELECT count(*)::int FROM grants WHERE revoked_at IS NULL AND expires_at > now())
        + (SELECT count(*)::int FROM access_tokens WHERE revoked_at IS NULL AND expires_at > now()) AS active_tokens`;
  return row!;
}

/** Server connections of this application (every worker and node): open and busy right now. */
export async function connectionCounts(sql: Tx): Promise<{ open: number; active: number }> {
  const [row] = await sql<{ open: number; active: number }[]>`
    SELECT count(*)::int AS open, count(*) FILTER (WHERE state = 'active')::int AS active
    FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'authly'`;
  return row!;
}

/** Serialises bootstrap and seeding across workers and nodes (released at commit). */
export async function lockBootstrap(sql: Tx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('authly_bootstrap:' || current_schema()))`;
}
