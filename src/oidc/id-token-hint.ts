// id_token_hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token this server issued,
// verified by signature and issuer before anything acts on it. Expired hints are accepted (the
// specs allow it: the hint identifies a user, it does not authenticate one).
import { compactVerify, decodeProtectedHeader } from "jose";
import type { Deps } from "../deps";

export interface VerifiedHint {
  sub: string;
  aud: string[];
  sid?: string;
}

/** The verified claims of the hint, or undefined when it is not an ID token of this issuer. */
export async function verifyIdTokenHint(deps: Deps, token: string): Promise<VerifiedHint | undefined> {
  try {
    const header = decodeProtectedHeader(token);
    if (!header.kid || !header.alg || header.alg === "none") return undefined;
    // The key's state comes from the database: a key revoked on another node is refused at once.
    const key = await deps.keys.verificationKeyChecked(header.kid);
    if (!key || key.alg !== header.alg) return undefined;
    const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== deps.config.issuer || typeof claims.sub !== "string") return undefined;
    // Access tokens are signed by the same keys: only an ID token may serve as a hint.
    if (header.typ === "at+jwt" || "client_id" in claims && "scope" in claims && !("azp" in claims)) return undefined;
    const aud = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === "string") : typeof claims.aud === "string" ? [claims.aud] : [];
    if (!aud.length) return undefined;
    return { sub: claims.sub, aud, sid: typeof claims.sid === "string" ? claims.sid : undefined };
  } catch {
    return undefined;
  }
}
