// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
// client_secret_basic (§2.3.1, form-encoded id and secret), client_secret_post, none (public
// clients) and private_key_jwt (RFC 7523 §2.2, §3 with jti replay protection). Exactly one method
// per request, and only the method the client registered.
import { FAPI_ALGS, fapiClientProblem, isFapi2 } from "./fapi2";
import { decodeJwt, jwtVerify } from "jose";
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { sha256 } from "../lib/crypto";
import { outboundPolicy } from "../lib/outbound";
import { decodeUtf8, formDecode, isValidText } from "../lib/text";
import type { AuthMethod, ClientRecord } from "../clients/model";
import { verifyClientSecret } from "../clients/secrets";
import { loadClient } from "../clients/store";
import { documentClient, isMetadataDocumentClientId } from "../registration/client-metadata-document";
import { recordAssertionJti } from "../tokens/store";
import { ClientKeysError, clientKeySet } from "./client-keys";
import type { FormParams } from "./form";

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Algorithms accepted for private_key_jwt assertions (asymmetric only; no HS*, no none). */
export const ASSERTION_ALGS = ["RS256", "PS256", "ES256", "EdDSA"];
/** The longest lifetime accepted for a client assertion (bounds the replay table). */
const MAX_ASSERTION_LIFETIME_SECONDS = 3600;

export interface AuthenticatedClient {
  client: ClientRecord;
  method: AuthMethod;
}

export interface ClientAuthOptions {
  /** The URL of the endpoint being called: a valid assertion audience besides the issuer. */
  endpointUrl: string;
  /** Whether public clients (method none) may call this endpoint. */
  allowPublic: boolean;
}

interface Presented {
  method: AuthMethod;
  clientId: string;
  secret?: string;
  assertion?: string;
}

/** Authenticates the calling client or throws invalid_client (401) / invalid_request (400). */
export async function authenticateClient(deps: Deps, request: Request, form: FormParams, opts: ClientAuthOptions): Promise<AuthenticatedClient> {
  const presented = readCredentials(request, form);
  const basic = presented.method === "client_secret_basic";
  const fail = (description: string): OAuthError => invalidClient(description, basic);
  // A registered client, else (when enabled) the client of a metadata document URL.
  const client = (await (deps.clientCache ? deps.clientCache.load(presented.clientId) : loadClient(deps.sql, presented.clientId))) ?? (isMetadataDocumentClientId(deps, presented.clientId) ? await documentClient(deps, presented.clientId) : undefined);
  if (!client || !client.is_active) throw fail("Client authentication failed");
  if (client.token_endpoint_auth_method !== presented.method) {
    throw fail(`Client authentication failed: this client must authenticate with ${client.token_endpoint_auth_method}`);
  }
  const fapi = isFapi2(deps, client);
  if (fapi) {
    const problem = fapiClientProblem(client);
    if (problem) throw fail(problem);
  }
  switch (presented.method) {
    case "client_secret_basic":
    case "client_secret_post":
      if (!verifyClientSecret(deps, client, presented.secret!)) throw fail("Client authentication failed");
      break;
    case "private_key_jwt":
      await verifyAssertion(deps, client, presented.assertion!, opts.endpointUrl, fapi);
      break;
    case "none":
      if (client.client_type !== "public") throw fail("Client authentication failed");
      if (!opts.allowPublic) throw fail("Public clients may not use this endpoint");
      break;
  }
  return { client, method: presented.method };
}

/** Which single method the request uses, with its credentials. */
function readCredentials(request: Request, form: FormParams): Presented {
  const header = request.headers.get("authorization");
  const bodyId = form.get("client_id");
  const bodySecret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  const assertionType = form.get("client_assertion_type");
  const basic = header !== null && /^basic /i.test(header);
  const used = [basic, bodySecret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean).length;
  if (used > 1) throw new OAuthError("invalid_request", "The request uses more than one client authentication method (RFC 6749 §2.3)");
  if (basic) {
    const creds = decodeBasic(header!);
    if (!creds) throw invalidClient("Malformed HTTP Basic client credentials", true);
    if (bodyId !== undefined && bodyId !== creds.id) throw new OAuthError("invalid_request", "client_id does not match the HTTP Basic credentials");
    return { method: "client_secret_basic", clientId: creds.id, secret: creds.secret };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) throw new OAuthError("invalid_request", `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    if (assertion === undefined) throw new OAuthError("invalid_request", "client_assertion is required with client_assertion_type");
    let sub: unknown;
    try {
      const claims = decodeJwt(assertion);
      sub = claims.sub;
      if (claims.iss !== sub) throw new Error("iss differs from sub");
    } catch {
      throw invalidClient("The client assertion is not a valid JWT", false);
    }
    if (typeof sub !== "string" || !sub) throw invalidClient("The client assertion has no subject", false);
    if (bodyId !== undefined && bodyId !== sub) throw new OAuthError("invalid_request", "client_id does not match the client assertion");
    return { method: "private_key_jwt", clientId: sub, assertion };
  }
  if (bodySecret !== undefined) {
    if (bodyId === undefined) throw invalidClient("client_id is required with client_secret", false);
    return { method: "client_secret_post", clientId: bodyId, secret: bodySecret };
  }
  if (bodyId !== undefined) return { method: "none", clientId: bodyId };
  throw invalidClient("Client authentication is required", false);
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined with ':'. */
export function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const b64 = header.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  // The decoded credentials must be text (lib/text.ts): UTF-8 bytes, escapes of UTF-8, no NUL.
  const raw = decodeUtf8(Buffer.from(b64, "base64"));
  if (raw === undefined) return undefined;
  const i = raw.indexOf(":");
  if (i < 0) return undefined;
  const id = formDecode(raw.slice(0, i));
  const secret = formDecode(raw.slice(i + 1));
  if (!id || !secret || !isValidText(id) || !isValidText(secret)) return undefined;
  return { id, secret };
}

function invalidClient(description: string, basic: boolean): OAuthError {
  return new OAuthError("invalid_client", description, {
    status: 401,
    headers: basic ? { "WWW-Authenticate": 'Basic realm="authly", charset="UTF-8"' } : {},
  });
}

/** RFC 7523 §3: signature with a registered key, iss = sub = client_id, our audience, exp, jti once. */
async function verifyAssertion(deps: Deps, client: ClientRecord, assertion: string, endpointUrl: string, fapi: boolean): Promise<void> {
  const keys = clientKeySet(client, outboundPolicy(deps.config));
  if (!keys) throw invalidClient("The client has no registered keys (jwks or jwks_uri)", false);
  const issuer = deps.config.issuer;
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      issuer: client.client_id,
      subject: client.client_id,
      // FAPI 2.0 §5.3.2.1: only the issuer identifier, as a string, is an accepted audience (checked below);
      // §5.4.1: PS256, ES256 or EdDSA.
      audience: fapi ? issuer : [issuer, `${issuer}/oauth/token`, endpointUrl],
      algorithms: fapi ? FAPI_ALGS : ASSERTION_ALGS,
      requiredClaims: ["exp", "jti"],
      clockTolerance: 30,
    }));
  } catch (err) {
    const why = err instanceof ClientKeysError ? `The client assertion could not be verified: ${err.message}` : "The client assertion is invalid";
    throw new OAuthError("invalid_client", why, { status: 401, cause: err });
  }
  if (fapi && payload.aud !== issuer) throw invalidClient("FAPI 2.0 Security Profile: the client assertion's aud must be the issuer identifier as a single string (§5.3.2.1)", false);
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! - now > MAX_ASSERTION_LIFETIME_SECONDS) throw invalidClient("The client assertion expires too far in the future", false);
  const fresh = await recordAssertionJti(deps.sql, sha256(`${client.client_id}\n${payload.jti}`), client.client_id, new Date((payload.exp! + 60) * 1000));
  if (!fresh) throw invalidClient("The client assertion was already used (jti replay)", false);
}
