// PKCE for the token endpoint (RFC 7636 §4.6): S256 only; plain is never accepted (OAuth 2.1 §4.1.3).
import { OAuthError } from "../errors";
import { safeEqual } from "../lib/crypto";

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** BASE64URL(SHA256(ASCII(code_verifier))) — RFC 7636 §4.2. */
export function s256Challenge(verifier: string): string {
  return new Bun.CryptoHasher("sha256").update(verifier).digest("base64url");
}

/** A code_verifier of the RFC 7636 §4.1 form (43-128 characters of [A-Za-z0-9-._~]). */
export function isWellFormedVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/**
 * Checks a code_verifier against the challenge stored with the code. A missing challenge, a
 * method other than S256, a missing or malformed verifier or a mismatch is invalid_grant.
 */
export function checkPkce(stored: { challenge: string | null | undefined; method: string | null | undefined }, verifier: string | undefined): void {
  if (!stored.challenge) throw new OAuthError("invalid_grant", "The authorization code was issued without a PKCE challenge");
  if ((stored.method ?? "S256") !== "S256") throw new OAuthError("invalid_grant", "Only the S256 code challenge method is supported");
  if (verifier === undefined) throw new OAuthError("invalid_grant", "code_verifier is required (PKCE)");
  if (!VERIFIER.test(verifier)) throw new OAuthError("invalid_grant", "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)");
  if (!safeEqual(s256Challenge(verifier), stored.challenge)) throw new OAuthError("invalid_grant", "PKCE verification failed: code_verifier does not match the code challenge");
}
