// FAPI 2.0 Security Profile (final, 2025) mode: which clients it applies to (per client
// `fapi_profile`, or AUTHLY_FAPI_PROFILE for all third-party clients), and the profile's rules the
// endpoints call. docs/fapi2.md lists each clause of the profile and where it is met.
import type { ClientRecord } from "../clients/model";
import type { Deps } from "../deps";

/** FAPI 2.0 Security Profile §5.4.1: the only signing algorithms (PS256, ES256, EdDSA with Ed25519). */
export const FAPI_ALGS = ["PS256", "ES256", "EdDSA"];

/**
 * The client is in FAPI 2.0 Security Profile mode: its own setting wins over the server's. The
 * server-wide setting leaves out the built-in first-party admin CLI client (a public client with
 * the password grant, which the profile forbids): it is not an API client of the deployment.
 */
export function isFapi2(deps: Deps, client: Pick<ClientRecord, "fapi_profile" | "is_first_party">): boolean {
  if (client.fapi_profile) return client.fapi_profile === "fapi2-security";
  return deps.config.fapiProfile === "fapi2-security" && !client.is_first_party;
}

/** RFC 9449 §5.2 dpop_bound_access_tokens, or FAPI 2.0 §5.3.2.1 (only sender-constrained access tokens). */
export function requiresDpop(deps: Deps, client: ClientRecord): boolean {
  return client.dpop_bound_access_tokens === true || isFapi2(deps, client);
}

/**
 * FAPI 2.0 §5.3.2.1: confidential clients only, authenticated with private_key_jwt (mTLS is out of
 * scope); a description of what is wrong, or undefined.
 */
export function fapiClientProblem(client: Pick<ClientRecord, "client_type" | "token_endpoint_auth_method">): string | undefined {
  if (client.client_type !== "confidential") return "FAPI 2.0 Security Profile: only confidential clients are supported (§5.3.2.1)";
  if (client.token_endpoint_auth_method !== "private_key_jwt") return "FAPI 2.0 Security Profile: the client must authenticate with private_key_jwt (§5.3.2.1; mTLS is not supported)";
  return undefined;
}

/** FAPI 2.0 §5.4.1: a key algorithm the client would see, moved off RS256 (its ES256 key is published too). */
export function fapiSigningAlg<A extends string>(alg: A): A | "ES256" {
  return FAPI_ALGS.includes(alg) ? alg : "ES256";
}
