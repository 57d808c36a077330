// SQL of dynamic registration: initial access tokens (registration_tokens) and the registration
// access token of each dynamically registered client (client_registrations). Hashes only.
import type { Tx } from "../db/sql";
import { isValidText } from "../lib/text";

export async function insertInitialToken(sql: Tx, t: { tokenHash: string; maxUses: number; expiresAt: Date; createdBy: string | null }): Promise<{ id: string; expires_at: Date }> {
  const [row] = await sql<{ id: string; expires_at: Date }[]>`
    INSERT INTO registration_tokens (token_hash, max_uses, expires_at, created_by)
    VALUES (${t.tokenHash}, ${t.maxUses}, ${t.expiresAt}, ${t.createdBy}) RETURNING id, expires_at`;
  return row!;
}

/** Spends one use of a live initial access token; its id, or undefined when none is left. */
export async function useInitialToken(sql: Tx, tokenHash: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    UPDATE registration_tokens SET uses = uses + 1
    WHERE token_hash = ${tokenHash} AND uses < max_uses AND expires_at > now() RETURNING id`;
  return row?.id;
}

export async function insertRegistration(sql: Tx, r: { clientId: string; accessTokenHash: string; initialTokenId: string | null }): Promise<void> {
  await sql`
    INSERT INTO client_registrations (client_id, access_token_hash, initial_token_id)
    VALUES (${r.clientId}, ${r.accessTokenHash}, ${r.initialTokenId})`;
}

/** The registration a registration access token belongs to (locked for update when asked). */
export async function findRegistration(sql: Tx, accessTokenHash: string, lock = false): Promise<{ client_id: string; created_at: Date } | undefined> {
  if (!isValidText(accessTokenHash)) return undefined;
  const [row] = lock
    ? await sql<{ client_id: string; created_at: Date }[]>`SELECT client_id, created_at FROM client_registrations WHERE access_token_hash = ${accessTokenHash} FOR UPDATE`
    : await sql<{ client_id: string; created_at: Date }[]>`SELECT client_id, created_at FROM client_registrations WHERE access_token_hash = ${accessTokenHash}`;
  return row;
}

export async function rotateRegistrationToken(sql: Tx, clientId: string, accessTokenHash: string): Promise<void> {
  await sql`UPDATE client_registrations SET access_token_hash = ${accessTokenHash}, updated_at = now() WHERE client_id = ${clientId}`;
}
