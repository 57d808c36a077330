// SQL of the self-service tokens (password reset, email verification): single-use, stored as an
// HMAC of the token (never the token), with an expiry; a newer token of the same purpose replaces
// the older ones of the account.
import type { Tx } from "../db/sql";
import type { UserRecord } from "../accounts/model";

export type AccountTokenPurpose = "password_reset" | "email_verification" | "email_change";

export async function findActiveUserByEmail(sql: Tx, email: string): Promise<UserRecord | undefined> {
  const [row] = await sql<UserRecord[]>`SELECT * FROM users WHERE lower(email) = lower(${email}) AND is_active`;
  return row;
}

/** Stores a new token and invalidates the account's earlier unused ones of the same purpose. */
export async function replaceAccountToken(sql: Tx, t: { hash: string; purpose: AccountTokenPurpose; userId: string; email: string | null; ttlSeconds: number }): Promise<void> {
  await sql`UPDATE account_tokens SET used_at = now() WHERE user_id = ${t.userId} AND purpose = ${t.purpose} AND used_at IS NULL`;
  await sql`INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at)
            VALUES (${t.hash}, ${t.purpose}, ${t.userId}, ${t.email}, now() + make_interval(secs => ${t.ttlSeconds}))`;
}

/** A live token (unused, unexpired) of an active account, without using it. */
export async function peekAccountToken(sql: Tx, hash: string, purpose: AccountTokenPurpose): Promise<{ user_id: string; email: string | null } | undefined> {
  const [row] = await sql<{ user_id: string; email: string | null }[]>`
    SELECT t.user_id, t.email FROM account_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ${hash} AND t.purpose = ${purpose} AND t.used_at IS NULL AND t.expires_at > now() AND u.is_active`;
  return row;
}

/** Uses a live token: exactly one caller gets its row. */
export async function consumeAccountToken(sql: Tx, hash: string, purpose: AccountTokenPurpose): Promise<{ user_id: string; email: string | null } | undefined> {
  const [row] = await sql<{ user_id: string; email: string | null }[]>`
    UPDATE account_tokens SET used_at = now()
    WHERE token_hash = ${hash} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()
    RETURNING user_id, email`;
  return row;
}

/** Marks the address verified if it is still the account's address (a later change makes the link stale). */
export async function markEmailVerified(sql: Tx, userId: string, email: string): Promise<boolean> {
  const rows = await sql`UPDATE users SET email_verified = true, updated_at = now() WHERE id = ${userId} AND lower(email) = lower(${email}) RETURNING id`;
  return rows.length === 1;
}
