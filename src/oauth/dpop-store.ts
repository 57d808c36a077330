// SQL of the DPoP proof replay store (RFC 9449 §11.1): one row per accepted proof jti (hashed with
// its key's thumbprint), in PostgreSQL so that every node sees every other node's proofs. Rows
// expire after the proof's iat window and are purged by the maintenance job.
import type { Tx } from "../db/sql";

/** Records many jti hashes in one statement; returns those that were new (the rest are replays). */
export async function recordDpopJtis(sql: Tx, hashes: string[], ttlSeconds: number): Promise<Set<string>> {
  const rows = await sql<{ jti_hash: string }[]>`
    INSERT INTO dpop_jtis (jti_hash, expires_at)
    SELECT h, now() + make_interval(secs => ${ttlSeconds}) FROM unnest(${hashes}::text[]) AS h
    ON CONFLICT (jti_hash) DO NOTHING RETURNING jti_hash`;
  return new Set(rows.map((r) => r.jti_hash));
}
