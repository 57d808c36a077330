// SQL of issued tokens: access_tokens, grants (token families), refresh_tokens, the consumption of
// authorization codes and private_key_jwt assertion ids.
import type { Sql, Tx } from "../db/sql";
import type { UserRecord } from "../accounts/model";
import { BatchLoader, loaderFor } from "../lib/batch-loader";
import { isValidText } from "../lib/text";
import { isDatabaseUnavailable } from "../errors";

export async function insertAccessToken(
  sql: Tx,
  row: { jti: string; grantId: string | null; clientId: string; userId: string | null; scope: string; expiresAt: Date },
): Promise<void> {
  await sql`
    INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at)
    VALUES (${row.jti}, ${row.grantId}, ${row.clientId}, ${row.userId}, ${row.scope}, ${row.expiresAt})`;
}

/** Revokes one recorded access token (RFC 7009); only the owning client's. Returns whether a row changed. */
export async function revokeAccessToken(sql: Tx, jti: string, clientId: string): Promise<boolean> {
  const r = await sql`UPDATE access_tokens SET revoked_at = now() WHERE jti = ${jti} AND client_id = ${clientId} AND revoked_at IS NULL`;
  return r.count > 0;
}

/** Revokes a token that was not recorded at issuance (a client's token, or a user's token of a
 *  grant) by recording it as revoked; only the owning client's. The row expires with the token and
 *  is purged like any other. A grant already purged is not referenced (the token is dead anyway). */
export async function recordRevokedAccessToken(
  sql: Tx,
  row: { jti: string; clientId: string; scope: string; expiresAt: Date; grantId?: string | null; userId?: string | null },
): Promise<boolean> {
  const r = await sql`
    INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at, revoked_at)
    VALUES (${row.jti}, (SELECT id FROM grants WHERE id = ${row.grantId ?? null}::uuid), ${row.clientId},
            (SELECT id FROM users WHERE id = ${row.userId ?? null}::uuid), ${row.scope}, ${row.expiresAt}, now())
    ON CONFLICT (jti) DO UPDATE SET revoked_at = now()
      WHERE access_tokens.client_id = excluded.client_id AND access_tokens.revoked_at IS NULL`;
  return r.count > 0;
}

/** What decides whether an access token is live: its record (a token issued without a grant, one
 *  issued before migration 0008, or a revoked one), else its grant (a user's token names it in
 *  its `gid` claim), else its client (a client token; see tokens/access-token.ts). */
export interface AccessTokenState {
  /** The record with its effective revocation (itself or its grant); null when not recorded. */
  recorded: { revoked: boolean; expires_at: Date } | null;
  /** The grant named by the token; null when none was named or it no longer exists. */
  grant: { revoked: boolean; client_id: string; user_id: string | null } | null;
  /** The token's client; null when it no longer exists. */
  client: { is_active: boolean; created_at: Date; access_tokens_revoked_at: Date | null } | null;
  /** The key that signed it has been revoked (possibly by another node: its cache may lag). */
  keyRevoked: boolean;
}

const stateLoaders = new WeakMap<Sql, BatchLoader<string, AccessTokenState>>();
const KEY_SEPARATOR = "\u0000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The state of a token (by jti, client_id, the kid of its signing key and the grant it names),
 *  micro-batched: concurrent lookups share one query. */
export function loadAccessTokenState(sql: Sql, jti: string, clientId: string, kid = "", grantId = ""): Promise<AccessTokenState | undefined> {
  // Not text (NUL, lone surrogate): no such token or client, and never a query (lib/text.ts).
  if (!isValidText(jti) || !isValidText(clientId) || !isValidText(kid)) return Promise.resolve({ recorded: null, grant: null, client: null, keyRevoked: false });
  // Not a uuid: names no grant (and never reaches a ::uuid cast that would fail the whole batch).
  const gid = UUID.test(grantId) ? grantId : "";
  return loaderFor(stateLoaders, sql, (pool) => async (keys: string[]) => {
    const tuples = keys.map((k) => k.split(KEY_SEPARATOR) as [string, string, string, string]);
    const rows = await pool<{ k: number; recorded: boolean; revoked: boolean | null; expires_at: Date | null; grant_found: boolean; grant_revoked: boolean | null; grant_client_id: string | null; grant_user_id: string | null; client_found: boolean; is_active: boolean | null; created_at: Date | null; access_tokens_revoked_at: Date | null; key_revoked: boolean }[]>`
      SELECT k.ord AS k, a.jti IS NOT NULL AS recorded, (a.revoked_at IS NOT NULL OR ag.revoked_at IS NOT NULL) AS revoked, a.expires_at,
             g.id IS NOT NULL AS grant_found, g.revoked_at IS NOT NULL AS grant_revoked, g.client_id AS grant_client_id, g.user_id AS grant_user_id,
             c.client_id IS NOT NULL AS client_found, c.is_active, c.created_at, c.access_tokens_revoked_at,
             coalesce(s.state = 'revoked', false) AS key_revoked
      FROM unnest(${tuples.map((p) => p[0])}::text[], ${tuples.map((p) => p[1])}::text[], ${tuples.map((p) => p[2])}::text[], ${tuples.map((p) => p[3])}::text[]) WITH ORDINALITY AS k(jti, client_id, kid, gid, ord)
      LEFT JOIN access_tokens a ON a.jti = k.jti
      LEFT JOIN grants ag ON ag.id = a.grant_id
      LEFT JOIN grants g ON g.id = nullif(k.gid, '')::uuid
      LEFT JOIN clients c ON c.client_id = k.client_id
      LEFT JOIN signing_keys s ON s.kid = k.kid`;
    const out = new Map<string, AccessTokenState>();
    for (const r of rows) {
      out.set(keys[Number(r.k) - 1]!, {
        recorded: r.recorded ? { revoked: r.revoked!, expires_at: r.expires_at! } : null,
        grant: r.grant_found ? { revoked: r.grant_revoked!, client_id: r.grant_client_id!, user_id: r.grant_user_id } : null,
        client: r.client_found ? { is_active: r.is_active!, created_at: r.created_at!, access_tokens_revoked_at: r.access_tokens_revoked_at } : null,
        keyRevoked: r.key_revoked,
      });
    }
    return out;
  }, { retryAlone: (err) => !isDatabaseUnavailable(err) }).load(`${jti}${KEY_SEPARATOR}${clientId}${KEY_SEPARATOR}${kid}${KEY_SEPARATOR}${gid}`);
}

// ---- grants: one authorization and every token issued from it (the token family) ----

export interface GrantRow {
  id: string;
  client_id: string;
  user_id: string | null;
  grant_type: string;
  scope: string;
  session_id: string | null;
  auth_time: Date | null;
  code_hash: string | null;
  nonce: string | null;
  acr: string | null;
  amr: string[] | null;
  claims: Record<string, unknown> | null;
  resources: string[];
  /** RFC 9449 §5: the DPoP key a public client's refresh tokens are bound to. */
  dpop_jkt: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface NewGrant {
  clientId: string;
  userId: string | null;
  grantType: string;
  scope: string;
  sessionId?: string | null;
  authTime?: Date | null;
  codeHash?: string | null;
  nonce?: string | null;
  acr?: string | null;
  amr?: string[] | null;
  claims?: Record<string, unknown> | null;
  /** RFC 8707: the API resources the grant covers (its tokens may name any of them). */
  resources?: string[];
  /** RFC 9449 §5: binds the grant's refresh tokens to a DPoP key (public clients). */
  dpopJkt?: string | null;
  expiresAt: Date;
  /** The id, chosen by the caller (a random UUID) so that statements naming the grant can go out
   *  in the same pipeline as its INSERT; else the database picks one. */
  id?: string;
}

export async function insertGrant(sql: Tx, g: NewGrant): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO grants (id, client_id, user_id, grant_type, scope, session_id, auth_time, code_hash, nonce, acr, amr, claims, expires_at, resources, dpop_jkt)
    VALUES (coalesce(${g.id ?? null}::uuid, gen_random_uuid()), ${g.clientId}, ${g.userId}, ${g.grantType}, ${g.scope}, ${g.sessionId ?? null}, ${g.authTime ?? null},
            ${g.codeHash ?? null}, ${g.nonce ?? null}, ${g.acr ?? null}, ${g.amr ?? null},
            ${g.claims ? sql.json(g.claims as never) : null}, ${g.expiresAt}, ${g.resources ?? []}::text[], ${g.dpopJkt ?? null})
    RETURNING id`;
  return row!.id;
}

export async function findGrant(sql: Tx, id: string): Promise<GrantRow | undefined> {
  const [row] = await sql<GrantRow[]>`SELECT * FROM grants WHERE id = ${id}`;
  return row;
}

/** Revokes a grant and with it every refresh and access token of its family. */
export async function revokeGrant(sql: Tx, id: string, reason: string): Promise<boolean> {
  const r = await sql`UPDATE grants SET revoked_at = now(), revoked_reason = ${reason} WHERE id = ${id} AND revoked_at IS NULL`;
  await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id = ${id} AND revoked_at IS NULL`;
  return r.count > 0;
}

/** RFC 6749 §4.1.2: a reused code revokes every grant (and token) issued from it. */
export async function revokeGrantsByCode(sql: Tx, codeHash: string, reason: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    UPDATE grants SET revoked_at = now(), revoked_reason = ${reason}
    WHERE code_hash = ${codeHash} AND revoked_at IS NULL RETURNING id`;
  const ids = rows.map((r) => r.id);
  if (ids.length) await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id IN ${sql(ids)} AND revoked_at IS NULL`;
  return ids;
}

/** Moves the grant's expiry up to `expiresAt` (never earlier). A grant that already lasts that long
 *  is not written (no new row version, no WAL): at a code exchange it was created with that expiry. */
export async function extendGrant(sql: Tx, id: string, expiresAt: Date): Promise<void> {
  await sql`UPDATE grants SET expires_at = ${expiresAt} WHERE id = ${id} AND expires_at < ${expiresAt}`;
}

// ---- authorization codes (written by the front channel; consumed here) ----

export interface AuthorizationCodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  code_challenge: string;
  code_challenge_method: string;
  session_id: string | null;
  auth_time: Date;
  acr: string | null;
  amr: string[] | null;
  claims: Record<string, unknown> | null;
  /** RFC 8707: the resources of the authorization request. */
  resources: string[];
  /** RFC 9449 §10: the DPoP key the code is bound to (dpop_jkt of the authorization request). */
  dpop_jkt: string | null;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
}

/** Marks a live code consumed; exactly one concurrent caller gets the row (docs/contracts.md). */
export async function consumeAuthorizationCode(sql: Tx, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
  const [row] = await sql<AuthorizationCodeRow[]>`
    UPDATE authorization_codes SET consumed_at = now()
    WHERE code_hash = ${codeHash} AND consumed_at IS NULL AND expires_at > now()
    RETURNING *`;
  return row;
}

/** A code redeemed by redeemAuthorizationCode, with what the tokens need. */
export interface RedeemedAuthorizationCode extends AuthorizationCodeRow {
  /** Whether a refresh token was stored (its expiry), by the rule the caller passed. */
  refresh_expires_at: Date | null;
  /** The user's record (without its password hash) when the code carries a claims request. */
  user: UserRecord | null;
  /** The database's clock when the statement ran (db/sql.ts noteDatabaseClock). */
  db_now: Date;
}

/**
 * The code exchange in one statement (RFC 6749 §4.1.3, RFC 7636 §4.6): consumes a live code only
 * when everything the token endpoint checks holds (its client, redirect URI, DPoP key, S256
 * challenge, an active user, no resources), and stores the grant and, when `mayRefresh` and the
 * scope allows it (no openid, or offline_access: OIDC Core §11), its first refresh token.
 * Undefined when anything does not hold: the caller then takes the step-by-step path, which says
 * why (or detects a reuse). Of concurrent uses exactly one gets the row. The result row passes
 * authly_commit_deadline(commitBy) (null: no bound) so that the statement may commit on its own,
 * as rotateRefreshToken.
 */
export async function redeemAuthorizationCode(
  sql: Tx,
  r: {
    codeHash: string; clientId: string; redirectUri: string; dpopJkt: string | null; challenge: string;
    grantId: string; grantDpopJkt: string | null; mayRefresh: boolean; refreshTokenHash: string;
    refreshExpiresAt: Date; accessExpiresAt: Date; grantMaxLifetimeSeconds: number; commitBy: Date | null;
  },
): Promise<RedeemedAuthorizationCode | undefined> {
  const [row] = await sql<(AuthorizationCodeRow & { refresh_expires_at: Date | null; user_record: UserJson | null; db_now: Date })[]>`
    WITH code AS (
      UPDATE authorization_codes c SET consumed_at = now()
      WHERE c.code_hash = ${r.codeHash} AND c.consumed_at IS NULL AND c.expires_at > now()
        AND c.client_id = ${r.clientId} AND c.redirect_uri = ${r.redirectUri}
        AND (c.dpop_jkt IS NULL OR c.dpop_jkt = ${r.dpopJkt}::text)
        AND c.code_challenge_method = 'S256' AND c.code_challenge = ${r.challenge}
        AND cardinality(c.resources) = 0
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.is_active)
      RETURNING c.*, (${r.mayRefresh}::boolean AND (NOT 'openid' = ANY (string_to_array(c.scope, ' ')) OR 'offline_access' = ANY (string_to_array(c.scope, ' ')))) AS with_refresh
    ), grant_row AS (
      INSERT INTO grants (id, client_id, user_id, grant_type, scope, session_id, auth_time, code_hash, nonce, acr, amr, claims, expires_at, resources, dpop_jkt)
      SELECT ${r.grantId}::uuid, client_id, user_id, 'authorization_code', scope, session_id, auth_time, code_hash, nonce, acr, amr, claims,
             CASE WHEN with_refresh THEN ${r.refreshExpiresAt}::timestamptz ELSE ${r.accessExpiresAt}::timestamptz END, resources, ${r.grantDpopJkt}::text
      FROM code
      RETURNING id, created_at, expires_at
    ), refresh AS (
      INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at)
      SELECT ${r.refreshTokenHash}, g.id, c.client_id, c.user_id, c.scope, least(g.expires_at, g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}))
      FROM code c, grant_row g WHERE c.with_refresh
      RETURNING expires_at
    )
    SELECT code.code_hash, code.client_id, code.user_id, code.redirect_uri, code.scope, code.nonce, code.code_challenge,
           code.code_challenge_method, code.session_id, code.auth_time, code.acr, code.amr, code.claims, code.resources,
           code.dpop_jkt, code.created_at, code.expires_at, code.consumed_at,
           (SELECT expires_at FROM refresh) AS refresh_expires_at,
           CASE WHEN code.claims IS NOT NULL THEN (SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE u.id = code.user_id) END AS user_record,
           clock_timestamp() AS db_now
    FROM code WHERE authly_commit_deadline(coalesce(${r.commitBy}::timestamptz, 'infinity'))`;
  if (!row) return undefined;
  const { user_record, ...rest } = row;
  return { ...rest, user: userFromJson(user_record) };
}

export async function findAuthorizationCode(sql: Tx, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
  const [row] = await sql<AuthorizationCodeRow[]>`SELECT * FROM authorization_codes WHERE code_hash = ${codeHash}`;
  return row;
}

// ---- refresh tokens (opaque; only hashSecret(peppers.tokens, value) is stored) ----

export interface RefreshTokenRow {
  token_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string | null;
  scope: string;
  created_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

/** Stores a refresh token; its expiry is bounded by its grant's absolute end (created_at + the
 *  maximum lifetime, in the database's clock). Returns the expiry stored. */
export async function insertRefreshToken(
  sql: Tx,
  row: { tokenHash: string; grantId: string; clientId: string; userId: string | null; scope: string; expiresAt: Date; grantMaxLifetimeSeconds: number },
): Promise<Date> {
  const [r] = await sql<{ expires_at: Date }[]>`
    INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at)
    SELECT ${row.tokenHash}, g.id, ${row.clientId}, ${row.userId}, ${row.scope},
           least(${row.expiresAt}::timestamptz, g.created_at + make_interval(secs => ${row.grantMaxLifetimeSeconds}))
    FROM grants g WHERE g.id = ${row.grantId}
    RETURNING expires_at`;
  if (!r) throw new Error(`grant ${row.grantId} does not exist`);
  return r.expires_at;
}

/** The user an authorization code belongs to (read in the same pipeline as its consumption). */
export async function findUserOfAuthorizationCode(sql: Tx, codeHash: string): Promise<UserRecord | undefined> {
  const [row] = await sql<UserRecord[]>`
    SELECT u.* FROM users u WHERE u.id = (SELECT c.user_id FROM authorization_codes c WHERE c.code_hash = ${codeHash})`;
  return row;
}

/** A rotated refresh token with what the new tokens need from its grant. */
export interface RotatedRefreshToken extends RefreshTokenRow {
  auth_time: Date | null;
  session_id: string | null;
  acr: string | null;
  amr: string[] | null;
  claims: Record<string, unknown> | null;
  /** The grant's resources (RFC 8707). */
  resources: string[];
  /** The grant's DPoP key binding (RFC 9449 §5). */
  dpop_jkt: string | null;
  /** The database's clock when the statement ran (db/sql.ts noteDatabaseClock); absent without rotation. */
  db_now?: Date;
  /** The user's record (without its password hash), read by the same statement when the grant
   *  carries a `claims` request (OIDC Core §5.5): the only case where the ID token of a refresh,
   *  always issued with an access token, releases user claims (§5.4). Null otherwise. */
  user: UserRecord | null;
}

/** The user's record as the rotation statements return it (to_jsonb, without password_hash). */
type UserJson = Omit<UserRecord, "created_at" | "updated_at" | "last_login_at" | "password_hash"> & { created_at: string; updated_at: string; last_login_at: string | null };

type RotationRow = Omit<RotatedRefreshToken, "user"> & { user_record: UserJson | null };

function userFromJson(u: UserJson | null): UserRecord | null {
  return u && { ...u, password_hash: null, created_at: new Date(u.created_at), updated_at: new Date(u.updated_at), last_login_at: u.last_login_at ? new Date(u.last_login_at) : null };
}

function withUserRecord({ user_record, ...row }: RotationRow): RotatedRefreshToken {
  return { ...row, user: userFromJson(user_record) };
}

/**
 * Rotation (RFC 9700 §4.14.2) in one statement: marks a live refresh token of this client (of an
 * unrevoked grant and an active user) as used and stores its successor with the same scope. Of
 * several concurrent uses exactly one gets the row: the others wait for its row lock and then find
 * rotated_at set.
 *
 * The grant must outlive every token of its family (the purge job keeps it until then, and a
 * user's access token is live only while its grant is: tokens/access-token.ts), but it is written
 * only when the successor or the new access token would outlive it, and then pushed `stepSeconds`
 * further (never past its absolute end; an access token issued just before that end is covered by
 * the purge's margin, maintenance/store.ts): most rotations leave the grant row (and its four
 * indexes) alone. Migration 0008 leaves
 * free space in refresh_tokens' pages so that marking the old token rotated is a HOT update (no
 * index entry written).
 *
 * The result row passes authly_commit_deadline(commitBy) (null: no bound), so that the statement
 * may commit on its own (db/sql.ts statementCommitBound), and carries the database's clock
 * (db_now, for db/sql.ts noteDatabaseClock). `only` narrows it to the tokens whose new tokens need
 * nothing more from the database and no check that could fail after it (the single-statement path
 * of token-refresh.ts): a grant without resources, bound to no DPoP key or to `only.dpopJkt`.
 */
export async function rotateRefreshToken(
  sql: Tx,
  r: {
    tokenHash: string; clientId: string; newTokenHash: string; newExpiresAt: Date; accessTokenExpiresAt: Date; grantMaxLifetimeSeconds: number; stepSeconds: number;
    commitBy: Date | null; only?: { dpopJkt: string | null };
  },
): Promise<RotatedRefreshToken | undefined> {
  // The grant's absolute end (created_at + the maximum lifetime): past it nothing rotates, and the
  // successor never outlives it.
  const [row] = await sql<RotationRow[]>`
    WITH rotated AS (
      UPDATE refresh_tokens r SET rotated_at = now()
      FROM grants g
      WHERE r.token_hash = ${r.tokenHash} AND r.client_id = ${r.clientId} AND r.rotated_at IS NULL
        AND r.revoked_at IS NULL AND r.expires_at > now() AND g.id = r.grant_id AND g.revoked_at IS NULL
        AND g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}) > now()
        AND (r.user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id AND u.is_active))
        AND (NOT ${Boolean(r.only)}::boolean OR (cardinality(g.resources) = 0 AND (g.dpop_jkt IS NULL OR g.dpop_jkt = ${r.only?.dpopJkt ?? null}::text)))
      RETURNING r.*, g.dpop_jkt, g.auth_time, g.session_id, g.acr, g.amr, g.claims, g.resources, g.expires_at AS grant_expires_at,
                least(${r.newExpiresAt}::timestamptz, g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds})) AS successor_expires_at
    ), successor AS (
      INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at)
      SELECT ${r.newTokenHash}, grant_id, client_id, user_id, scope, successor_expires_at FROM rotated
      RETURNING grant_id, greatest(expires_at, ${r.accessTokenExpiresAt}::timestamptz) AS needed
    ), extended AS (
      UPDATE grants g SET expires_at = least(s.needed + make_interval(secs => ${r.stepSeconds}), g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}))
      FROM successor s WHERE g.id = s.grant_id AND g.expires_at < least(s.needed, g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}))
    )
    SELECT rotated.*, CASE WHEN rotated.claims IS NOT NULL
      THEN (SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE u.id = rotated.user_id) END AS user_record,
      clock_timestamp() AS db_now
    FROM rotated WHERE authly_commit_deadline(coalesce(${r.commitBy}::timestamptz, 'infinity'))`;
  return row && withUserRecord(row);
}

/**
 * Uses a refresh token without rotating it (FAPI 2.0 §5.3.2.1: a confidential client that misses a
 * response retries with the same token): the same liveness conditions as rotateRefreshToken, and
 * the grant pushed past the new access token's expiry when needed (never past its absolute end).
 */
export async function useRefreshTokenInPlace(
  sql: Tx,
  r: { tokenHash: string; clientId: string; accessTokenExpiresAt: Date; grantMaxLifetimeSeconds: number },
): Promise<RotatedRefreshToken | undefined> {
  const [row] = await sql<RotationRow[]>`
    WITH used AS (
      SELECT r.*, g.dpop_jkt, g.auth_time, g.session_id, g.acr, g.amr, g.claims, g.resources, g.expires_at AS grant_expires_at, g.created_at AS grant_created_at
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
      WHERE r.token_hash = ${r.tokenHash} AND r.client_id = ${r.clientId} AND r.rotated_at IS NULL
        AND r.revoked_at IS NULL AND r.expires_at > now() AND g.revoked_at IS NULL
        AND g.created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}) > now()
        AND (r.user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id AND u.is_active))
    ), extended AS (
      UPDATE grants g SET expires_at = least(${r.accessTokenExpiresAt}::timestamptz, u.grant_created_at + make_interval(secs => ${r.grantMaxLifetimeSeconds}))
      FROM used u WHERE g.id = u.grant_id AND g.expires_at < ${r.accessTokenExpiresAt}::timestamptz
    )
    SELECT used.*, CASE WHEN used.claims IS NOT NULL
      THEN (SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE u.id = used.user_id) END AS user_record
    FROM used`;
  return row && withUserRecord(row);
}

/** The refresh token with its grant's revocation folded in (for reuse detection, introspection). */
export async function findRefreshToken(sql: Tx, tokenHash: string): Promise<(RefreshTokenRow & { grant_revoked: boolean; auth_time: Date | null; acr: string | null; amr: string[] | null }) | undefined> {
  const [row] = await sql<(RefreshTokenRow & { grant_revoked: boolean; auth_time: Date | null; acr: string | null; amr: string[] | null })[]>`
    SELECT r.*, (g.revoked_at IS NOT NULL) AS grant_revoked, g.auth_time, g.acr, g.amr
    FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
    WHERE r.token_hash = ${tokenHash}`;
  return row;
}

// ---- private_key_jwt assertion replay protection (RFC 7523 §3) ----

/** Records an assertion jti; false when it was seen before (a replay). */
export async function recordAssertionJti(sql: Tx, jtiHash: string, clientId: string, expiresAt: Date): Promise<boolean> {
  await sql`DELETE FROM client_assertion_jtis WHERE jti_hash = ${jtiHash} AND expires_at < now()`;
  const rows = await sql`
    INSERT INTO client_assertion_jtis (jti_hash, client_id, expires_at) VALUES (${jtiHash}, ${clientId}, ${expiresAt})
    ON CONFLICT (jti_hash) DO NOTHING RETURNING jti_hash`;
  return rows.length > 0;
}

