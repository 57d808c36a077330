// Token families: grants, opaque refresh tokens (stored as hashes, rotated on every use, reuse
// revokes the family per RFC 9700 §4.14.2) and access-token lifetimes per client.
import type { Deps } from "../deps";
import { noteDatabaseClock, selfCheckingStatement, statementCommitBound, type Tx } from "../db/sql";
import type { ClientRecord } from "../clients/model";
import { audit } from "../audit/service";
import { hashSecret, randomToken } from "../lib/crypto";
import { MAX_TOKEN_LIFETIME_SECONDS } from "../keys/service";
import * as store from "./store";

export type { GrantRow, RefreshTokenRow, RotatedRefreshToken, AuthorizationCodeRow, NewGrant } from "./store";

/**
 * Seconds an access token of this client lives: the client's setting, else the configured one;
 * never more than MAX_TOKEN_LIFETIME_SECONDS, which is how long a retired key stays published.
 */
export function accessTokenTtl(deps: Deps, client: Pick<ClientRecord, "access_token_ttl">): number {
  const ttl = client.access_token_ttl && client.access_token_ttl > 0 ? client.access_token_ttl : deps.config.accessTokenTtl;
  return Math.min(ttl, MAX_TOKEN_LIFETIME_SECONDS);
}

/**
 * Seconds a refresh token of this client lives: the client's setting, else the configured one;
 * never more than AUTHLY_REFRESH_GRANT_MAX_LIFETIME, the absolute lifetime of its grant (a new
 * grant's first token; rotation bounds its successors by the grant's creation, see rotateRefreshToken).
 */
export function refreshTokenTtl(deps: Deps, client: Pick<ClientRecord, "refresh_token_ttl">): number {
  const ttl = client.refresh_token_ttl && client.refresh_token_ttl > 0 ? client.refresh_token_ttl : deps.config.refreshTokenTtl;
  return Math.min(ttl, deps.config.refreshGrantMaxLifetime);
}

export function hashToken(deps: Deps, value: string): string {
  return hashSecret(deps.peppers.tokens, value);
}

export function createGrant(tx: Tx, grant: store.NewGrant): Promise<string> {
  return store.insertGrant(tx, grant);
}

/** Issues a new opaque refresh token of a grant; only its hash is stored. */
export async function issueRefreshToken(
  deps: Deps,
  tx: Tx,
  /** grantExpiresAt: the expiry of a grant the caller has just created with the refresh token's
   *  lifetime; the token gets the same, and the grant needs no update. */
  input: { grantId: string; client: ClientRecord; userId: string | null; scope: string; grantExpiresAt?: Date },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken(32);
  const expiresAt = await store.insertRefreshToken(tx, {
    tokenHash: hashToken(deps, token),
    grantId: input.grantId,
    clientId: input.client.client_id,
    userId: input.userId,
    scope: input.scope,
    expiresAt: input.grantExpiresAt ?? new Date(Date.now() + refreshTokenTtl(deps, input.client) * 1000),
    grantMaxLifetimeSeconds: deps.config.refreshGrantMaxLifetime,
  });
  if (!input.grantExpiresAt || expiresAt > input.grantExpiresAt) await store.extendGrant(tx, input.grantId, expiresAt);
  return { token, expiresAt };
}

/**
 * Redeems an authorization code in one statement (store.redeemAuthorizationCode): the grant (id
 * chosen here) and, when the client may refresh and the scope allows it, its first refresh token,
 * lasting as long as the grant (else the grant lasts as long as the access token). Undefined when
 * the code or a check does not hold.
 */
export async function redeemAuthorizationCode(
  deps: Deps,
  tx: Tx,
  input: { codeHash: string; client: ClientRecord; redirectUri: string; dpopJkt: string | null; challenge: string; grantDpopJkt: string | null; commitBy: Date | null },
): Promise<{ code: store.RedeemedAuthorizationCode; grantId: string; refreshToken: string | undefined } | undefined> {
  const { client } = input;
  const grantId = crypto.randomUUID();
  const refreshToken = randomToken(32);
  const now = Date.now();
  const code = await store.redeemAuthorizationCode(tx, {
    codeHash: input.codeHash,
    clientId: client.client_id,
    redirectUri: input.redirectUri,
    dpopJkt: input.dpopJkt,
    challenge: input.challenge,
    grantId,
    grantDpopJkt: input.grantDpopJkt,
    mayRefresh: client.grant_types.includes("refresh_token"),
    refreshTokenHash: hashToken(deps, refreshToken),
    refreshExpiresAt: new Date(now + refreshTokenTtl(deps, client) * 1000),
    accessExpiresAt: new Date(now + accessTokenTtl(deps, client) * 1000),
    grantMaxLifetimeSeconds: deps.config.refreshGrantMaxLifetime,
    commitBy: input.commitBy,
  });
  if (!code) return undefined;
  noteDatabaseClock(deps.sql, code.db_now);
  return { code, grantId, refreshToken: code.refresh_expires_at ? refreshToken : undefined };
}

export type RotationResult =
  /** refreshToken: the successor; undefined when the token was used without rotation (FAPI 2.0).
   *  row.user: the user's record when the grant carries a claims request. */
  | { outcome: "rotated"; row: store.RotatedRefreshToken; refreshToken: string | undefined }
  | { outcome: "reused"; grantId: string }
  | { outcome: "invalid" };

/** How far past the moment a token of its family needs it a grant's expiry is pushed, so that it
 *  is rewritten at most about once a day per family (store.rotateRefreshToken). */
const GRANT_EXTENSION_STEP_SECONDS = 86_400;

/**
 * Uses a refresh token once and issues its successor (same scope). Exactly one of several
 * concurrent callers gets "rotated"; presenting an already rotated token is "reused" (the caller
 * revokes the family); anything else (unknown, expired, revoked, another client's, an inactive
 * user's, one of a grant older than AUTHLY_REFRESH_GRANT_MAX_LIFETIME) is "invalid".
 *
 * One statement (with the user's record when an ID token may need its claims): inside db/sql.ts
 * pipelinedTransaction it goes out in one write with BEGIN.
 */
export async function useRefreshToken(deps: Deps, tx: Tx, token: string, client: ClientRecord, opts: { rotate?: boolean } = {}): Promise<RotationResult> {
  const hash = hashToken(deps, token);
  if (opts.rotate === false) {
    const row = await store.useRefreshTokenInPlace(tx, { tokenHash: hash, clientId: client.client_id, accessTokenExpiresAt: new Date(Date.now() + accessTokenTtl(deps, client) * 1000), grantMaxLifetimeSeconds: deps.config.refreshGrantMaxLifetime });
    // The same token stays in use: the caller sends no new one (refreshToken undefined).
    return row ? { outcome: "rotated", row, refreshToken: undefined } : { outcome: "invalid" };
  }
  const successor = randomToken(32);
  const row = await store.rotateRefreshToken(tx, { ...rotation(deps, hash, successor, client), commitBy: null });
  if (row) {
    noteDatabaseClock(deps.sql, row.db_now!);
    return { outcome: "rotated", row, refreshToken: successor };
  }
  const known = await store.findRefreshToken(tx, hash);
  if (known && known.client_id === client.client_id && known.rotated_at && !known.revoked_at && !known.grant_revoked) {
    return { outcome: "reused", grantId: known.grant_id };
  }
  return { outcome: "invalid" };
}

/**
 * The rotation as one statement that commits on its own (db/sql.ts statementCommitBound: it checks
 * the request deadline itself), for a token whose new tokens need nothing more from the database
 * and no check that could still fail: a grant without resources, bound to no DPoP key or to
 * `dpopJkt` (store.rotateRefreshToken `only`). Undefined when it did not rotate (nothing was
 * written; useRefreshToken in a transaction then says why) or when the pool has no fresh reading
 * of the database's clock.
 */
export async function rotateRefreshTokenAlone(deps: Deps, token: string, client: ClientRecord, dpopJkt: string | null): Promise<{ row: store.RotatedRefreshToken; refreshToken: string } | undefined> {
  const commitBy = statementCommitBound(deps.sql);
  if (commitBy === undefined) return undefined;
  const successor = randomToken(32);
  const input = { ...rotation(deps, hashToken(deps, token), successor, client), commitBy, only: { dpopJkt } };
  const row = await selfCheckingStatement(() => store.rotateRefreshToken(deps.sql, input));
  if (!row) return undefined;
  noteDatabaseClock(deps.sql, row.db_now!);
  return { row, refreshToken: successor };
}

/** What store.rotateRefreshToken needs besides its commit bound: the token, its successor, their lifetimes. */
function rotation(deps: Deps, tokenHash: string, successor: string, client: ClientRecord) {
  const now = Date.now();
  return {
    tokenHash,
    clientId: client.client_id,
    newTokenHash: hashToken(deps, successor),
    newExpiresAt: new Date(now + refreshTokenTtl(deps, client) * 1000),
    accessTokenExpiresAt: new Date(now + accessTokenTtl(deps, client) * 1000),
    grantMaxLifetimeSeconds: deps.config.refreshGrantMaxLifetime,
    stepSeconds: Math.min(GRANT_EXTENSION_STEP_SECONDS, refreshTokenTtl(deps, client)),
  };
}

/** Revokes a whole token family (grant) and records why. */
export async function revokeFamily(deps: Deps, grantId: string, reason: string, ctx: { clientId: string; ip?: string | null }): Promise<void> {
  await deps.sql.begin(async (tx) => {
    const changed = await store.revokeGrant(tx, grantId, reason);
    if (changed) {
      await audit(deps, { action: "token.family_revoked", actor: ctx.clientId, targetType: "grant", targetId: grantId, outcome: "success", ip: ctx.ip, details: { reason } }, tx);
    }
  });
}

/** RFC 6749 §4.1.2: the code was used twice; revoke every token issued from it. */
export async function revokeCodeFamily(deps: Deps, codeHash: string, ctx: { clientId: string; ip?: string | null }): Promise<string[]> {
  return deps.sql.begin(async (tx) => {
    const ids = await store.revokeGrantsByCode(tx, codeHash, "authorization_code_reuse");
    await audit(deps, { action: "token.code_reuse", actor: ctx.clientId, targetType: "authorization_code", targetId: null, outcome: "denied", ip: ctx.ip, details: { revoked_grants: ids } }, tx);
    return ids;
  });
}

export const findGrant = store.findGrant;
export const findRefreshToken = store.findRefreshToken;
export const revokeAccessToken = store.revokeAccessToken;
export const recordRevokedAccessToken = store.recordRevokedAccessToken;
export const consumeAuthorizationCode = store.consumeAuthorizationCode;
export const findUserOfAuthorizationCode = store.findUserOfAuthorizationCode;
export const findAuthorizationCode = store.findAuthorizationCode;
