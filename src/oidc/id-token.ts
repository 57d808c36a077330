// ID tokens (OIDC Core §2, §3.1.3.6): iss, sub, aud, exp, iat, auth_time, nonce, azp, at_hash,
// c_hash, sid, acr, amr; signed with the client's id_token_signed_response_alg (default RS256).
// User claims per §5.4 (scope claims only when no access token is issued) and §5.5 (`claims`).
import { base64url } from "jose";
import type { Deps } from "../deps";
import type { UserRecord } from "../accounts/model";
import type { ClientRecord } from "../clients/model";
import type { KeyAlg } from "../keys/store";
import { signCompactJws } from "../keys/service";
import { fapiSigningAlg, isFapi2 } from "../oauth/fapi2";
import { claimsAllowedForClient, idTokenUserClaimNames, userClaims, type ClaimsRequest } from "./claims";

export interface IdTokenInput {
  /** The user's record, or only its id when the token releases no user claims (OIDC Core §5.4:
   *  with an access token, only those of a `claims` request, §5.5). */
  user: UserRecord | { id: string };
  client: ClientRecord;
  scope: string;
  nonce?: string | null;
  authTime?: Date | null;
  sessionId?: string | null;
  acr?: string | null;
  amr?: string[] | null;
  /** Extra claims to include (from scopes when no access token is issued, or the `claims` parameter). */
  claims?: Record<string, unknown>;
  /** The access token issued with this ID token (for at_hash). */
  accessToken?: string;
  /** The authorization code (for c_hash; hybrid flows only). */
  code?: string;
  /** The `claims` request parameter (authorization_codes.claims / grants.claims), OIDC Core §5.5. */
  claimsRequest?: ClaimsRequest | null;
}

/** The stored `claims` parameter may arrive as `claims` too: recognise its §5.5 shape. */
function asClaimsRequest(v: unknown): ClaimsRequest | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (!keys.length || !keys.every((k) => k === "userinfo" || k === "id_token")) return undefined;
  return v as ClaimsRequest;
}

/** Left-most half of the hash of an ASCII value, base64url (OIDC Core §3.1.3.6 at_hash). */
export function halfHash(value: string, alg: KeyAlg): string {
  // RS256/ES256 use SHA-256; EdDSA (Ed25519) uses SHA-512 per OIDC errata practice.
  const algo = alg === "EdDSA" ? "sha512" : "sha256";
  const digest = new Bun.CryptoHasher(algo).update(value).digest();
  return base64url.encode(digest.subarray(0, digest.length / 2));
}

export async function issueIdToken(deps: Deps, input: IdTokenInput): Promise<string> {
  const registered = (input.client.id_token_signed_response_alg || deps.config.idTokenAlg) as KeyAlg;
  // FAPI 2.0 §5.4.1: a FAPI client sees PS256, ES256 or EdDSA signatures only.
  const alg = isFapi2(deps, input.client) ? fapiSigningAlg(registered) : registered;
  const key = await deps.keys.signingKey(alg);
  const now = Math.floor(Date.now() / 1000);
  const fromClaimsField = asClaimsRequest(input.claims);
  const claimsRequest = input.claimsRequest ?? fromClaimsField ?? null;
  const scopes = input.scope.split(" ").filter(Boolean);
  const names = idTokenUserClaimNames(scopes, claimsRequest, Boolean(input.accessToken), claimsAllowedForClient(input.client));
  if (names.size && !("username" in input.user)) throw new Error("issueIdToken: the ID token releases user claims, and only the user's id was given");
  const payload: Record<string, unknown> = {
    ...(names.size ? userClaims(input.user as UserRecord, names) : {}),
    ...(fromClaimsField ? {} : input.claims),
  };
  if (input.authTime) payload.auth_time = Math.floor(input.authTime.getTime() / 1000);
  if (input.nonce) payload.nonce = input.nonce;
  if (input.sessionId) payload.sid = input.sessionId;
  if (input.acr) payload.acr = input.acr;
  if (input.amr?.length) payload.amr = input.amr;
  payload.azp = input.client.client_id;
  if (input.accessToken) payload.at_hash = halfHash(input.accessToken, key.alg);
  if (input.code) payload.c_hash = halfHash(input.code, key.alg);
  // Signed like an access token (keys/service.ts signCompactJws, on the signature helper thread).
  return signCompactJws(key, { typ: "JWT" }, {
    ...payload,
    iss: deps.config.issuer,
    sub: input.user.id,
    aud: input.client.client_id,
    iat: now,
    exp: now + deps.config.idTokenTtl,
  });
}
