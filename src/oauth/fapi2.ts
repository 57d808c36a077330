// FAPI 2.0 Security Profile (final) mode: which clients it applies to (per client `fapi_profile`,
// or AUTHLY_FAPI_PROFILE for all), and the rules of the profile the endpoints call.
import type { ClientRecord } from "../clients/model";
import type { Deps } from "../deps";

/** The client is in FAPI 2.0 Security Profile mode (its own setting wins over the server's). */
export function isFapi2(deps: Deps, client: ClientRecord): boolean {
  return (client.fapi_profile ?? deps.config.fapiProfile) === "fapi2-security";
}

/** RFC 9449 §5.2 dpop_bound_access_tokens, or FAPI 2.0 §5.3.2.2-1 (sender-constrained tokens). */
export function requiresDpop(deps: Deps, client: ClientRecord): boolean {
  return client.dpop_bound_access_tokens === true || isFapi2(deps, client);
}
