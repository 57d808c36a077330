// Access tokens: JWTs per RFC 9068 (typ at+jwt; iss, sub, aud, client_id, scope, exp, iat, jti),
// signed with the active key of the configured access-token algorithm. Every issued token is
// recorded (table access_tokens) so that it can be revoked and introspected on every node.
import { jwtVerify, decodeProtectedHeader, type JWTPayload } from "jose";
import { signCompactJws } from "../keys/service";
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { OAuthError } from "../errors";
import { randomToken } from "../lib/crypto";
import { accessTokenRevoked, insertAccessToken, recordAccessToken } from "./store";

export interface AccessTokenInput {
  clientId: string;
  /** Subject: the user id, or the client id for client_credentials. */
  sub: string;
  userId?: string | null;
  scope: string;
  grantId?: string | null;
  /** Audience; defaults to the issuer (Authly's own APIs: userinfo, admin). */
  aud?: string | string[];
  ttlSeconds?: number;
  /** Extra claims (e.g. auth_time, acr, sid). */
  extra?: Record<string, unknown>;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
  expiresAt: Date;
}

export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope: string;
  sub: string;
  jti: string;
  exp: number;
  iat: number;
}

/** Signs and records an access token. Pass `tx` to record it inside the caller's transaction. */
export async function issueAccessToken(deps: Deps, input: AccessTokenInput, tx: Tx = deps.sql): Promise<IssuedAccessToken> {
  const ttl = input.ttlSeconds ?? deps.config.accessTokenTtl;
  const key = await deps.keys.signingKey(deps.config.accessTokenAlg);
  const jti = randomToken(16);
  const now = Math.floor(Date.now() / 1000);
  const token = await signCompactJws(key, { typ: "at+jwt" }, {
    ...input.extra,
    client_id: input.clientId,
    scope: input.scope,
    iss: deps.config.issuer,
    sub: input.sub,
    aud: input.aud ?? deps.config.issuer,
    iat: now,
    exp: now + ttl,
    jti,
  });
  const expiresAt = new Date((now + ttl) * 1000);
  const row = { jti, grantId: input.grantId ?? null, clientId: input.clientId, userId: input.userId ?? null, scope: input.scope, expiresAt };
  // Outside a transaction, many concurrent requests share one INSERT (group commit).
  if (tx === deps.sql) await recordAccessToken(deps.sql, row);
  else await insertAccessToken(tx, row);
  return { token, jti, expiresIn: ttl, expiresAt };
}

/**
 * Tokens whose signature was verified, per key service: resource servers present the same token
 * many times. An entry is used only while the token is unexpired and its key is still published
 * (a revoked key invalidates it); revocation of the token itself is checked in the database.
 */
const verified = new WeakMap<object, Map<string, { claims: AccessTokenClaims; kid: string }>>();
const VERIFIED_MAX = 10_000;

/** Verifies signature, typ, issuer and expiry only (no database). Throws invalid_token. */
export async function verifyAccessTokenSignature(deps: Deps, token: string): Promise<AccessTokenClaims> {
  let cache = verified.get(deps.keys);
  if (!cache) verified.set(deps.keys, (cache = new Map()));
  const hit = cache.get(token);
  if (hit) {
    if (hit.claims.exp > Date.now() / 1000 && (await deps.keys.verificationKey(hit.kid))) return { ...hit.claims };
    cache.delete(token);
  }
  const claims = await verifySignature(deps, token);
  if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
  cache.set(token, { claims, kid: decodeProtectedHeader(token).kid! });
  return claims;
}

async function verifySignature(deps: Deps, token: string): Promise<AccessTokenClaims> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw invalidToken("The access token is malformed");
  }
  const key = kid ? await deps.keys.verificationKey(kid) : undefined;
  if (!key) throw invalidToken("The access token was not signed by a key of this server");
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      issuer: deps.config.issuer,
      typ: "at+jwt",
      algorithms: [key.alg],
    });
    if (typeof payload.client_id !== "string" || typeof payload.jti !== "string" || typeof payload.sub !== "string") {
      throw invalidToken("The access token lacks required claims");
    }
    return { scope: "", ...payload } as AccessTokenClaims;
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidToken("The access token is invalid or expired", err);
  }
}

/** Full check: signature and claims, then not revoked (itself or its grant) in the database. */
export async function verifyAccessToken(deps: Deps, token: string): Promise<AccessTokenClaims> {
  const claims = await verifyAccessTokenSignature(deps, token);
  const revoked = await accessTokenRevoked(deps.sql, claims.jti);
  if (revoked !== false) throw invalidToken("The access token has been revoked");
  return claims;
}

function invalidToken(description: string, cause?: unknown): OAuthError {
  return new OAuthError("invalid_token", description, {
    status: 401,
    cause,
    headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` },
  });
}
