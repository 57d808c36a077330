// SQL of user accounts (table users), and of what the admin API shows and revokes per user
// (sessions, grants, tokens). Unique violations become ConflictError.
import type { Tx } from "../db/sql";
import { ConflictError } from "../errors";
import { hasUuidShape } from "../lib/text";
import type { UserRecord } from "./model";

export async function findUserById(sql: Tx, id: string): Promise<UserRecord | undefined> {
  if (!hasUuidShape(id)) return undefined;
  const [row] = await sql<UserRecord[]>`SELECT * FROM users WHERE id = ${id}`;
  return row;
}

/** Login name: username or email, case-insensitive. */
export async function findUserByLogin(sql: Tx, login: string): Promise<UserRecord | undefined> {
  const [row] = await sql<UserRecord[]>`
    SELECT * FROM users WHERE lower(username) = lower(${login}) OR lower(email) = lower(${login})
    ORDER BY (lower(username) = lower(${login})) DESC LIMIT 1`;
  return row;
}

// ---- Admin writes ----

/** Columns an admin can set on a user (plus password_hash). */
export type UserColumns = Partial<Omit<UserRecord, "id" | "created_at" | "updated_at" | "last_login_at">>;

function conflict(err: unknown): never {
  const e = err as { code?: string; constraint_name?: string };
  if (e.code === "23505") {
    throw new ConflictError(e.constraint_name?.includes("email") ? "A user with this email already exists" : "A user with this username already exists");
  }
  throw err;
}

function columnsOf(sql: Tx, c: UserColumns): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    out[k] = k === "address" && v !== null ? sql.json(v as never) : v;
  }
  return out;
}

export async function insertUser(sql: Tx, c: UserColumns & { username: string }): Promise<UserRecord> {
  const cols = columnsOf(sql, c);
  try {
    const [row] = await sql<UserRecord[]>`INSERT INTO users ${sql(cols as never, Object.keys(cols) as never)} RETURNING *`;
    return row!;
  } catch (err) {
    conflict(err);
  }
}

/** Inserts unless the username is taken (bootstrap, seed); the row, or undefined when it existed. */
export async function insertUserIfMissing(sql: Tx, c: UserColumns & { username: string }): Promise<UserRecord | undefined> {
  const cols = columnsOf(sql, c);
  const [row] = await sql<UserRecord[]>`INSERT INTO users ${sql(cols as never, Object.keys(cols) as never)} ON CONFLICT DO NOTHING RETURNING *`;
  return row;
}

export async function updateUser(sql: Tx, id: string, c: UserColumns): Promise<UserRecord | undefined> {
  const cols = columnsOf(sql, c);
  if (!Object.keys(cols).length) return findUserById(sql, id);
  try {
    const [row] = await sql<UserRecord[]>`
      UPDATE users SET ${sql(cols as never, Object.keys(cols) as never)}, updated_at = now() WHERE id = ${id} RETURNING *`;
    return row;
  } catch (err) {
    conflict(err);
  }
}

export async function lockUser(sql: Tx, id: string): Promise<UserRecord | undefined> {
  if (!hasUuidShape(id)) return undefined;
  const [row] = await sql<UserRecord[]>`SELECT * FROM users WHERE id = ${id} FOR UPDATE`;
  return row;
}

/** Serialises changes to who is an active admin (held until commit), so that two admins cannot
 *  demote each other at once and leave none. Take it before locking any user row. */
export async function lockAdminSet(sql: Tx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('authly_admin_set:' || current_schema()))`;
}

/** Active admins other than `exceptId` (call under lockAdminSet). */
export async function countOtherActiveAdmins(sql: Tx, exceptId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE is_admin AND is_active AND id <> ${exceptId}`;
  return row!.n;
}

export async function countAdmins(sql: Tx): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE is_admin`;
  return row!.n;
}

export async function listUsers(sql: Tx, opts: { q?: string; includeInactive: boolean; limit: number; offset: number }): Promise<{ rows: UserRecord[]; total: number }> {
  const like = opts.q ? `%${opts.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : null;
  const where = sql`(${opts.includeInactive} OR is_active) AND (${like}::text IS NULL OR username ILIKE ${like} OR email ILIKE ${like} OR name ILIKE ${like})`;
  const rows = await sql<UserRecord[]>`SELECT * FROM users WHERE ${where} ORDER BY created_at, id LIMIT ${opts.limit} OFFSET ${opts.offset}`;
  const [count] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE ${where}`;
  return { rows, total: count!.n };
}

/** Hard delete; sessions, grants, codes and consents go with the row (ON DELETE CASCADE). */
export async function deleteUser(sql: Tx, id: string): Promise<void> {
  await sql`DELETE FROM access_tokens WHERE user_id = ${id}`;
  await sql`DELETE FROM refresh_tokens WHERE user_id = ${id}`;
  await sql`DELETE FROM users WHERE id = ${id}`;
}

// ---- A user's sessions and grants (admin view and revocation) ----

export interface UserSessionRow {
  id: string;
  auth_time: Date;
  amr: string[];
  user_agent: string | null;
  source_ip: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

export interface UserGrantRow {
  id: string;
  client_id: string;
  grant_type: string;
  scope: string;
  created_at: Date;
  expires_at: Date;
  active_access_tokens: number;
  active_refresh_tokens: number;
}

export async function listUserSessions(sql: Tx, userId: string): Promise<UserSessionRow[]> {
  return sql<UserSessionRow[]>`
    SELECT id, auth_time, amr, user_agent, source_ip, created_at, last_seen_at, expires_at FROM sessions
    WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now() AND idle_expires_at > now()
    ORDER BY created_at DESC`;
}

export async function listUserGrants(sql: Tx, userId: string): Promise<UserGrantRow[]> {
  return sql<UserGrantRow[]>`
    SELECT g.id, g.client_id, g.grant_type, g.scope, g.created_at, g.expires_at,
      (SELECT count(*)::int FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > now()) AS active_access_tokens,
      (SELECT count(*)::int FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked_at IS NULL AND r.rotated_at IS NULL AND r.expires_at > now()) AS active_refresh_tokens
    FROM grants g
    WHERE g.user_id = ${userId} AND g.revoked_at IS NULL AND g.expires_at > now()
    ORDER BY g.created_at DESC`;
}

/** Ids of a user's sessions not revoked yet (what a hard delete ends; for back-channel logout). */
export async function findUnrevokedSessionIds(sql: Tx, userId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`SELECT id FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`;
  return rows.map((r) => r.id);
}

/** What a revocation of a user's sessions leaves alone: the caller's own access token, its grant
 *  (refresh family) and the browser session that grant came from (a password change keeps them). */
export interface KeptAccess {
  jti?: string | null;
  grantId?: string | null;
  sessionId?: string | null;
}

/** Ends every session and revokes every grant and token of a user, and voids a pending email
 *  change. Run inside a transaction. `sessionIds` are the sessions it ended. */
export async function revokeUserSessions(sql: Tx, userId: string, reason: string, keep: KeptAccess = {}): Promise<{ sessions: number; sessionIds: string[]; grants: number; accessTokens: number }> {
  const session = keep.sessionId ?? null;
  const grant = keep.grantId ?? null;
  const jti = keep.jti ?? null;
  const s = await sql<{ id: string }[]>`
    UPDATE sessions SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL AND (${session}::uuid IS NULL OR id <> ${session}::uuid) RETURNING id`;
  const g = await sql`
    UPDATE grants SET revoked_at = now(), revoked_reason = ${reason} WHERE user_id = ${userId} AND revoked_at IS NULL AND (${grant}::uuid IS NULL OR id <> ${grant}::uuid)`;
  await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL AND (${grant}::uuid IS NULL OR grant_id <> ${grant}::uuid)`;
  // A pending email change was asked for under the old credentials (perhaps by whoever had them):
  // its link must not move the account to another address after the access was taken back.
  await sql`UPDATE account_tokens SET used_at = now() WHERE user_id = ${userId} AND purpose = 'email_change' AND used_at IS NULL`;
  const a = await sql`
    UPDATE access_tokens SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now()
      AND (${jti}::text IS NULL OR jti <> ${jti}::text) AND (${grant}::uuid IS NULL OR grant_id IS NULL OR grant_id <> ${grant}::uuid)`;
  return { sessions: s.count, sessionIds: s.map((r) => r.id), grants: g.count, accessTokens: a.count };
}

/** The grant and browser session of one of the user's access tokens: the grant it names (`gid`),
 *  else the grant of its record (none for a token without a grant). */
export async function findAccessTokenOrigin(sql: Tx, userId: string, jti: string, grantId?: string | null): Promise<KeptAccess> {
  const [row] = grantId
    ? await sql<{ grant_id: string | null; session_id: string | null }[]>`
        SELECT g.id AS grant_id, g.session_id FROM grants g WHERE g.id = ${grantId}::uuid AND g.user_id = ${userId}`
    : await sql<{ grant_id: string | null; session_id: string | null }[]>`
        SELECT a.grant_id, g.session_id FROM access_tokens a LEFT JOIN grants g ON g.id = a.grant_id
        WHERE a.jti = ${jti} AND a.user_id = ${userId}`;
  return { jti, grantId: row?.grant_id ?? null, sessionId: row?.session_id ?? null };
}
