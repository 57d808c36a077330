// Signed request objects (RFC 9101, JAR; OIDC Core §6.1): the `request` parameter carries the
// authorization request as a JWT signed with one of the client's registered keys (jwks or
// jwks_uri, oauth/client-keys.ts). Verified: asymmetric alg only (never `none`), iss = client_id,
// aud = our issuer, exp within a bound, nbf when present, jti used once (the replay store of
// client assertions). Its claims become the request's parameters; the caller ignores every
// parameter outside it but client_id (RFC 9101 §6.3).
import { FAPI_ALGS, isFapi2 } from "./fapi2";
import { decodeProtectedHeader, jwtVerify } from "jose";
import type { Deps } from "../deps";
import type { OAuthError } from "../errors";
import type { ClientRecord } from "../clients/model";
import { sha256 } from "../lib/crypto";
import { outboundPolicy } from "../lib/outbound";
import { isValidText } from "../lib/text";
import { recordAssertionJti } from "../tokens/store";
import { ClientKeysError, clientKeySet } from "./client-keys";
import { MULTI_VALUED, type ParsedParams } from "./request-params";

/** request_object_signing_alg_values_supported: asymmetric algorithms only (no none, no HS*). */
export const REQUEST_OBJECT_ALGS = ["RS256", "PS256", "ES256", "EdDSA"];
/** The longest a request object may still be valid when it arrives (bounds the replay store). */
export const MAX_REQUEST_OBJECT_LIFETIME_SECONDS = 3600;
/** Clock skew accepted on exp and nbf. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** RFC 9101 §10.8: the explicit type; "JWT" (or none) is accepted from clients that predate it. */
const ACCEPTED_TYPES = ["oauth-authz-req+jwt", "jwt"];
/** JWT claims of the object itself, not authorization parameters. */
const JWT_CLAIMS = new Set(["iss", "aud", "exp", "nbf", "iat", "jti", "sub"]);

/**
 * The parameters inside a signed request object of `client`, or the error `fail` builds
 * (invalid_request_object, RFC 9101 §6.2-6.3 and §7) naming what is wrong.
 */
export async function verifyRequestObject(deps: Deps, client: ClientRecord, jwt: string, fail: (description: string) => OAuthError): Promise<ParsedParams> {
  const parts = jwt.split(".");
  if (parts.length === 5) throw fail("Encrypted request objects are not supported");
  if (parts.length !== 3) throw fail("The request object is not a JWT");
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw fail("The request object is not a JWT");
  }
  if (typeof header.alg !== "string" || !REQUEST_OBJECT_ALGS.includes(header.alg)) {
    throw fail(`The request object must be signed with one of ${REQUEST_OBJECT_ALGS.join(", ")} (unsigned request objects are not accepted)`);
  }
  // FAPI 2.0 §5.4.1: a client in FAPI mode signs with PS256, ES256 or EdDSA only.
  if (isFapi2(deps, client) && !FAPI_ALGS.includes(header.alg)) throw fail(`FAPI 2.0 Security Profile: the request object must be signed with one of ${FAPI_ALGS.join(", ")} (§5.4.1)`);
  if (header.typ !== undefined && !ACCEPTED_TYPES.includes(String(header.typ).toLowerCase().replace(/^application\//, ""))) {
    throw fail("The request object's typ must be oauth-authz-req+jwt (RFC 9101 §10.8)");
  }
  const keys = clientKeySet(client, outboundPolicy(deps.config));
  if (!keys) throw fail("The client has no registered keys (jwks or jwks_uri) to verify request objects with");
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, keys, {
      issuer: client.client_id,
      audience: deps.config.issuer,
      algorithms: REQUEST_OBJECT_ALGS,
      requiredClaims: ["exp", "jti"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (err) {
    const cause = err as Error & { code?: string; claim?: string };
    if (err instanceof ClientKeysError) throw Object.assign(fail(`The request object could not be verified: ${err.message}`), { cause: err });
    const why = cause.code === "ERR_JWT_CLAIM_VALIDATION_FAILED" ? `its ${cause.claim} claim is missing or wrong` : cause.code === "ERR_JWT_EXPIRED" ? "it has expired" : "its signature does not verify with the client's keys";
    throw fail(`The request object is invalid: ${why}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! - now > MAX_REQUEST_OBJECT_LIFETIME_SECONDS) throw fail(`The request object may be valid for at most ${MAX_REQUEST_OBJECT_LIFETIME_SECONDS} seconds`);
  if (typeof payload.jti !== "string" || !payload.jti || payload.jti.length > 256) throw fail("The request object needs a jti (at most 256 characters)");
  if (payload.client_id !== undefined && payload.client_id !== client.client_id) throw fail("client_id inside the request object differs from the client");
  if (payload.request !== undefined || payload.request_uri !== undefined) throw fail("A request object may not contain request or request_uri (RFC 9101 §4)");

  const params: ParsedParams = { values: Object.create(null), repeated: new Set(), invalid: new Set(), multi: Object.create(null) };
  for (const [name, value] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(name) || value === null || value === undefined) continue;
    if (!isValidText(name)) throw fail("The request object has a claim name that is not valid text");
    const list = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !MULTI_VALUED.has(name)) throw fail(`${name} in the request object must not be an array`);
    for (const item of list) {
      const text = typeof item === "string" ? item : typeof item === "number" || typeof item === "boolean" ? String(item) : JSON.stringify(item);
      if (!isValidText(text)) {
        params.invalid.add(name);
        continue;
      }
      if (text === "") continue;
      if (MULTI_VALUED.has(name)) (params.multi![name] ??= []).push(text);
      params.values[name] ??= text;
    }
  }
  // Once only, after every other check: a refused object does not burn its jti.
  const fresh = await recordAssertionJti(deps.sql, sha256(`request-object\n${client.client_id}\n${payload.jti}`), client.client_id, new Date((payload.exp! + CLOCK_TOLERANCE_SECONDS + 30) * 1000));
  if (!fresh) throw fail("The request object was already used (jti replay)");
  return params;
}
