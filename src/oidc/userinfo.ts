// UserInfo (OIDC Core §5.3): the bearer token from the Authorization header or, for POST, the form
// body (RFC 6750 §2.1-2.2, never both); claims by granted scope and the `claims` parameter (§5.4,
// §5.5); errors per RFC 6750 §3.1 with WWW-Authenticate.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { verifyAccessToken } from "../tokens/access-token";
import { resolveClient } from "../registration/client-metadata-document";
import { claimsAllowedForClient, userinfoClaims, type ClaimsRequest } from "./claims";
import { loadUserinfoSubject } from "./store";

function bearerError(code: "invalid_request" | "invalid_token" | "insufficient_scope", description: string, status: number, extra = ""): OAuthError {
  return new OAuthError(code, description, { status, headers: { "WWW-Authenticate": `Bearer error="${code}", error_description="${description}"${extra}` } });
}

/** The bearer token of a UserInfo request; throws the RFC 6750 error when there is none or two. */
export function extractBearer(authorization: string | null, bodyToken: string | undefined, bodyRepeated: boolean): string {
  const m = authorization ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization) : null;
  if (authorization && !m) throw bearerError("invalid_request", "The Authorization header is not a Bearer token", 400);
  if (bodyRepeated) throw bearerError("invalid_request", "access_token must not be repeated", 400);
  if (m && bodyToken) throw bearerError("invalid_request", "Send the access token in one place only", 400);
  const token = m?.[1] ?? bodyToken;
  // RFC 6750 §3.1: a request without any authentication gets no error code.
  if (!token) throw new OAuthError("invalid_token", "An access token is required", { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="userinfo"' } });
  return token;
}

export async function userinfo(deps: Deps, token: string): Promise<Record<string, unknown>> {
  let claims;
  try {
    claims = await verifyAccessToken(deps, token);
  } catch (err) {
    if (err instanceof OAuthError) throw bearerError("invalid_token", "The access token is invalid, expired or revoked", 401);
    throw err;
  }
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
