// SQL of login throttling (tables login_failures and login_known_sources, migration 0004) and of
// the login bookkeeping on users (last_login_at, password rehash). Counter keys: "pair:<account>@<source>",
// "source:<source>", "account:<account>" (src/accounts/authenticate.ts says what each one does).
import type { Tx } from "../db/sql";

/** The user id that matches no user: unknown login names look known sources up like real ones. */
export const NO_USER_ID = "00000000-0000-0000-0000-000000000000";

export interface ThrottleState {
  pairUntil: Date | null;
  sourceUntil: Date | null;
  accountUntil: Date | null;
  /** The account signed in from this source before (and that is still remembered). */
  knownSource: boolean;
}

/** The throttles in force for one attempt, in one round trip. */
export async function readThrottle(sql: Tx, keys: { pair: string; source: string; account: string }, userId: string, source: string): Promise<ThrottleState> {
  const [row] = await sql<{ pair_until: Date | null; source_until: Date | null; account_until: Date | null; known: boolean }[]>`
    SELECT
      (SELECT locked_until FROM login_failures WHERE key = ${keys.pair} AND locked_until > now()) AS pair_until,
      (SELECT locked_until FROM login_failures WHERE key = ${keys.source} AND locked_until > now()) AS source_until,
      (SELECT locked_until FROM login_failures WHERE key = ${keys.account} AND locked_until > now()) AS account_until,
      EXISTS (SELECT 1 FROM login_known_sources WHERE user_id = ${userId} AND source = ${source} AND expires_at > now()) AS known`;
  return { pairUntil: row!.pair_until, sourceUntil: row!.source_until, accountUntil: row!.account_until, knownSource: row!.known };
}

export interface FailurePolicy {
  /** Failures within the window at which the key starts being held. */
  threshold: number;
  windowSeconds: number;
  /** "lock": held for `lockSeconds` once the threshold is reached, then counted again from one.
   *  "slow": held for 2^(failures - threshold) seconds, at most `lockSeconds`; the count only
   *  starts again after a whole window without a failure, so a steady attack stays at the cap. */
  kind: "lock" | "slow";
  lockSeconds: number;
}

/** Counts one failure for `key` and holds it as the policy says. */
export async function recordLoginFailure(sql: Tx, key: string, account: string | null, p: FailurePolicy): Promise<{ failures: number; lockedUntil: Date | null }> {
  const restart = p.kind === "lock"
    ? sql`f.last_failure_at < now() - make_interval(secs => ${p.windowSeconds}) OR f.locked_until <= now()`
    : sql`f.last_failure_at < now() - make_interval(secs => ${p.windowSeconds})`;
  const count = sql`(CASE WHEN ${restart} THEN 1 ELSE f.failures + 1 END)`;
  // `n` is a fragment of this same query (postgres.js nests them; its types do not say so).
  const hold = (n: unknown) => p.kind === "lock"
    ? sql`CASE WHEN ${n as typeof count} >= ${p.threshold} THEN now() + make_interval(secs => ${p.lockSeconds}) END`
    : sql`CASE WHEN ${n as typeof count} >= ${p.threshold} THEN now() + make_interval(secs => least(power(2, ${n as typeof count} - ${p.threshold}), ${p.lockSeconds})) END`;
  const [row] = await sql<{ failures: number; locked_until: Date | null }[]>`
    INSERT INTO login_failures AS f (key, account, failures, last_failure_at, locked_until)
    VALUES (${key}, ${account}, 1, now(), ${hold(sql`1`)})
    ON CONFLICT (key) DO UPDATE SET
      failures = ${count},
      last_failure_at = now(),
      locked_until = ${hold(count)}
    RETURNING failures, locked_until`;
  return { failures: row!.failures, lockedUntil: row!.locked_until };
}

export async function clearLoginFailures(sql: Tx, key: string): Promise<void> {
  await sql`DELETE FROM login_failures WHERE key = ${key}`;
}

/**
 * Remembers that the account signed in from `source` (for `days` from now). A source already
 * remembered is renewed only when its term was set more than `renewSeconds` ago: the row is indexed
 * by expires_at, so each renewal writes a new row version and two index entries (no HOT update),
 * and most sign-ins come from a source that signed in a moment before. A source is then forgotten
 * at most `renewSeconds` sooner than `days` after its last sign-in, never later.
 */
export async function rememberSource(sql: Tx, userId: string, source: string, days: number, renewSeconds: number): Promise<void> {
  await sql`
    INSERT INTO login_known_sources AS k (user_id, source, expires_at) VALUES (${userId}, ${source}, now() + make_interval(days => ${days}))
    ON CONFLICT (user_id, source) DO UPDATE SET expires_at = EXCLUDED.expires_at
      WHERE k.expires_at < EXCLUDED.expires_at - make_interval(secs => ${renewSeconds})`;
}

export interface AccountLock {
  account: string;
  /** The latest moment a throttle of this account stays in force. */
  until: Date;
  /** Failures counted in the current window, over every source. */
  failures: number;
  /** Sources locked out of this account. */
  lockedSources: number;
  /** The account-wide slow-down is in force. */
  slowedDown: boolean;
}

/** The throttles in force for these accounts (user ids); accounts with none are absent. */
export async function findAccountLocks(sql: Tx, accounts: string[], windowSeconds: number): Promise<AccountLock[]> {
  if (!accounts.length) return [];
  const rows = await sql<{ account: string; until: Date | null; failures: number; locked_sources: number; slowed: boolean }[]>`
    SELECT account,
      max(locked_until) FILTER (WHERE locked_until > now()) AS until,
      coalesce(max(failures) FILTER (WHERE key = 'account:' || account AND last_failure_at > now() - make_interval(secs => ${windowSeconds})), 0)::int AS failures,
      (count(*) FILTER (WHERE key <> 'account:' || account AND locked_until > now()))::int AS locked_sources,
      coalesce(bool_or(key = 'account:' || account AND locked_until > now()), false) AS slowed
    FROM login_failures WHERE account IN ${sql(accounts)}
    GROUP BY account`;
  return rows.filter((r) => r.until).map((r) => ({ account: r.account, until: r.until!, failures: r.failures, lockedSources: r.locked_sources, slowedDown: r.slowed }));
}

/** Deletes every counter of the account (all sources); returns how many there were. */
export async function clearAccountFailures(sql: Tx, account: string): Promise<number> {
  return (await sql`DELETE FROM login_failures WHERE account = ${account}`).count;
}

/** Records a successful login; replaces the password hash when it was rehashed. */
export async function markLoggedIn(sql: Tx, userId: string, newPasswordHash?: string): Promise<void> {
  if (newPasswordHash) await sql`UPDATE users SET last_login_at = now(), password_hash = ${newPasswordHash} WHERE id = ${userId}`;
  else await sql`UPDATE users SET last_login_at = now() WHERE id = ${userId}`;
}
