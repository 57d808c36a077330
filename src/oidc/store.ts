// SQL of the OpenID layer: the `claims` request parameter stored with the grant of an access token,
// and the clients a back-channel logout notifies.
import type { Tx } from "../db/sql";
import type { ClientRecord } from "../clients/model";

/** The claims request of an access token's grant: the grant it names (`gid`), else the grant of
 *  its record (a token recorded before migration 0008). */
export async function findGrantClaims(sql: Tx, token: { jti: string; grantId?: string | null }): Promise<unknown> {
  const [row] = token.grantId
    ? await sql<{ claims: unknown }[]>`SELECT claims FROM grants WHERE id = ${token.grantId}::uuid`
    : await sql<{ claims: unknown }[]>`SELECT g.claims FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.jti = ${token.jti}`;
  return row?.claims ?? null;
}

/** Active clients with a back-channel logout URI that received a code or a grant in a session. */
export async function findBackchannelClients(sql: Tx, sessionId: string): Promise<ClientRecord[]> {
  return sql<ClientRecord[]>`
    SELECT c.* FROM clients c
    WHERE c.is_active AND c.backchannel_logout_uri IS NOT NULL AND c.client_id IN (
      SELECT client_id FROM grants WHERE session_id = ${sessionId}
      UNION SELECT client_id FROM authorization_codes WHERE session_id = ${sessionId})
    ORDER BY c.client_id`;
}

/** The same clients for several sessions at once (sessions an admin ended), one row per session
 *  and client. */
export async function findBackchannelClientsOfSessions(sql: Tx, sessionIds: string[]): Promise<(ClientRecord & { session_id: string })[]> {
  if (!sessionIds.length) return [];
  return sql<(ClientRecord & { session_id: string })[]>`
    SELECT x.session_id, c.* FROM clients c JOIN (
      SELECT session_id, client_id FROM grants WHERE session_id = ANY(${sessionIds}::uuid[])
      UNION SELECT session_id, client_id FROM authorization_codes WHERE session_id = ANY(${sessionIds}::uuid[])) x ON x.client_id = c.client_id
    WHERE c.is_active AND c.backchannel_logout_uri IS NOT NULL
    ORDER BY x.session_id, c.client_id`;
}

/** Ends the grants of a session that were not issued for offline access (Back-Channel Logout §2.7). */
export async function revokeSessionGrants(sql: Tx, sessionId: string): Promise<number> {
  const rows = await sql`
    UPDATE grants SET revoked_at = now(), revoked_reason = 'logout'
    WHERE session_id = ${sessionId} AND revoked_at IS NULL AND NOT ('offline_access' = ANY(string_to_array(scope, ' ')))`;
  return rows.count;
}
