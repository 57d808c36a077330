// id_token_hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token this server issued,
// verified by signature and issuer before anything acts on it. Expired hints are accepted (the
// specs allow it: the hint identifies a user, it does not authenticate one).
import type { Deps } from "../deps";
import { OwnJwtError, verifyOwnJwt } from "../tokens/jwt-kind";

export interface VerifiedHint {
  sub: string;
  aud: string[];
  sid?: string;
}

/** The verified claims of the hint, or undefined when it is not an ID token of this issuer (an
 *  access token or a back-channel logout token, signed by the same keys, is not one: jwt-kind.ts). */
export async function verifyIdTokenHint(deps: Deps, token: string): Promise<VerifiedHint | undefined> {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await verifyOwnJwt(deps, token, "id_token", { allowExpired: true, checkKeyState: true }));
  } catch (err) {
    if (err instanceof OwnJwtError) return undefined;
    throw err;
  }
  const aud = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === "string") : typeof claims.aud === "string" ? [claims.aud] : [];
  if (!aud.length) return undefined;
  return { sub: claims.sub as string, aud, sid: typeof claims.sid === "string" ? claims.sid : undefined };
}
