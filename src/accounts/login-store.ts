// SQL of login throttling (table login_failures) and of the login bookkeeping on users
// (last_login_at, password rehash). Keys: "account:<user id or login>" and "source:<ip>".
import type { Tx } from "../db/sql";

/** The latest lockout still in force among `keys`, or null. */
export async function activeLockout(sql: Tx, keys: string[]): Promise<Date | null> {
  const [row] = await sql<{ until: Date | null }[]>`
    SELECT max(locked_until) AS until FROM login_failures WHERE key IN ${sql(keys)} AND locked_until > now()`;
  return row?.until ?? null;
}

/**
 * Counts one failure for `key` (failures older than `windowSeconds`, or from before an expired
 * lockout, start again at one) and locks the key for `lockoutSeconds` once `max` is reached.
 */
export async function recordLoginFailure(sql: Tx, key: string, max: number, windowSeconds: number, lockoutSeconds: number): Promise<{ failures: number; lockedUntil: Date | null }> {
  const [row] = await sql<{ failures: number; locked_until: Date | null }[]>`
    INSERT INTO login_failures AS f (key, failures, last_failure_at, locked_until)
    VALUES (${key}, 1, now(), CASE WHEN 1 >= ${max} THEN now() + make_interval(secs => ${lockoutSeconds}) END)
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN f.last_failure_at < now() - make_interval(secs => ${windowSeconds}) OR f.locked_until <= now() THEN 1 ELSE f.failures + 1 END,
      last_failure_at = now(),
      locked_until = CASE
        WHEN (CASE WHEN f.last_failure_at < now() - make_interval(secs => ${windowSeconds}) OR f.locked_until <= now() THEN 1 ELSE f.failures + 1 END) >= ${max}
        THEN now() + make_interval(secs => ${lockoutSeconds}) END
    RETURNING failures, locked_until`;
  return { failures: row!.failures, lockedUntil: row!.locked_until };
}

export async function clearLoginFailures(sql: Tx, key: string): Promise<void> {
  await sql`DELETE FROM login_failures WHERE key = ${key}`;
}

/** Records a successful login; replaces the password hash when it was rehashed. */
export async function markLoggedIn(sql: Tx, userId: string, newPasswordHash?: string): Promise<void> {
  if (newPasswordHash) await sql`UPDATE users SET last_login_at = now(), password_hash = ${newPasswordHash} WHERE id = ${userId}`;
  else await sql`UPDATE users SET last_login_at = now() WHERE id = ${userId}`;
}
