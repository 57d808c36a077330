// Pushed authorization requests (RFC 9126): the request_uri a pushed request is answered with
// (§2.2: a URN with 256 random bits), its storage under a keyed hash (a bearer reference; any node
// can serve the follow-up) and its single use at the authorization endpoint (§4), bound to the
// client that pushed it. The endpoint itself is oauth/par-endpoint.ts.
import type { Deps } from "../deps";
import type { ClientRecord } from "../clients/model";
import { hashSecret, randomToken } from "../lib/crypto";
import { isFapi2 } from "./fapi2";
import { consumePushedRequest, insertPushedRequest, type PushedParams } from "./par-store";
import type { ParsedParams } from "./request-params";

export const PAR_URN_PREFIX = "urn:ietf:params:oauth:request_uri:";
/** Parameters of client authentication (RFC 6749 §2.3, RFC 7523): never stored with a pushed request. */
const CLIENT_AUTH_PARAMS = ["client_secret", "client_assertion", "client_assertion_type"];

/** A request_uri of ours (a PAR URN), as opposed to one the client hosts (never fetched). */
export function isPushedRequestUri(uri: string): boolean {
  return uri.startsWith(PAR_URN_PREFIX);
}

/** RFC 9126 §5: PAR is required for this client, by its registration or for all (AUTHLY_REQUIRE_PAR). */
export function requiresPushedRequests(deps: Deps, client: ClientRecord): boolean {
  // FAPI 2.0 §5.3.2.2: authorization requests only through PAR.
  return deps.config.requirePar || client.require_pushed_authorization_requests === true || isFapi2(deps, client);
}

function hashRequestUri(deps: Deps, uri: string): string {
  return hashSecret(deps.peppers.tokens, uri);
}

/** Stores the validated parameters of a pushed request; returns its request_uri and lifetime. */
export async function storePushedRequest(deps: Deps, client: ClientRecord, params: ParsedParams): Promise<{ request_uri: string; expires_in: number }> {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(params.values)) if (!CLIENT_AUTH_PARAMS.includes(k)) values[k] = v;
  values.client_id = client.client_id;
  const uri = `${PAR_URN_PREFIX}${randomToken(32)}`;
  await insertPushedRequest(deps.sql, hashRequestUri(deps, uri), client.client_id, { values, multi: { ...(params.multi ?? {}) } }, deps.config.parTtl);
  return { request_uri: uri, expires_in: deps.config.parTtl };
}

/** The parameters of a pushed request, consumed (RFC 9126 §4: one use); undefined when the
 *  request_uri is unknown, expired, already used or was pushed by another client. */
export async function consumePushedParams(deps: Deps, client: ClientRecord, uri: string): Promise<ParsedParams | undefined> {
  const stored: PushedParams | undefined = await consumePushedRequest(deps.sql, hashRequestUri(deps, uri), client.client_id);
  if (!stored) return undefined;
  const values: Record<string, string> = Object.assign(Object.create(null), stored.values);
  return { values, multi: Object.assign(Object.create(null), stored.multi), repeated: new Set(), invalid: new Set() };
}
