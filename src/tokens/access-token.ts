// Access tokens: JWTs per RFC 9068 (typ at+jwt; iss, sub, aud, client_id, scope, exp, iat, jti),
// signed with the active key of the configured access-token algorithm (or of an API resource's,
// RFC 8707; every algorithm has a published key). No token of a grant (a
// user's: authorization_code, refresh_token, password, device_code) is recorded at issuance: it names its grant
// in the private claim `gid`, and it is live while that grant is (a revoked family, user or client
// ends it at once on every node, since every check reads the grant). A client token
// (client_credentials: no grant, no user) is not recorded either: it is live while its signature,
// expiry and client hold (clients.access_tokens_revoked_at). Revoking one token (RFC 7009) records
// it as revoked. Only a user's token issued outside a grant (none on the token endpoint) is
// recorded. Skipping the INSERT is a third of the cost of a client_credentials request and a
// quarter of a refresh rotation's database writes.
import type { JWTPayload } from "jose";
import { signCompactJws } from "../keys/service";
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { OAuthError } from "../errors";
import { randomToken } from "../lib/crypto";
import { OwnJwtError, verifyOwnJwt } from "./jwt-kind";
import { insertAccessToken, loadAccessTokenState } from "./store";

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
  /** Signing algorithm (an API resource's, RFC 8707); AUTHLY_ACCESS_TOKEN_ALG when not given. */
  alg?: "RS256" | "ES256" | "EdDSA";
  /** RFC 9449 §6.1: the JWK thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  jkt?: string;
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
  /** The grant (token family) of a user's token; absent on client tokens and recorded tokens. */
  gid?: string;
  /** RFC 9449 §6.1 / RFC 7800: the key a DPoP-bound token is bound to. */
  cnf?: { jkt?: string };
  scope: string;
  sub: string;
  jti: string;
  exp: number;
  iat: number;
}

/** Signs an access token; a token of a grant names it (`gid`), a user's token without a grant is
 *  recorded (inside the caller's transaction `tx`). */
export async function issueAccessToken(deps: Deps, input: AccessTokenInput, tx?: Tx): Promise<IssuedAccessToken> {
  const ttl = input.ttlSeconds ?? deps.config.accessTokenTtl;
  const key = await deps.keys.signingKey(input.alg ?? deps.config.accessTokenAlg);
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
    ...(input.grantId ? { gid: input.grantId } : {}),
    ...(input.jkt ? { cnf: { jkt: input.jkt } } : {}),
  });
  const expiresAt = new Date((now + ttl) * 1000);
  if (!input.grantId && input.userId) {
    await insertAccessToken(tx ?? deps.sql, { jti, grantId: input.grantId ?? null, clientId: input.clientId, userId: input.userId ?? null, scope: input.scope, expiresAt });
  }
  return { token, jti, expiresIn: ttl, expiresAt };
}

/**
 * Tokens whose signature was verified, per key service: resource servers present the same token
 * many times. An entry is used only while the token is unexpired and its key is still published
 * (a revoked key invalidates it); revocation of the token itself is checked in the database.
 */
const verified = new WeakMap<object, Map<string, { claims: AccessTokenClaims; kid: string }>>();
/** The kid that signed each claims object verifyAccessTokenSignature returned (for accessTokenLive). */
const signedBy = new WeakMap<AccessTokenClaims, string>();
const VERIFIED_MAX = 10_000;

/** Verifies signature, typ, issuer and expiry only (no database). Throws invalid_token. */
export async function verifyAccessTokenSignature(deps: Deps, token: string): Promise<AccessTokenClaims> {
  let cache = verified.get(deps.keys);
  if (!cache) verified.set(deps.keys, (cache = new Map()));
  const hit = cache.get(token);
  if (hit) {
    if (hit.claims.exp > Date.now() / 1000 && (await deps.keys.verificationKey(hit.kid))) {
      const claims = { ...hit.claims };
      signedBy.set(claims, hit.kid);
      return claims;
    }
    cache.delete(token);
  }
  const { claims, kid } = await verifySignature(deps, token);
  if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
  cache.set(token, { claims, kid });
  const copy = { ...claims };
  signedBy.set(copy, kid);
  return copy;
}

/** One of our JWTs of the access-token kind only (jwt-kind.ts): an ID token or a logout token,
 *  signed by the same keys, is refused here. */
async function verifySignature(deps: Deps, token: string): Promise<{ claims: AccessTokenClaims; kid: string }> {
  try {
    const { payload, kid } = await verifyOwnJwt(deps, token, "access_token");
    return { claims: { scope: "", ...payload } as AccessTokenClaims, kid };
  } catch (err) {
    if (!(err instanceof OwnJwtError)) throw err;
    switch (err.code) {
      case "malformed":
        throw invalidToken("The access token is malformed", err.cause);
      case "unknown_key":
        throw invalidToken("The access token was not signed by a key of this server");
      case "wrong_kind":
        throw invalidToken("The token is not an access token");
      default:
        throw invalidToken("The access token is invalid or expired", err.cause);
    }
  }
}

/** Full check: signature and claims, then live in the database (accessTokenLive). Endpoints that
 *  serve a user still check that `sub` is one (a client token's subject is its client). */
export async function verifyAccessToken(deps: Deps, token: string): Promise<AccessTokenClaims> {
  const claims = await verifyAccessTokenSignature(deps, token);
  if (!(await accessTokenLive(deps, claims))) throw invalidToken("The access token has been revoked");
  return claims;
}

/** Whether a token whose signature and expiry were verified is still live (introspection): its
 *  record says so; or, for a token of a grant, that grant exists unrevoked for this client and
 *  subject and the client is active; or, for an unrecorded client token, its client is active,
 *  existed when the token was issued, and has not had its tokens revoked since (iat has one-second
 *  granularity: a token issued in the second of a revocation counts as revoked). */
export async function accessTokenLive(deps: Deps, claims: AccessTokenClaims): Promise<boolean> {
  const kid = signedBy.get(claims);
  const gid = typeof claims.gid === "string" ? claims.gid : "";
  const state = await loadAccessTokenState(deps.sql, claims.jti, claims.client_id, kid, gid);
  // Its key was revoked, maybe on another node whose revocation this cache has not seen yet.
  if (state?.keyRevoked) {
    await deps.keys.noteRevoked(kid!).catch(() => {});
    return false;
  }
  if (state?.recorded) return !state.recorded.revoked && state.recorded.expires_at.getTime() > Date.now();
  const client = state?.client;
  if (gid) {
    const grant = state?.grant;
    if (!grant || grant.revoked || grant.client_id !== claims.client_id || grant.user_id !== claims.sub) return false;
    // A client known by its metadata document (an URL client_id, RFC draft "client ID metadata
    // document") has no row to deactivate: its live grant is what keeps its tokens alive.
    if (!client) return deps.config.clientIdMetadataDocuments && /^https?:\/\//i.test(claims.client_id);
    return client.is_active;
  }
  if (claims.sub !== claims.client_id) return false;
  // One second of tolerance for a node clock behind the database's around a client's creation.
  if (!client?.is_active || claims.iat < Math.floor(client.created_at.getTime() / 1000) - 1) return false;
  return !client.access_tokens_revoked_at || claims.iat > Math.floor(client.access_tokens_revoked_at.getTime() / 1000);
}

function invalidToken(description: string, cause?: unknown): OAuthError {
  return new OAuthError("invalid_token", description, {
    status: 401,
    cause,
    headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` },
  });
}
