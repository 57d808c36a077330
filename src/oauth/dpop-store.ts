// SQL of the DPoP proof replay store (RFC 9449 §11.1): one row per accepted proof jti (hashed with
// its key's thumbprint), in PostgreSQL so that every node sees every other node's proofs. Rows
// expire after the proof's iat window and are purged by the maintenance job.
import type { Tx } from "../db/sql";

/**
 * Records many jti hashes in one statement; returns those that were already there (replays: the
 * statement answers with those only, usually none, so a batch costs no rows to read back).
 * The statement commits without waiting for its WAL flush (synchronous_commit off for this one
 * transaction): the insert, its uniqueness check and its visibility to every node are unchanged;
 * only a server crash within the WAL writer's delay (≤ 3 × wal_writer_delay, 0.6 s by default)
 * could forget the proofs accepted just before it. Waiting for the disk on every proof would make
 * a DPoP token request as slow as a durable write.
 */
export async function recordDpopJtis(sql: Tx, hashes: string[], ttlSeconds: number): Promise<Set<string>> {
  // One text parameter (base64url has no comma): cheaper for the driver than a text[] of many.
  const rows = await sql<{ h: string }[]>`
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
    batch AS (SELECT string_to_array(${hashes.join(",")}::text, ',') AS keys),
    fresh AS (
      INSERT INTO dpop_jtis (jti_hash, expires_at)
      SELECT h, now() + make_interval(secs => ${ttlSeconds}) FROM batch, unnest(batch.keys) AS h, async_commit
      ON CONFLICT (jti_hash) DO NOTHING RETURNING jti_hash
    )
    SELECT h FROM batch, unnest(batch.keys) AS h WHERE h NOT IN (SELECT jti_hash FROM fresh)`;
  return new Set(rows.map((r) => r.h));
}
