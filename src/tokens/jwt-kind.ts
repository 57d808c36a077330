// The kinds of JWT this server signs, and the one verification every place that accepts one of
// them goes through (RFC 8725 §3.11 explicit typing): access tokens `at+jwt` (RFC 9068 §2.1),
// ID tokens `JWT` (OIDC Core §2), logout tokens `logout+jwt` (Back-Channel Logout §2.4). All are
// signed by the same keys, so a token is accepted only as the kind its `typ` and claims say it is.
import type { Deps } from "../deps";
import { verify as verifyOnThread } from "../lib/crypto-threads";
import { base64urlJsonObject } from "../lib/text";

export type JwtKind = "access_token" | "id_token" | "logout_token";

/** The `typ` header each kind is signed with. */
export const JWT_TYP: Record<JwtKind, string> = { access_token: "at+jwt", id_token: "JWT", logout_token: "logout+jwt" };

/** Why a token was refused: a stable code a caller maps to its own error. */
export type OwnJwtFailure = "malformed" | "unknown_key" | "bad_signature" | "wrong_issuer" | "wrong_kind" | "expired";

export class OwnJwtError extends Error {
  constructor(
    readonly code: OwnJwtFailure,
    override readonly cause?: unknown,
  ) {
    super(`token refused: ${code}`);
  }
}

export interface VerifiedOwnJwt {
  payload: Record<string, unknown>;
  kid: string;
}

/**
 * The kind of a token from its `typ` (media type, "application/" optional, RFC 7515 §4.1.9) and
 * its claims: a logout token has `events` and no `nonce` (§2.4), an ID token has neither `events`
 * nor the access token's `client_id`/`scope`, an access token has `client_id` and `jti`.
 * Undefined when the two disagree.
 */
export function jwtKindOf(typ: unknown, claims: Record<string, unknown>): JwtKind | undefined {
  const t = typeof typ === "string" ? typ.toLowerCase().replace(/^application\//, "") : undefined;
  const hasEvents = "events" in claims;
  if (t === "at+jwt") return typeof claims.client_id === "string" && typeof claims.jti === "string" && !hasEvents && !("nonce" in claims) ? "access_token" : undefined;
  if (t === "logout+jwt") return hasEvents && !("nonce" in claims) ? "logout_token" : undefined;
  if (t === "jwt") return !hasEvents && !("client_id" in claims) && !("scope" in claims) ? "id_token" : undefined;
  return undefined;
}

/**
 * Verifies a JWT of this server as one kind: signature by a published key with the key's own
 * algorithm (never `none`, never another), issuer, kind, and — unless `allowExpired` (hints only
 * name a user) — exp and nbf; with `checkKeyState`, the key must not be revoked in the database.
 * Throws OwnJwtError.
 */
export async function verifyOwnJwt(deps: Deps, token: string, kind: JwtKind, opts: { allowExpired?: boolean; checkKeyState?: boolean } = {}): Promise<VerifiedOwnJwt> {
  const jws = parseCompactJws(token);
  if (!jws) throw new OwnJwtError("malformed");
  const { header } = jws;
  if (typeof header.kid !== "string" || !header.kid || typeof header.alg !== "string" || header.alg === "none") throw new OwnJwtError("unknown_key");
  // checkKeyState: the key's state is read from the database, so a key revoked on another node is
  // refused at once (access tokens get this from their liveness query instead).
  const key = opts.checkKeyState ? await deps.keys.verificationKeyChecked(header.kid) : await deps.keys.verificationKey(header.kid);
  if (!key || key.alg !== header.alg) throw new OwnJwtError("unknown_key");
  // RFC 7515 §4.1.11: we sign with no critical extensions; a token that names any (b64 included,
  // RFC 7797) is not one of ours.
  if ("crit" in header || "b64" in header) throw new OwnJwtError("bad_signature");
  // The signature with the key's own algorithm, on a helper thread (lib/crypto-threads.ts).
  if (!(await verifyOnThread(key.alg, key.publicKeyObject, jws.signingInput, jws.signature))) throw new OwnJwtError("bad_signature");
  const payload = base64urlJsonObject(jws.payload);
  if (!payload) throw new OwnJwtError("malformed");
  if (payload.iss !== deps.config.issuer) throw new OwnJwtError("wrong_issuer");
  if (typeof payload.sub !== "string") throw new OwnJwtError("malformed");
  if (jwtKindOf(header.typ, payload) !== kind) throw new OwnJwtError("wrong_kind");
  if (!opts.allowExpired) {
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== "number" || payload.exp <= now) throw new OwnJwtError("expired");
    if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || payload.nbf > now)) throw new OwnJwtError("expired");
  }
  return { payload, kid: header.kid };
}

const B64U = /^[A-Za-z0-9_-]+$/;

/** A JWS in compact serialisation (RFC 7515 §7.1): three base64url parts, a JSON object header. */
export function parseCompactJws(token: string): { header: Record<string, unknown>; payload: string; signingInput: string; signature: string } | undefined {
  if (typeof token !== "string" || token.length > 65_536) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => B64U.test(p))) return undefined;
  const header = base64urlJsonObject(parts[0]!);
  if (!header) return undefined;
  return { header, payload: parts[1]!, signingInput: `${parts[0]}.${parts[1]}`, signature: parts[2]! };
}
