// The authorization request (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, OIDC Core §3.1.2.1-2): checks the
// client and redirect URI first (errors shown as a page, never redirected), then every other
// parameter (errors redirected to the verified redirect URI with state and iss, RFC 9207).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import type { ClientRecord } from "../clients/model";
import { resolveClient } from "../registration/client-metadata-document";
import { loadActiveScopes } from "../interaction/store";
import { claimsAllowedForScopes, limitClaimsRequest, parseClaimsParameter, type ClaimsRequest } from "../oidc/claims";
import { verifyIdTokenHint } from "../oidc/id-token-hint";
import { checkCodeChallenge } from "./code-challenge";
import { matchRedirectUri } from "./redirect-uri";
import type { ParsedParams } from "./request-params";
import { resolveScope, usableScopes } from "./scope";
import { resourceScopes, selectResources } from "./resource-indicators";
import { consumePushedParams, isPushedRequestUri, requiresPushedRequests } from "./par";
import { verifyRequestObject } from "./request-object";
import { fieldLabel } from "../lib/text";
import { fapiClientProblem, isFapi2 } from "./fapi2";

export type ResponseMode = "query" | "form_post";
export const RESPONSE_MODES: ResponseMode[] = ["query", "form_post"];
export const PROMPT_VALUES = ["none", "login", "consent", "select_account"];
export const DISPLAY_VALUES = ["page", "popup", "touch", "wap"];

/** A validated authorization request, as kept in `interactions.params` between pages. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
  nonce?: string;
  scopes: string[];
  codeChallenge: string;
  prompt: string[];
  maxAge?: number;
  loginHint?: string;
  /** The slug of an upstream identity provider to go to straight away (src/authn/upstream/). */
  idpHint?: string;
  /** Subject of a verified id_token_hint. */
  idTokenHintSub?: string;
  acrValues?: string;
  uiLocales?: string;
  claimsLocales?: string;
  display?: string;
  claims: ClaimsRequest | null;
  /** RFC 8707 resource indicators: the identifiers of the selected API resources (may be absent in
   *  interactions stored before resources existed). */
  resources?: string[];
  /** RFC 9449 §10: the thumbprint of the DPoP key the code is bound to (dpop_jkt). */
  dpopJkt?: string;
  /** The client is in FAPI 2.0 Security Profile mode (code lifetime at most 60 s, §5.3.2.1). */
  fapi?: boolean;
}

/** Where an authorization request arrived (one validator serves them all). */
export interface AuthorizationSource {
  /** "authorize": GET or POST /oauth/authorize; "par": the body of a pushed request (RFC 9126 §2.1). */
  via: "authorize" | "par";
  /** PAR: the client that authenticated; the request's client_id, when sent, must be its own. */
  client?: ClientRecord;
}

export interface ValidatedAuthorization {
  request: AuthorizationRequest;
  client: ClientRecord;
  /** The parameters the request was built from: a request object's or a pushed request's when
   *  one was used (RFC 9101 §6.3, RFC 9126 §4), else those received. */
  params: ParsedParams;
  /** The request came through a request_uri of our PAR endpoint. */
  pushed: boolean;
}

/**
 * The one validator of the authorization request, however it arrives: GET or POST, a pushed
 * request (RFC 9126), a signed request object (RFC 9101) or a request_uri of a pushed request.
 * The client comes first, then the parameters are resolved (request object or pushed request),
 * then the redirect URI and every other parameter are checked.
 */
export async function validateAuthorizationRequest(deps: Deps, received: ParsedParams, source: AuthorizationSource = { via: "authorize" }): Promise<ValidatedAuthorization> {
  const client = await checkClient(deps, received, source.client);
  const { params, pushed } = await resolveParams(deps, client, received, source);
  const request = await checkParameters(deps, client, params, { pushed, via: source.via });
  return { request, client, params, pushed };
}

/**
 * RFC 9126 §4 and RFC 9101 §5-6: the parameters a request stands for. A request_uri of our PAR
 * endpoint gives the pushed parameters (consumed: single use); a `request` gives the request
 * object's; every other parameter sent beside either is ignored, client_id excepted (it must
 * match). A request_uri that is not ours is never fetched.
 */
async function resolveParams(deps: Deps, client: ClientRecord, received: ParsedParams, source: AuthorizationSource): Promise<{ params: ParsedParams; pushed: boolean }> {
  const p = received.values;
  const sent = (name: string) => p[name] !== undefined || received.repeated.has(name) || received.invalid.has(name);
  if (!sent("request") && !sent("request_uri")) return { params: received, pushed: false };
  // Before the parameters are known, an error goes back only to a redirect URI sent beside them
  // and registered for the client; else it is shown as a page.
  const fail = (code: string, description: string) => outsideError(client, received, code, description);
  if (received.repeated.has("request") || received.repeated.has("request_uri")) throw fail("invalid_request", "request and request_uri may not be repeated");
  if (received.invalid.has("request") || received.invalid.has("request_uri")) throw fail("invalid_request", "request or request_uri is not valid text");
  if (sent("request") && sent("request_uri")) throw fail("invalid_request", "request and request_uri cannot be used together (RFC 9101 §5)");
  const uri = p.request_uri;
  if (uri !== undefined) {
    if (source.via === "par") throw fail("invalid_request", "request_uri may not be used in a pushed authorization request (RFC 9126 §2.1)");
    if (!isPushedRequestUri(uri)) throw fail("request_uri_not_supported", "Only request_uri values issued by this server's pushed authorization request endpoint are accepted");
    const pushed = await consumePushedParams(deps, client, uri);
    // RFC 9101 §7 / RFC 9126 §4: unknown, expired, used or another client's. The redirect URI
    // inside is out of reach, so this is a page, never a redirect.
    if (!pushed) throw new OAuthError("invalid_request_uri", "The request_uri is unknown, has expired or was already used. Return to the application and start again.", { html: true, page: "bad_request_uri" });
    return { params: pushed, pushed: true };
  }
  const inner = await verifyRequestObject(deps, client, p.request!, (d) => fail("invalid_request_object", d));
  inner.values.client_id = client.client_id;
  return { params: inner, pushed: false };
}

/** An error about request/request_uri themselves, redirected only to a registered redirect URI sent with them. */
function outsideError(client: ClientRecord, received: ParsedParams, code: string, description: string): OAuthError {
  const uri = received.values.redirect_uri;
  const trusted = uri !== undefined && !received.repeated.has("redirect_uri") && matchRedirectUri(client.redirect_uris, uri);
  if (!trusted) return new OAuthError(code, description, { html: true });
  const mode = received.values.response_mode;
  const state = received.repeated.has("state") ? undefined : received.values.state;
  return new OAuthError(code, description, { redirectable: true, redirectUri: uri, state, responseMode: mode && RESPONSE_MODES.includes(mode as ResponseMode) ? (mode as ResponseMode) : "query" });
}

/** Every parameter but the client, on the resolved parameters. */
async function checkParameters(deps: Deps, client: ClientRecord, params: ParsedParams, how: { pushed: boolean; via: AuthorizationSource["via"] }): Promise<AuthorizationRequest> {
  const p = params.values;
  const redirectUri = checkRedirectUri(client, params);

  const responseMode = (p.response_mode ?? "query") as ResponseMode;
  const validMode = RESPONSE_MODES.includes(responseMode);
  const state = params.repeated.has("state") ? undefined : p.state;
  const fail = (code: string, description: string) =>
    new OAuthError(code, description, { redirectable: true, redirectUri, state, responseMode: validMode ? responseMode : "query" });

  // Text the parser refused (invalid UTF-8, NUL) is reported once the redirect URI is verified.
  if (params.invalid.size) throw fail("invalid_request", `Not valid text (UTF-8 without NUL): ${[...params.invalid].map(fieldLabel).sort().join(", ")}`);
  if (params.repeated.size) throw fail("invalid_request", `Parameters may not be repeated: ${[...params.repeated].sort().join(", ")}`);
  if (!validMode) throw fail("invalid_request", "response_mode must be query or form_post");
  // RFC 9126 §5: a client (or server) that requires PAR gets no request any other way.
  if (how.via === "authorize" && !how.pushed && requiresPushedRequests(deps, client)) {
    throw fail("invalid_request", "This client must send its authorization requests through the pushed authorization request endpoint (RFC 9126 §5)");
  }
  const fapi = isFapi2(deps, client);
  if (fapi) {
    const problem = fapiClientProblem(client);
    if (problem) throw fail("unauthorized_client", problem);
  }
  if (p.response_type === undefined) throw fail("invalid_request", "response_type is required");
  if (p.response_type !== "code") throw fail("unsupported_response_type", "Only response_type=code is supported");
  if (!client.response_types.includes("code") || !client.grant_types.includes("authorization_code")) {
    throw fail("unauthorized_client", "This client may not use the authorization code flow");
  }
  const pkce = checkCodeChallenge(p.code_challenge, p.code_challenge_method);
  if (pkce) throw fail("invalid_request", pkce);

  // RFC 8707 §2: every resource registered, allowed to this client, absolute and without fragment.
  const resources = await selectResources(deps, deps.sql, client, params.multi?.resource ?? [], { fail: (d) => fail("invalid_target", d) });
  const knownScopes = await loadActiveScopes(deps.sql);
  const scope = resolveScope(p.scope, client.scopes, knownScopes, resourceScopes(resources));
  if (!scope.ok) throw fail("invalid_scope", scope.description);

  const prompt = (p.prompt ?? "").split(" ").filter(Boolean);
  if (prompt.some((v) => !PROMPT_VALUES.includes(v))) throw fail("invalid_request", "prompt has an unknown value");
  if (prompt.includes("none") && prompt.length > 1) throw fail("invalid_request", "prompt=none cannot be combined with other values");

  let maxAge: number | undefined;
  if (p.max_age !== undefined) {
    if (!/^\d{1,9}$/.test(p.max_age)) throw fail("invalid_request", "max_age must be a non-negative integer");
    maxAge = Number(p.max_age);
  }

  let claims: ClaimsRequest | null = null;
  if (p.claims !== undefined) {
    const parsed = parseClaimsParameter(p.claims);
    if (!parsed.ok) throw fail("invalid_request", parsed.description);
    // OIDC Core §5.5: only claims of the scopes the client may use can be asked for one by one;
    // the others are dropped like scopes it is not registered for. Those beyond the granted
    // scopes need the user's consent (interaction/service.ts).
    claims = limitClaimsRequest(parsed.claims, claimsAllowedForScopes(usableScopes(client.scopes, knownScopes)));
  }

  let idTokenHintSub: string | undefined;
  if (p.id_token_hint !== undefined) {
    const hint = await verifyIdTokenHint(deps, p.id_token_hint);
    if (!hint || !hint.aud.includes(client.client_id)) throw fail("invalid_request", "id_token_hint is not a valid ID token issued to this client");
    idTokenHintSub = hint.sub;
  }

  // OIDC Core §3.1.2.2: a specific sub asked for in claims.id_token names the user like a hint.
  const requestedSub = claims?.id_token?.sub?.value;
  if (typeof requestedSub === "string") {
    if (idTokenHintSub !== undefined && idTokenHintSub !== requestedSub) throw fail("invalid_request", "id_token_hint and claims.id_token.sub name different users");
    idTokenHintSub = requestedSub;
  }

  // RFC 9449 §10: a JWK SHA-256 thumbprint, base64url without padding (43 characters).
  if (p.dpop_jkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(p.dpop_jkt)) throw fail("invalid_request", "dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (RFC 9449 §10)");

  if (p.nonce !== undefined && p.nonce.length > 512) throw fail("invalid_request", "nonce is too long");
  if (state !== undefined && state.length > 2048) throw fail("invalid_request", "state is too long");

  const request: AuthorizationRequest = {
    clientId: client.client_id,
    redirectUri,
    responseMode,
    state,
    nonce: p.nonce,
    scopes: scope.scopes,
    codeChallenge: p.code_challenge!,
    prompt,
    maxAge,
    loginHint: p.login_hint?.slice(0, 256),
    idpHint: p.idp_hint && /^[a-z0-9][a-z0-9-]{0,63}$/.test(p.idp_hint) ? p.idp_hint : undefined,
    idTokenHintSub,
    acrValues: p.acr_values,
    uiLocales: p.ui_locales,
    claimsLocales: p.claims_locales,
    // display is advisory (OIDC Core §3.1.2.1): every value gets the same responsive page.
    display: p.display && DISPLAY_VALUES.includes(p.display) ? p.display : undefined,
    claims,
    resources: resources.map((r) => r.identifier),
    ...(p.dpop_jkt ? { dpopJkt: p.dpop_jkt } : {}),
    ...(fapi ? { fapi: true } : {}),
  };
  return request;
}

async function checkClient(deps: Deps, params: ParsedParams, authenticated?: ClientRecord): Promise<ClientRecord> {
  const id = params.values.client_id;
  if (authenticated) {
    // RFC 9126 §2.1: client_id is required as in any authorization request, and the pushed
    // request is the authenticated client's own.
    if (id === undefined && !params.repeated.has("client_id") && !params.invalid.has("client_id")) throw new OAuthError("invalid_request", "client_id is required in a pushed authorization request (RFC 9126 §2.1)");
    if (params.repeated.has("client_id") || params.invalid.has("client_id") || id !== authenticated.client_id) {
      throw new OAuthError("invalid_request", "client_id does not match the authenticated client");
    }
    return authenticated;
  }
  if (!id || params.repeated.has("client_id") || params.invalid.has("client_id")) throw new OAuthError("invalid_request", "The request has no valid client_id.", { html: true, page: "missing_client" });
  // A registered client, or the client of a metadata document URL (registration/).
  const client = await resolveClient(deps, id);
  if (!client || !client.is_active) {
    throw new OAuthError("invalid_client", "The application that sent you here is not registered with this server. Return to it and try again, or contact its owner.", { html: true, status: 400, page: "unknown_client" });
  }
  return client;
}

function checkRedirectUri(client: ClientRecord, params: ParsedParams): string {
  const requested = params.values.redirect_uri;
  // redirect_uri is required (OIDC Core §3.1.2.1), and a mismatch is never redirected (RFC 6749 §4.1.2.1).
  if (!requested || params.repeated.has("redirect_uri") || params.invalid.has("redirect_uri")) throw new OAuthError("invalid_request", "The request has no redirect_uri. The application must send one of its registered redirect URIs.", { html: true, page: "bad_redirect" });
  if (!matchRedirectUri(client.redirect_uris, requested)) {
    throw new OAuthError("invalid_request", "The redirect_uri does not match any redirect URI registered for this application, so you are not sent back to it.", { html: true, page: "bad_redirect" });
  }
  return requested;
}
