// SQL of pushed authorization requests (RFC 9126): stored under the hash of their request_uri,
// consumed once by an atomic DELETE ... RETURNING, so two uses at once (on any nodes) cannot both
// proceed. Expired rows are left to the purge job (maintenance/store.ts).
import type { Tx } from "../db/sql";

/** The parameters of a pushed request, after any request object was unpacked (RFC 9101). */
export interface PushedParams {
  values: Record<string, string>;
  multi: Record<string, string[]>;
}

export async function insertPushedRequest(sql: Tx, uriHash: string, clientId: string, params: PushedParams, ttlSeconds: number): Promise<void> {
  await sql`
    INSERT INTO pushed_authorization_requests (request_uri_hash, client_id, params, expires_at)
    VALUES (${uriHash}, ${clientId}, ${sql.json(params as never)}, now() + make_interval(secs => ${ttlSeconds}))`;
}

/** The pushed request of this client, removed; undefined when unknown, expired, used or another client's. */
export async function consumePushedRequest(sql: Tx, uriHash: string, clientId: string): Promise<PushedParams | undefined> {
  const [row] = await sql<{ params: PushedParams }[]>`
    DELETE FROM pushed_authorization_requests
    WHERE request_uri_hash = ${uriHash} AND client_id = ${clientId} AND expires_at > now()
    RETURNING params`;
  return row?.params;
}
