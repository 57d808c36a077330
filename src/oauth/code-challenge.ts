// PKCE on the authorization request (RFC 7636 §4.3, OAuth 2.1 §4.1.1): a code_challenge is
// required of every client and only S256 is accepted; `plain` is rejected.
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Returns an error description, or undefined when the challenge is acceptable. */
export function checkCodeChallenge(challenge: string | undefined, method: string | undefined): string | undefined {
  if (!challenge) return "code_challenge is required (PKCE with S256)";
  // RFC 7636 §4.3: an absent method means "plain", which OAuth 2.1 forbids here.
  if (method !== "S256") return "code_challenge_method must be S256";
  if (!CHALLENGE.test(challenge)) return "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)";
  return undefined;
}
