// Validation of a logout token from an upstream OpenID Connect provider, as the relying party
// (OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6): signature by the provider's JWKS (read
// through safeFetch, cached like the ID token's keys), alg as for ID tokens, iss = the provider,
// aud contains our client_id, iat within a window, exp, jti, sub and/or sid, the back-channel
// logout event, and no nonce. Encrypted logout tokens are not supported (§2.6 step 1).
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import type { Deps } from "../../deps";
import { outboundPolicy } from "../../lib/outbound";
import { isValidText } from "../../lib/text";
import { remoteKeySet } from "../../oauth/client-keys";
import { CLOCK_TOLERANCE_SECONDS, ID_TOKEN_ALGS } from "./flow";
import type { IdpRecord } from "./model";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** A logout token is sent when the session ends (§2.5): one issued longer ago than this is refused. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;
/** Bounds of the values we store and compare. */
const MAX_CLAIM_LENGTH = 255;

/** Why a logout token was refused: `reason` for the audit, `message` for the 400 answer (§2.8). */
export class LogoutTokenError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "LogoutTokenError";
  }
}

export interface VerifiedLogoutToken {
  sub?: string;
  sid?: string;
  jti: string;
  /** Until when a replay of this token must be refused (past it, the iat window refuses it). */
  replayUntil: Date;
}

/** A claim we store or compare in SQL: non-empty, bounded, and valid text (no NUL, no lone surrogate: lib/text.ts). */
const bounded = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_CLAIM_LENGTH && isValidText(v);

/** §2.6: every check, in order; throws LogoutTokenError (the caller answers 400 invalid_request). */
export async function verifyLogoutToken(deps: Deps, idp: IdpRecord, token: string): Promise<VerifiedLogoutToken> {
  if (idp.kind !== "oidc" || !idp.issuer || !idp.jwks_uri) throw new LogoutTokenError("not_oidc", "This provider does not send logout tokens (it is not an OpenID Connect provider).");
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new LogoutTokenError("malformed", "The logout token is not a JWT.");
  }
  // Step 1: a JWE (five parts, an `enc` header) would need a key of ours; none is registered.
  if ("enc" in header || token.split(".").length !== 3) throw new LogoutTokenError("encrypted", "Encrypted logout tokens are not supported.");
  // Explicit typing (§2.4): an ID token or an access token is never a logout token.
  if (header.typ !== undefined && !/^(application\/)?logout\+jwt$/i.test(header.typ) && header.typ.toUpperCase() !== "JWT") {
    throw new LogoutTokenError("typ", "The token is not a logout token (typ).");
  }
  let payload: Record<string, unknown>;
  try {
    // Steps 2-4: signature, alg, iss, aud, iat (not in the future, not older than the window), exp.
    ({ payload } = await jwtVerify(token, remoteKeySet(idp.jwks_uri, outboundPolicy(deps.config)), {
      issuer: idp.issuer,
      audience: idp.client_id,
      algorithms: ID_TOKEN_ALGS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      requiredClaims: ["iat", "exp", "jti"],
    }));
  } catch (err) {
    const code = err instanceof joseErrors.JOSEError ? err.code : "invalid";
    const claim = err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired ? err.claim : undefined;
    throw new LogoutTokenError(claim ? `jwt_claim_${claim}` : `jwt_${code}`, `The logout token is not valid${claim ? ` (${claim})` : ""}.`);
  }
  // Step 5: sub, sid, or both.
  const sub = payload.sub;
  const sid = payload.sid;
  if (sub !== undefined && !bounded(sub)) throw new LogoutTokenError("sub", "The logout token's sub is not valid.");
  if (sid !== undefined && !bounded(sid)) throw new LogoutTokenError("sid", "The logout token's sid is not valid.");
  if (sub === undefined && sid === undefined) throw new LogoutTokenError("no_sub_sid", "The logout token names neither a sub nor a sid.");
  // Step 6: events with the back-channel logout member, whose value is a JSON object.
  const events = payload.events;
  const event = events && typeof events === "object" && !Array.isArray(events) ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== "object" || Array.isArray(event)) throw new LogoutTokenError("events", `The logout token has no ${BACKCHANNEL_LOGOUT_EVENT} event.`);
  // Step 7: a nonce means an ID token (or a confusion attempt), never a logout token.
  if ("nonce" in payload) throw new LogoutTokenError("nonce", "A logout token must not contain a nonce.");
  // Several audiences: as for ID tokens, azp must then be our client_id (OIDC Core §3.1.3.7).
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== idp.client_id) throw new LogoutTokenError("azp", "The logout token is not valid (azp).");
  if (!bounded(payload.jti)) throw new LogoutTokenError("jti", "The logout token's jti is not valid.");
  const replayUntil = new Date(((payload.iat as number) + LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS) * 1000);
  return { sub: sub as string | undefined, sid: sid as string | undefined, jti: payload.jti, replayUntil };
}
