// UserInfo (OIDC Core §5.3): the bearer token from the Authorization header or, for POST, the form
// body (RFC 6750 §2.1-2.2, never both); claims by granted scope and the `claims` parameter (§5.4,
// §5.5); errors per RFC 6750 §3.1 with WWW-Authenticate. DPoP-bound tokens with a proof (RFC 9449 §7).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { anyChallenge, parseAuthorization, tokenChallenge, verifyPresentedToken, type PresentedToken, type TokenScheme } from "../oauth/dpop-resource";
import { resolveClient } from "../registration/client-metadata-document";
import { claimsAllowedForClient, userinfoClaims, type ClaimsRequest } from "./claims";
import { loadUserinfoSubject } from "./store";

function tokenError(scheme: TokenScheme, code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string, status: number, extra = ""): OAuthError {
  return new OAuthError(code, description, { status, headers: { "WWW-Authenticate": tokenChallenge(scheme, code, description, extra) } });
}

/** The access token of a UserInfo request (Authorization: Bearer or DPoP, or a form body's
 *  Bearer token); throws the RFC 6750 / RFC 9449 error when there is none or two. */
export function extractToken(authorization: string | null, bodyToken: string | undefined, bodyRepeated: boolean): PresentedToken {
  const header = parseAuthorization(authorization);
  if (header === "malformed") throw tokenError("Bearer", "invalid_request", "The Authorization header is not a Bearer or DPoP token", 400);
  if (bodyRepeated) throw tokenError("Bearer", "invalid_request", "access_token must not be repeated", 400);
  if (header && bodyToken) throw tokenError(header.scheme, "invalid_request", "Send the access token in one place only", 400);
  const presented = header ?? (bodyToken ? { scheme: "Bearer" as const, token: bodyToken } : undefined);
  // RFC 6750 §3.1: a request without any authentication gets no error code.
  if (!presented) throw new OAuthError("invalid_token", "An access token is required", { status: 401, headers: { "WWW-Authenticate": anyChallenge("userinfo") } });
  return presented;
}

export async function userinfo(deps: Deps, httpRequest: Request, presented: PresentedToken): Promise<Record<string, unknown>> {
  const claims = await verifyPresentedToken(deps, httpRequest, presented);
  const bearerError = (code: "invalid_token" | "insufficient_scope", description: string, status: number, extra = "") => tokenError(presented.scheme, code, description, status, extra);
  const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [];
  if (aud.length && !aud.includes(deps.config.issuer)) throw bearerError("invalid_token", "The access token is not meant for this server", 401);
  const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
  if (!scopes.includes("openid")) throw bearerError("insufficient_scope", "The access token lacks the openid scope", 403, ', scope="openid"');
  // The user and the claims request of the token's grant: one query, shared by concurrent requests.
  const subject = await loadUserinfoSubject(deps.sql, claims.sub, { jti: claims.jti, grantId: claims.gid });
  const user = subject?.user;
  if (!user || !user.is_active) throw bearerError("invalid_token", "The access token is invalid, expired or revoked", 401);
  const request = (subject?.claims ?? null) as ClaimsRequest | null;
  // The stored claims request was limited and consented when it was made; the client's current
  // registration bounds it again (a client whose scopes were narrowed since gets no more).
  const client = request ? await resolveClient(deps, claims.client_id) : undefined;
  return userinfoClaims(user, scopes, request, claimsAllowedForClient(client));
}
