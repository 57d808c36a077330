// SQL of the front channel: browser sessions, pending interactions, remembered consent, the
// authorization codes it hands to the token endpoint, and the scope catalogue it reads.
import type { Sql, Tx } from "../db/sql";
import { BatchLoader, loaderFor } from "../lib/batch-loader";
import { hasUuidShape } from "../lib/text";
import type { UserRecord } from "../accounts/model";
import { factorCountColumns, factorCountsOf, type FactorCounts } from "../authn/store";

export interface SessionRow {
  id: string;
  token_hash: string;
  user_id: string;
  auth_time: Date;
  amr: string[];
  acr: string | null;
  user_agent: string | null;
  source_ip: string | null;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  /** The upstream identity provider of a federated sign-in (NULL: signed in on this server). */
  upstream_idp_id?: string | null;
  /** The upstream's ID token `sub` and `sid` of that sign-in (back-channel logout from the upstream). */
  upstream_sub?: string | null;
  upstream_sid?: string | null;
}

export async function insertSession(
  sql: Tx,
  row: { tokenHash: string; userId: string; amr: string[]; acr: string | null; userAgent: string | null; sourceIp: string | null; idleSeconds: number; absoluteSeconds: number; authTime?: Date; upstreamIdpId?: string; upstreamSub?: string; upstreamSid?: string },
): Promise<SessionRow> {
  const [s] = await sql<SessionRow[]>`
    INSERT INTO sessions (token_hash, user_id, auth_time, amr, acr, user_agent, source_ip, upstream_idp_id, upstream_sub, upstream_sid, idle_expires_at, expires_at)
    VALUES (${row.tokenHash}, ${row.userId}, coalesce(${row.authTime ?? null}::timestamptz, now()), ${row.amr}, ${row.acr}, ${row.userAgent}, ${row.sourceIp}, ${row.upstreamIdpId ?? null},
            ${row.upstreamSub ?? null}, ${row.upstreamSid ?? null},
            now() + make_interval(secs => ${Math.min(row.idleSeconds, row.absoluteSeconds)}),
            now() + make_interval(secs => ${row.absoluteSeconds}))
    RETURNING *`;
  return s!;
}

/**
 * A live session by its token hash; extends its idle lifetime (never past the absolute one). The
 * row is written at most once per min(60 s, a tenth of the idle lifetime): a session used again
 * sooner is only read (one query, no transaction, no WAL flush), so a burst of sign-ins through
 * one session costs no writes. The idle lifetime then counts from the last write: a session can
 * end at most that much sooner than idleSeconds after its last use, never later.
 */
export async function touchSession(sql: Tx, tokenHash: string, idleSeconds: number): Promise<SessionRow | undefined> {
  const every = Math.min(60, Math.floor(idleSeconds / 10));
  const [live] = await sql<(SessionRow & { authly_touch: boolean })[]>`
    SELECT s.last_seen_at <= now() - make_interval(secs => ${every}) AS authly_touch, s.*
    FROM sessions s JOIN users u ON u.id = s.user_id AND u.is_active
    WHERE s.token_hash = ${tokenHash} AND s.revoked_at IS NULL AND s.expires_at > now() AND s.idle_expires_at > now()`;
  if (!live) return undefined;
  const { authly_touch: touch, ...row } = live;
  if (!touch) return row;
  const [s] = await sql<SessionRow[]>`
    UPDATE sessions s SET last_seen_at = now(), idle_expires_at = least(now() + make_interval(secs => ${idleSeconds}), s.expires_at)
    FROM users u
    WHERE s.token_hash = ${tokenHash} AND s.revoked_at IS NULL AND s.expires_at > now() AND s.idle_expires_at > now()
      AND u.id = s.user_id AND u.is_active
    RETURNING s.*`;
  return s;
}

/** A session's authentication record after a step-up: more methods, a new level, a new auth_time. */
export async function updateSessionAuthentication(sql: Tx, sessionId: string, amr: string[], acr: string): Promise<SessionRow | undefined> {
  const [s] = await sql<SessionRow[]>`UPDATE sessions SET amr = ${amr}::text[], acr = ${acr}, auth_time = now() WHERE id = ${sessionId} AND revoked_at IS NULL RETURNING *`;
  return s;
}

export async function listUserSessions(sql: Tx, userId: string): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    SELECT * FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now() AND idle_expires_at > now()
    ORDER BY last_seen_at DESC LIMIT 100`;
}

export async function revokeSession(sql: Tx, id: string): Promise<boolean> {
  const rows = await sql`UPDATE sessions SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL`;
  return rows.count > 0;
}

export interface InteractionRow {
  id_hash: string;
  client_id: string;
  params: Record<string, unknown>;
  session_id: string | null;
  csrf_hash: string;
  created_at: Date;
  expires_at: Date;
}

export async function insertInteraction(sql: Tx, row: { idHash: string; clientId: string; params: Record<string, unknown>; csrfHash: string; ttlSeconds: number }): Promise<void> {
  await sql`
    INSERT INTO interactions (id_hash, client_id, params, csrf_hash, expires_at)
    VALUES (${row.idHash}, ${row.clientId}, ${sql.json(row.params as never)}, ${row.csrfHash}, now() + make_interval(secs => ${row.ttlSeconds}))`;
}

export async function findInteraction(sql: Tx, idHash: string): Promise<InteractionRow | undefined> {
  const [row] = await sql<InteractionRow[]>`SELECT * FROM interactions WHERE id_hash = ${idHash} AND expires_at > now()`;
  return row;
}

export async function updateInteraction(sql: Tx, idHash: string, params: Record<string, unknown>, sessionId: string | null): Promise<void> {
  await sql`UPDATE interactions SET params = ${sql.json(params as never)}, session_id = ${sessionId} WHERE id_hash = ${idHash}`;
}

/** Removes an interaction; true for the one caller that removed it (single use). */
export async function deleteInteraction(sql: Tx, idHash: string): Promise<boolean> {
  const rows = await sql`DELETE FROM interactions WHERE id_hash = ${idHash} AND expires_at > now()`;
  return rows.count > 0;
}

export async function deleteExpiredInteractions(sql: Tx): Promise<number> {
  const rows = await sql`DELETE FROM interactions WHERE expires_at <= now()`;
  return rows.count;
}

export interface RememberedConsent {
  scopes: string[];
  claims: string[];
  resources: string[];
}

/** What decides the step after a session exists (interaction/service.ts nextStep): the user, the
 *  factors they have (authn/store.ts) and their consent at this client. */
export interface SignInState {
  user: UserRecord;
  factors: FactorCounts;
  consent: RememberedConsent;
}

/** The SignInState of a user at a client, in one read. */
export async function findSignInState(sql: Tx, userId: string, clientId: string): Promise<SignInState | undefined> {
  if (!hasUuidShape(userId)) return undefined;
  const [row] = await sql<(UserRecord & { factor_totp: boolean; factor_webauthn: number; factor_recovery: number; consent_scopes: string[] | null; consent_claims: string[] | null; consent_resources: string[] | null })[]>`
    SELECT u.*, ${factorCountColumns(sql, userId)},
      c.scopes AS consent_scopes, c.claims AS consent_claims, c.resources AS consent_resources
    FROM users u LEFT JOIN consents c ON c.user_id = u.id AND c.client_id = ${clientId}
    WHERE u.id = ${userId}`;
  if (!row) return undefined;
  const { factor_totp, factor_webauthn, factor_recovery, consent_scopes, consent_claims, consent_resources, ...user } = row;
  return {
    user,
    factors: factorCountsOf({ factor_totp, factor_webauthn, factor_recovery }),
    consent: { scopes: consent_scopes ?? [], claims: consent_claims ?? [], resources: consent_resources ?? [] },
  };
}

/** Remembers consent: the union of what was granted before and now (scopes and claims). */
export async function upsertConsent(sql: Tx, userId: string, clientId: string, scopes: string[], claims: string[], resources: string[] = []): Promise<void> {
  await sql`
    INSERT INTO consents (user_id, client_id, scopes, claims, resources) VALUES (${userId}, ${clientId}, ${scopes}, ${claims}::text[], ${resources}::text[])
    ON CONFLICT (user_id, client_id) DO UPDATE
      SET scopes = ARRAY(SELECT DISTINCT unnest(consents.scopes || EXCLUDED.scopes) ORDER BY 1),
          resources = ARRAY(SELECT DISTINCT unnest(consents.resources || EXCLUDED.resources) ORDER BY 1),
          claims = ARRAY(SELECT DISTINCT unnest(consents.claims || EXCLUDED.claims) ORDER BY 1), updated_at = now()`;
}

export async function deleteConsent(sql: Tx, userId: string, clientId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM consents WHERE user_id = ${userId} AND client_id = ${clientId}`;
  return rows.count > 0;
}

export interface ScopeRow {
  name: string;
  description: string;
  is_default: boolean;
}

export async function listActiveScopes(sql: Tx): Promise<ScopeRow[]> {
  return sql<ScopeRow[]>`SELECT name, description, is_default FROM scopes WHERE is_active ORDER BY name`;
}

const scopeLoaders = new WeakMap<Sql, BatchLoader<string, ScopeRow[]>>();

/** listActiveScopes for the pool, micro-batched: concurrent authorization requests share one query. */
export async function loadActiveScopes(sql: Sql): Promise<ScopeRow[]> {
  const rows = await loaderFor(scopeLoaders, sql, (pool) => async (keys: string[]) => {
    const all = await listActiveScopes(pool);
    return new Map(keys.map((k) => [k, all]));
  }, { retryAlone: () => false }).load("active");
  return rows ?? [];
}

export interface NewAuthorizationCode {
  codeHash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string;
  sessionId: string;
  authTime: Date;
  acr: string | null;
  amr: string[];
  claims: unknown;
  ttlSeconds: number;
  resources?: string[];
  /** RFC 9449 §10: the DPoP key thumbprint the code is bound to. */
  dpopJkt?: string | null;
}

export async function insertAuthorizationCode(sql: Tx, c: NewAuthorizationCode): Promise<void> {
  await sql`
    INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, code_challenge_method,
                                     session_id, auth_time, acr, amr, claims, expires_at, resources, dpop_jkt)
    VALUES (${c.codeHash}, ${c.clientId}, ${c.userId}, ${c.redirectUri}, ${c.scope}, ${c.nonce}, ${c.codeChallenge}, 'S256',
            ${c.sessionId}, ${c.authTime}, ${c.acr}, ${c.amr}, ${c.claims === null || c.claims === undefined ? null : sql.json(c.claims as never)},
            now() + make_interval(secs => ${c.ttlSeconds}), ${c.resources ?? []}::text[], ${c.dpopJkt ?? null})`;
}

export interface ConsentRow {
  client_id: string;
  client_name: string | null;
  scopes: string[];
  claims: string[];
  created_at: Date;
  updated_at: Date;
}

export async function listConsents(sql: Tx, userId: string): Promise<ConsentRow[]> {
  return sql<ConsentRow[]>`
    SELECT c.client_id, cl.client_name, c.scopes, c.claims, c.created_at, c.updated_at
    FROM consents c LEFT JOIN clients cl ON cl.client_id = c.client_id
    WHERE c.user_id = ${userId} ORDER BY c.updated_at DESC`;
}

/** Revokes the live grants (and so their refresh and access tokens) of one user at one client. */
export async function revokeUserClientGrants(sql: Tx, userId: string, clientId: string): Promise<number> {
  const rows = await sql`
    UPDATE grants SET revoked_at = now(), revoked_reason = 'consent_revoked'
    WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL`;
  await sql`
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL`;
  return rows.count;
}

export async function userExists(sql: Tx, userId: string): Promise<boolean> {
  if (!hasUuidShape(userId)) return false;
  const rows = await sql`SELECT 1 FROM users WHERE id = ${userId}`;
  return rows.length > 0;
}
