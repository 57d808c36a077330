// SQL of the OpenID layer: the `claims` request parameter stored with the grant of an access token,
// and the clients a back-channel logout notifies.
import type { Sql, Tx } from "../db/sql";
import type { ClientRecord } from "../clients/model";
import type { UserRecord } from "../accounts/model";
import { BatchLoader, loaderFor } from "../lib/batch-loader";
import { isValidText } from "../lib/text";
import { isDatabaseUnavailable } from "../errors";

/** What UserInfo needs beyond the token: the user and the claims request of the token's grant. */
export interface UserinfoSubject {
  user: UserRecord | undefined;
  claims: unknown;
}

const subjectLoaders = new WeakMap<Sql, BatchLoader<string, UserinfoSubject>>();
const SEPARATOR = "\u0000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user (by id) and the claims request of a token's grant — the grant it names (`gid`), else
 *  the grant of its record (a token recorded before migration 0008) — in one query, micro-batched: concurrent
 *  UserInfo requests share it. */
export function loadUserinfoSubject(sql: Sql, userId: string, token: { jti: string; grantId?: string | null }): Promise<UserinfoSubject | undefined> {
  // Not a uuid or not text: no such row, and never a cast that would fail the whole batch.
  const uid = UUID.test(userId) ? userId : "";
  const gid = token.grantId && UUID.test(token.grantId) ? token.grantId : "";
  const jti = isValidText(token.jti) ? token.jti : "";
  return loaderFor(subjectLoaders, sql, (pool) => async (keys: string[]) => {
    const tuples = keys.map((k) => k.split(SEPARATOR) as [string, string, string]);
    const rows = await pool<(UserRecord & { authly_k: number; authly_user_found: boolean; authly_grant_claims: unknown })[]>`
      SELECT k.ord AS authly_k, u.id IS NOT NULL AS authly_user_found, coalesce(g.claims, ag.claims) AS authly_grant_claims, u.*
      FROM unnest(${tuples.map((t) => t[0])}::text[], ${tuples.map((t) => t[1])}::text[], ${tuples.map((t) => t[2])}::text[]) WITH ORDINALITY AS k(user_id, gid, jti, ord)
      LEFT JOIN users u ON u.id = nullif(k.user_id, '')::uuid
      LEFT JOIN grants g ON g.id = nullif(k.gid, '')::uuid
      LEFT JOIN access_tokens a ON k.gid = '' AND k.jti <> '' AND a.jti = k.jti
      LEFT JOIN grants ag ON ag.id = a.grant_id`;
    const out = new Map<string, UserinfoSubject>();
    for (const r of rows) {
      const { authly_k, authly_user_found, authly_grant_claims, ...user } = r;
      out.set(keys[Number(authly_k) - 1]!, { user: authly_user_found ? (user as UserRecord) : undefined, claims: authly_grant_claims ?? null });
    }
    return out;
  }, { retryAlone: (err) => !isDatabaseUnavailable(err) }).load(`${uid}${SEPARATOR}${gid}${SEPARATOR}${jti}`);
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
