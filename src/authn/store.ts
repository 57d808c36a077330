// SQL of the sign-in factors (migration 0005): TOTP secrets, recovery codes, WebAuthn credentials
// and their single-use challenges.
import type { Tx } from "../db/sql";
import { ConflictError } from "../errors";

export interface TotpRow {
  user_id: string;
  secret_encrypted: string;
  confirmed_at: Date | null;
  last_used_step: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export interface CredentialRow {
  id: string;
  user_id: string;
  name: string;
  public_key: string;
  sign_count: string;
  transports: string[];
  device_type: "singleDevice" | "multiDevice";
  backed_up: boolean;
  is_passkey: boolean;
  aaguid: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export interface FactorCounts {
  totp: boolean;
  webauthn: number;
  recovery: number;
}

/** The columns of countFactors (factor_totp, factor_webauthn, factor_recovery), for a query that
 *  reads them with other things (interaction/store.ts findSignInState). */
export function factorCountColumns(sql: Tx, userId: string) {
  return sql`EXISTS (SELECT 1 FROM user_totp WHERE user_id = ${userId} AND confirmed_at IS NOT NULL) AS factor_totp,
      (SELECT count(*) FROM webauthn_credentials WHERE user_id = ${userId})::int AS factor_webauthn,
      (SELECT count(*) FROM user_recovery_codes WHERE user_id = ${userId} AND used_at IS NULL)::int AS factor_recovery`;
}

/** FactorCounts of a row with the columns of factorCountColumns. */
export function factorCountsOf(row: { factor_totp: boolean; factor_webauthn: number; factor_recovery: number }): FactorCounts {
  return { totp: row.factor_totp, webauthn: row.factor_webauthn, recovery: row.factor_recovery };
}

export async function countFactors(sql: Tx, userId: string): Promise<FactorCounts> {
  const [row] = await sql<{ factor_totp: boolean; factor_webauthn: number; factor_recovery: number }[]>`SELECT ${factorCountColumns(sql, userId)}`;
  return factorCountsOf(row!);
}

// ---- TOTP ----------------------------------------------------------------------------------

export async function findTotp(sql: Tx, userId: string): Promise<TotpRow | undefined> {
  const [row] = await sql<TotpRow[]>`SELECT * FROM user_totp WHERE user_id = ${userId}`;
  return row;
}

/** A new, unconfirmed secret; replaces an unconfirmed one, never a confirmed one (false then). */
export async function upsertPendingTotp(sql: Tx, userId: string, secretEncrypted: string): Promise<boolean> {
  const rows = await sql`
    INSERT INTO user_totp (user_id, secret_encrypted) VALUES (${userId}, ${secretEncrypted})
    ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted, created_at = now(), last_used_step = NULL
      WHERE user_totp.confirmed_at IS NULL`;
  return rows.count > 0;
}

/** Takes time step `step` for the user's secret unless it (or a later one) was used: true for the one
 *  caller that took it (a code is accepted once, RFC 6238 §5.2). `confirm` also confirms an enrolment. */
export async function takeTotpStep(sql: Tx, userId: string, step: number, confirm: boolean): Promise<boolean> {
  const rows = await sql`
    UPDATE user_totp SET last_used_step = ${step}, last_used_at = now(),
      confirmed_at = CASE WHEN ${confirm} THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
    WHERE user_id = ${userId} AND (last_used_step IS NULL OR last_used_step < ${step})
      AND (confirmed_at IS NOT NULL OR ${confirm})`;
  return rows.count > 0;
}

export async function deleteTotp(sql: Tx, userId: string): Promise<boolean> {
  return (await sql`DELETE FROM user_totp WHERE user_id = ${userId}`).count > 0;
}

// ---- recovery codes ------------------------------------------------------------------------

export async function replaceRecoveryCodes(sql: Tx, userId: string, hashes: string[]): Promise<void> {
  await sql`DELETE FROM user_recovery_codes WHERE user_id = ${userId}`;
  for (const h of hashes) await sql`INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (${userId}, ${h})`;
}

/** Marks the user's unused code with this hash used; true for the one caller that used it. */
export async function useRecoveryCode(sql: Tx, userId: string, hash: string): Promise<boolean> {
  const rows = await sql`UPDATE user_recovery_codes SET used_at = now() WHERE user_id = ${userId} AND code_hash = ${hash} AND used_at IS NULL`;
  return rows.count > 0;
}

export async function deleteRecoveryCodes(sql: Tx, userId: string): Promise<number> {
  return (await sql`DELETE FROM user_recovery_codes WHERE user_id = ${userId}`).count;
}

// ---- WebAuthn ------------------------------------------------------------------------------

export async function listCredentials(sql: Tx, userId: string): Promise<CredentialRow[]> {
  return sql<CredentialRow[]>`SELECT * FROM webauthn_credentials WHERE user_id = ${userId} ORDER BY created_at`;
}

export async function findCredential(sql: Tx, id: string): Promise<CredentialRow | undefined> {
  const [row] = await sql<CredentialRow[]>`SELECT * FROM webauthn_credentials WHERE id = ${id}`;
  return row;
}

export async function insertCredential(sql: Tx, c: Omit<CredentialRow, "created_at" | "last_used_at" | "sign_count"> & { sign_count: number }): Promise<void> {
  try {
    await sql`
      INSERT INTO webauthn_credentials (id, user_id, name, public_key, sign_count, transports, device_type, backed_up, is_passkey, aaguid)
      VALUES (${c.id}, ${c.user_id}, ${c.name}, ${c.public_key}, ${c.sign_count}, ${c.transports}::text[], ${c.device_type}, ${c.backed_up}, ${c.is_passkey}, ${c.aaguid})`;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new ConflictError("This authenticator is already registered");
    throw err;
  }
}

/** Records a use; refuses (false) a signature counter that did not grow when either side counts
 *  (WebAuthn §6.1.1: a regression hints at a cloned authenticator). */
export async function recordCredentialUse(sql: Tx, id: string, newCount: number): Promise<boolean> {
  const rows = await sql`
    UPDATE webauthn_credentials SET sign_count = ${newCount}, last_used_at = now()
    WHERE id = ${id} AND ((${newCount} = 0 AND sign_count = 0) OR ${newCount} > sign_count)`;
  return rows.count > 0;
}

export async function deleteCredential(sql: Tx, userId: string, id: string): Promise<boolean> {
  return (await sql`DELETE FROM webauthn_credentials WHERE user_id = ${userId} AND id = ${id}`).count > 0;
}

export async function deleteCredentials(sql: Tx, userId: string): Promise<number> {
  return (await sql`DELETE FROM webauthn_credentials WHERE user_id = ${userId}`).count;
}

/** Records the use of a sealed challenge (its user is in the seal); false when it was used before.
 *  The row stays until the challenge expires (purged by maintenance), so a replay finds it. */
export async function recordChallengeUse(sql: Tx, hash: string, purpose: "register" | "authenticate", expiresAt: Date): Promise<boolean> {
  const rows = await sql`
    INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, expires_at) VALUES (${hash}, ${purpose}, NULL, ${expiresAt})
    ON CONFLICT (challenge_hash) DO NOTHING RETURNING 1`;
  return rows.length === 1;
}

/** Removes a live challenge and returns whom it was for; undefined when unknown, used or expired. */
export async function takeChallenge(sql: Tx, hash: string, purpose: "register" | "authenticate"): Promise<{ user_id: string | null } | undefined> {
  const [row] = await sql<{ user_id: string | null }[]>`
    DELETE FROM webauthn_challenges WHERE challenge_hash = ${hash} AND purpose = ${purpose} AND expires_at > now() RETURNING user_id`;
  return row;
}
