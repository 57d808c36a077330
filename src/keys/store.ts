// SQL of the signing keys (table signing_keys).
import type { Tx } from "../db/sql";

export type KeyAlg = "RS256" | "ES256" | "EdDSA";
export type KeyState = "next" | "active" | "retired" | "revoked";

export interface KeyRow {
  kid: string;
  alg: KeyAlg;
  state: KeyState;
  public_jwk: Record<string, unknown>;
  private_jwk_encrypted: string;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
  publish_until: Date | null;
}

/** Keys that may appear in the JWKS or verify a token: not revoked, not past publish_until. */
export async function listLiveKeys(sql: Tx): Promise<KeyRow[]> {
  return sql<KeyRow[]>`
    SELECT * FROM signing_keys
    WHERE state <> 'revoked' AND (state <> 'retired' OR publish_until IS NULL OR publish_until > now())
    ORDER BY created_at DESC`;
}

export async function listAllKeys(sql: Tx): Promise<KeyRow[]> {
  return sql<KeyRow[]>`SELECT * FROM signing_keys ORDER BY created_at DESC`;
}

export async function insertKey(sql: Tx, row: Pick<KeyRow, "kid" | "alg" | "state" | "public_jwk" | "private_jwk_encrypted">): Promise<void> {
  await sql`
    INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_encrypted, activated_at)
    VALUES (${row.kid}, ${row.alg}, ${row.state}, ${sql.json(row.public_jwk as never)}, ${row.private_jwk_encrypted},
            ${row.state === "active" ? sql`now()` : null})`;
}

export async function lockKeys(sql: Tx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('authly_signing_keys:' || current_schema()))`;
}

export async function retireActive(sql: Tx, alg: KeyAlg, publishSeconds: number): Promise<void> {
  await sql`
    UPDATE signing_keys SET state = 'retired', retired_at = now(),
      publish_until = now() + make_interval(secs => ${publishSeconds})
    WHERE alg = ${alg} AND state = 'active'`;
}

export async function activateKey(sql: Tx, kid: string): Promise<void> {
  await sql`UPDATE signing_keys SET state = 'active', activated_at = now() WHERE kid = ${kid}`;
}

export async function revokeKey(sql: Tx, kid: string): Promise<number> {
  const r = await sql`UPDATE signing_keys SET state = 'revoked', retired_at = coalesce(retired_at, now()) WHERE kid = ${kid} AND state <> 'revoked'`;
  return r.count;
}

export async function findKey(sql: Tx, kid: string): Promise<KeyRow | undefined> {
  const [row] = await sql<KeyRow[]>`SELECT * FROM signing_keys WHERE kid = ${kid}`;
  return row;
}

/** The state of a key, or undefined when there is no such key. */
export async function keyState(sql: Tx, kid: string): Promise<KeyState | undefined> {
  const [row] = await sql<{ state: KeyState }[]>`SELECT state FROM signing_keys WHERE kid = ${kid}`;
  return row?.state;
}
