// SQL of the OpenID layer: the `claims` request parameter stored with the grant of an access token.
import type { Tx } from "../db/sql";

export async function findGrantClaimsByJti(sql: Tx, jti: string): Promise<unknown> {
  const [row] = await sql<{ claims: unknown }[]>`
    SELECT g.claims FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.jti = ${jti}`;
  return row?.claims ?? null;
}
