// SQL of self sign-up (issue 17): pending sign-ups waiting for their address (no account exists
// until the link is followed) and admins' invite links. Tokens are stored as HMACs, single-use,
// with an expiry; "live" means unused and unexpired.
import type { Tx } from "../db/sql";

export interface SignupRequestRow {
  username: string;
  email: string;
  password_hash: string;
  name: string | null;
  interaction: string | null;
}

export async function insertSignupRequest(sql: Tx, r: SignupRequestRow & { hash: string; ttlSeconds: number }): Promise<void> {
  await sql`INSERT INTO signup_requests (token_hash, username, email, password_hash, name, interaction, expires_at)
            VALUES (${r.hash}, ${r.username}, ${r.email}, ${r.password_hash}, ${r.name}, ${r.interaction}, now() + make_interval(secs => ${r.ttlSeconds}))`;
}

export async function peekSignupRequest(sql: Tx, hash: string): Promise<(SignupRequestRow & { created_at: Date }) | undefined> {
  const [row] = await sql<(SignupRequestRow & { created_at: Date })[]>`
    SELECT username, email, password_hash, name, interaction, created_at FROM signup_requests WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > now()`;
  return row;
}

/** Uses a live request: exactly one caller gets its row; the password hash is cleared from it. */
export async function consumeSignupRequest(sql: Tx, hash: string): Promise<SignupRequestRow | undefined> {
  const [row] = await sql<SignupRequestRow[]>`
    UPDATE signup_requests r SET used_at = now(), password_hash = ''
    FROM (SELECT token_hash, password_hash FROM signup_requests WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > now() FOR UPDATE) old
    WHERE r.token_hash = old.token_hash
    RETURNING r.username, r.email, old.password_hash, r.name, r.interaction`;
  return row;
}

export interface InviteRow {
  id: string;
  email: string;
  mailed: boolean;
  expires_at: Date;
}

export async function insertInvite(sql: Tx, i: { hash: string; email: string; mailed: boolean; createdBy: string | null; ttlSeconds: number }): Promise<InviteRow> {
  const [row] = await sql<InviteRow[]>`
    INSERT INTO signup_invites (token_hash, email, mailed, created_by, expires_at)
    VALUES (${i.hash}, ${i.email}, ${i.mailed}, ${i.createdBy}, now() + make_interval(secs => ${i.ttlSeconds}))
    RETURNING id, email, mailed, expires_at`;
  return row!;
}

export async function peekInvite(sql: Tx, hash: string): Promise<InviteRow | undefined> {
  const [row] = await sql<InviteRow[]>`
    SELECT id, email, mailed, expires_at FROM signup_invites WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > now()`;
  return row;
}

/** Uses a live invite for the account `userId` (run in the transaction that creates it). */
export async function consumeInvite(sql: Tx, hash: string, userId: string): Promise<InviteRow | undefined> {
  const [row] = await sql<InviteRow[]>`
    UPDATE signup_invites SET used_at = now(), used_by = ${userId}
    WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > now()
    RETURNING id, email, mailed, expires_at`;
  return row;
}
