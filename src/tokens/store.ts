// SQL of issued tokens: access_tokens (and, in the token service, grants and refresh_tokens).
import type { Tx } from "../db/sql";

export async function insertAccessToken(
  sql: Tx,
  row: { jti: string; grantId: string | null; clientId: string; userId: string | null; scope: string; expiresAt: Date },
): Promise<void> {
  await sql`
    INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at)
    VALUES (${row.jti}, ${row.grantId}, ${row.clientId}, ${row.userId}, ${row.scope}, ${row.expiresAt})`;
}

/** undefined when the jti was never issued here; otherwise whether it (or its grant) is revoked. */
export async function accessTokenRevoked(sql: Tx, jti: string): Promise<boolean | undefined> {
  const [row] = await sql<{ revoked: boolean }[]>`
    SELECT (a.revoked_at IS NOT NULL OR g.revoked_at IS NOT NULL) AS revoked
    FROM access_tokens a LEFT JOIN grants g ON g.id = a.grant_id
    WHERE a.jti = ${jti}`;
  return row?.revoked;
}
