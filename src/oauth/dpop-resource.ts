// The one check of an access token presented to a resource of ours (UserInfo, the admin API):
// `Authorization: Bearer` (RFC 6750) or `Authorization: DPoP` with a `DPoP` proof carrying `ath`
// (RFC 9449 §7). A DPoP-bound token (cnf.jkt) is accepted only with a proof of its key, never as a
// Bearer token (§7.2); errors carry the challenge of the scheme used (§7.1).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { splitTarget } from "../http/request-context";
import { verifyAccessToken, type AccessTokenClaims } from "../tokens/access-token";
import { DPOP_ALGS, dpopError, dpopHeader, verifyDpopProof } from "./dpop";

export type TokenScheme = "Bearer" | "DPoP";

export interface PresentedToken {
  scheme: TokenScheme;
  token: string;
}

const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an Authorization header; undefined when there is none, "malformed" when it is neither scheme. */
export function parseAuthorization(header: string | null): PresentedToken | undefined | "malformed" {
  if (!header) return undefined;
  const m = AUTHORIZATION.exec(header);
  if (!m) return "malformed";
  return { scheme: m[1]!.toLowerCase() === "dpop" ? "DPoP" : "Bearer", token: m[2]! };
}

/** The WWW-Authenticate challenge of an error in a scheme (RFC 6750 §3, RFC 9449 §7.1). */
export function tokenChallenge(scheme: TokenScheme, code: string | undefined, description?: string, extra = ""): string {
  const params = code ? `error="${code}"${description ? `, error_description="${description.replace(/["\\]/g, "")}"` : ""}${extra}` : extra.replace(/^, /, "");
  if (scheme === "DPoP") return `DPoP ${params ? `${params}, ` : ""}algs="${DPOP_ALGS.join(" ")}"`;
  return `Bearer${params ? ` ${params}` : ""}`;
}

/** Both challenges, for a request that presented no token (RFC 9449 §7.1: the client may use either). */
export function anyChallenge(realm: string): string {
  return `Bearer realm="${realm}", DPoP realm="${realm}", algs="${DPOP_ALGS.join(" ")}"`;
}

function invalidToken(scheme: TokenScheme, description: string): OAuthError {
  return new OAuthError("invalid_token", description, { status: 401, headers: { "WWW-Authenticate": tokenChallenge(scheme, "invalid_token", description) } });
}

/**
 * Verifies a presented access token (signature, expiry, liveness: tokens/access-token.ts) and its
 * sender constraint: a bound token needs the DPoP scheme and a proof of its key for this request
 * (htm, htu, ath, nonce, jti once); a Bearer token must not be bound. Throws OAuthError (401).
 */
export async function verifyPresentedToken(deps: Deps, request: Request, presented: PresentedToken): Promise<AccessTokenClaims> {
  const { scheme, token } = presented;
  let claims: AccessTokenClaims;
  try {
    claims = await verifyAccessToken(deps, token);
  } catch (err) {
    if (err instanceof OAuthError) throw invalidToken(scheme, "The access token is invalid, expired or revoked");
    throw err;
  }
  const jkt = typeof claims.cnf?.jkt === "string" ? claims.cnf.jkt : undefined;
  const proof = dpopHeader(deps, request, "resource");
  if (scheme === "Bearer") {
    if (jkt) throw dpopError(deps, "resource", "invalid_token", "This access token is DPoP-bound: present it with Authorization: DPoP and a DPoP proof (RFC 9449 §7.2)");
    return claims;
  }
  if (!jkt) throw invalidToken("DPoP", "This access token is not DPoP-bound: present it as a Bearer token");
  if (!proof) throw dpopError(deps, "resource", "invalid_dpop_proof", "A DPoP proof is required with a DPoP-bound access token");
  const url = `${new URL(deps.config.issuer).origin}${splitTarget(request.url).pathname}`;
  const verified = await verifyDpopProof(deps, proof, { method: request.method, url, accessToken: token, at: "resource" });
  if (verified.jkt !== jkt) throw dpopError(deps, "resource", "invalid_dpop_proof", "The DPoP proof is not signed by the key the access token is bound to");
  return claims;
}
