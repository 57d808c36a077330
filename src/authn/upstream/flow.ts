// A sign-in at an upstream identity provider: the authorization code flow with PKCE S256 (RFC 7636),
// state bound to this browser and to the pending interaction, nonce (OIDC Core §3.1.2.1), the
// authorization response's `iss` checked (RFC 9207 §2.4), the ID token validated (OIDC Core
// §3.1.3.7: signature by the upstream's JWKS, iss, aud, azp, exp, nonce), then the local account.
import { jwtVerify, errors as joseErrors } from "jose";
import type { Deps } from "../../deps";
import { decrypt, deriveKey, encrypt, hashSecret, randomToken, sha256 } from "../../lib/crypto";
import { OutboundError, outboundPolicy, safeFetch } from "../../lib/outbound";
import { isValidText } from "../../lib/text";
import { remoteKeySet } from "../../oauth/client-keys";
import { federatedAuthentication, mapClaims, type IdpRecord, type MappedProfile } from "./model";
import { signClientAssertion } from "./client-key";
import { callbackUrl, openSecret, UPSTREAM_MAX_BYTES, UPSTREAM_TIMEOUT_MS } from "./service";
import * as store from "./store";

/** A sign-in at an upstream must come back within this time. */
export const FLOW_TTL_SECONDS = 10 * 60;
/** Clock skew allowed on the upstream's exp/iat/auth_time. */
export const CLOCK_TOLERANCE_SECONDS = 60;
export const ID_TOKEN_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** Why a federated sign-in failed: `message` is for the person in the browser (never a token). */
export class FederationError extends Error {
  /** The provider the failed flow was with, once known (for the audit). */
  idpSlug?: string;
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "FederationError";
  }
}

function interactionKey(deps: Deps): Buffer {
  return deriveKey(deps.config.jwtSecretKey!, "upstream-flow-interaction");
}

/** Starts a flow: the row keyed by the state's hash, the browser cookie value, the upstream URL. */
export async function startFlow(deps: Deps, idp: IdpRecord, target: { interactionId: string } | { linkSessionId: string }): Promise<{ location: string; browserToken: string }> {
  const state = randomToken(32);
  const nonce = randomToken(32);
  const verifier = randomToken(48);
  const browserToken = randomToken(32);
  await store.insertFlow(deps.sql, {
    state_hash: hashSecret(deps.peppers.secrets, `upstream-state:${state}`),
    browser_hash: hashSecret(deps.peppers.secrets, `upstream-browser:${browserToken}`),
    idp_id: idp.id,
    nonce,
    code_verifier: verifier,
    interaction_sealed: "interactionId" in target ? encrypt(interactionKey(deps), target.interactionId, state) : null,
    link_session_id: "linkSessionId" in target ? target.linkSessionId : null,
  }, FLOW_TTL_SECONDS);
  const u = new URL(idp.authorization_endpoint);
  const q = u.searchParams;
  q.set("response_type", "code");
  q.set("client_id", idp.client_id);
  q.set("redirect_uri", callbackUrl(deps));
  if (idp.scopes.length) q.set("scope", idp.scopes.join(" "));
  q.set("state", state);
  if (idp.kind === "oidc") q.set("nonce", nonce);
  q.set("code_challenge", sha256(verifier));
  q.set("code_challenge_method", "S256");
  return { location: u.toString(), browserToken };
}

export interface CallbackResult {
  idp: IdpRecord;
  profile: MappedProfile;
  amr: string[];
  acr: string;
  authTime: Date;
  /** The ID token's `sub` and `sid` (OpenID Connect providers): what a back-channel logout token names. */
  upstreamSub?: string;
  upstreamSid?: string;
  interactionId?: string;
  linkSessionId?: string;
}

async function postForm(deps: Deps, url: string, form: Record<string, string>, headers: Record<string, string>) {
  return safeFetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", ...headers }, body: new URLSearchParams(form).toString() }, { ...outboundPolicy(deps.config), maxBytes: UPSTREAM_MAX_BYTES, timeoutMs: UPSTREAM_TIMEOUT_MS });
}

function json(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(body));
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Completes a flow from the upstream's redirect to our callback; throws FederationError. */
export async function finishFlow(deps: Deps, query: URLSearchParams, browserToken: string | undefined): Promise<CallbackResult> {
  const state = query.get("state");
  if (!state || !browserToken) throw new FederationError("no_state", "This sign-in could not be matched to one started in this browser. Start again.");
  const flow = await store.takeFlow(deps.sql, hashSecret(deps.peppers.secrets, `upstream-state:${state}`));
  if (!flow || flow.browser_hash !== hashSecret(deps.peppers.secrets, `upstream-browser:${browserToken}`)) {
    throw new FederationError("unknown_state", "This sign-in has expired, was already used, or was started in another browser. Start again.");
  }
  const idp = await store.findIdpById(deps.sql, flow.idp_id);
  if (!idp || !idp.is_enabled) throw new FederationError("idp_disabled", "This sign-in provider is not available.");
  try {
    return await completeFlow(deps, idp, flow, query, state);
  } catch (err) {
    if (err instanceof FederationError) err.idpSlug ??= idp.slug;
    throw err;
  }
}

async function completeFlow(deps: Deps, idp: IdpRecord, flow: store.FlowRow, query: URLSearchParams, state: string): Promise<CallbackResult> {
  const interactionId = flow.interaction_sealed ? decrypt(interactionKey(deps), flow.interaction_sealed, state) : undefined;
  const base = { idp, interactionId, linkSessionId: flow.link_session_id ?? undefined };

  // RFC 9207 §2.4: an `iss` in the response must be the provider's (a mix-up defence).
  const iss = query.get("iss");
  if (iss !== null && idp.issuer !== null && iss !== idp.issuer) throw new FederationError("iss_mismatch", `The answer did not come from ${idp.name}. Start again.`);
  const error = query.get("error");
  if (error) throw new FederationError(error === "access_denied" ? "access_denied" : "upstream_error", `The sign-in at ${idp.name} did not complete.`);
  const code = query.get("code");
  if (!code) throw new FederationError("no_code", `The sign-in at ${idp.name} did not complete.`);

  const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: callbackUrl(deps), code_verifier: flow.code_verifier };
  const headers = await authenticateAtTokenEndpoint(deps, idp, form);
  let tokens: Record<string, unknown> | undefined;
  try {
    const res = await postForm(deps, idp.token_endpoint, form, headers);
    tokens = res.status === 200 ? json(res.body) : undefined;
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
  }
  if (!tokens || typeof tokens.access_token !== "string") throw new FederationError("token_failed", `${idp.name} did not accept the sign-in. Start again.`);

  let claims: Record<string, unknown> = {};
  let amrAcr = { amr: [] as string[], acr: federatedAuthentication({}).acr };
  let authTime = new Date();
  let upstream: { upstreamSub?: string; upstreamSid?: string } = {};
  if (idp.kind === "oidc") {
    if (typeof tokens.id_token !== "string") throw new FederationError("no_id_token", `${idp.name} did not return an ID token.`);
    claims = await verifyIdToken(deps, idp, tokens.id_token, flow.nonce);
    // Back-Channel Logout §2.7: a logout token names the upstream session by sid, the user by sub.
    upstream = { upstreamSub: claims.sub as string, upstreamSid: typeof claims.sid === "string" && claims.sid.length <= 255 && isValidText(claims.sid) ? claims.sid : undefined };
    amrAcr = federatedAuthentication(claims);
    if (typeof claims.auth_time === "number" && Number.isFinite(claims.auth_time)) {
      const t = claims.auth_time * 1000;
      if (t <= Date.now() + CLOCK_TOLERANCE_SECONDS * 1000) authTime = new Date(t);
    }
  }
  if (idp.userinfo_endpoint) {
    const info = await userinfo(deps, idp, tokens.access_token);
    // OIDC Core §5.3.2: userinfo of another subject than the ID token's must not be used.
    if (idp.kind === "oidc") {
      if (info && info.sub === claims.sub) claims = { ...info, ...claims };
    } else {
      if (!info) throw new FederationError("userinfo_failed", `${idp.name} did not answer with the account's details.`);
      claims = info;
    }
  }
  const profile = mapClaims(claims, idp.claim_mapping);
  if (!profile) throw new FederationError("no_subject", `${idp.name} did not name the account.`);
  return { ...base, profile, ...amrAcr, authTime, ...upstream };
}

/**
 * Our client authentication at the provider's token endpoint, as registered for it: RFC 6749 §2.3.1
 * client_secret_basic (form-encoded id and secret) or client_secret_post, RFC 7523 §2.2
 * private_key_jwt (a fresh assertion per request), or none (a public client sends its client_id).
 * Adds to the form; returns the headers.
 */
export async function authenticateAtTokenEndpoint(deps: Deps, idp: IdpRecord, form: Record<string, string>): Promise<Record<string, string>> {
  switch (idp.token_endpoint_auth_method) {
    case "client_secret_basic": {
      const secret = openSecret(deps, idp)!;
      return { Authorization: `Basic ${btoa(`${formEncode(idp.client_id)}:${formEncode(secret)}`)}` };
    }
    case "client_secret_post":
      form.client_id = idp.client_id;
      form.client_secret = openSecret(deps, idp)!;
      return {};
    case "private_key_jwt":
      form.client_id = idp.client_id;
      form.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
      form.client_assertion = await signClientAssertion(deps, idp);
      return {};
    case "none":
      form.client_id = idp.client_id;
      return {};
  }
}

/** application/x-www-form-urlencoded of one value (RFC 6749 §2.3.1, Appendix B): spaces as '+'. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function userinfo(deps: Deps, idp: IdpRecord, accessToken: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await safeFetch(idp.userinfo_endpoint!, { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json", "User-Agent": "Authly" } }, { ...outboundPolicy(deps.config), maxBytes: UPSTREAM_MAX_BYTES, timeoutMs: UPSTREAM_TIMEOUT_MS });
    return res.status === 200 ? json(res.body) : undefined;
  } catch (err) {
    if (err instanceof OutboundError) return undefined;
    throw err;
  }
}

/** OIDC Core §3.1.3.7: the ID token's signature (the upstream's JWKS, cached), iss, aud, azp, exp, nonce. */
export async function verifyIdToken(deps: Deps, idp: IdpRecord, idToken: string, nonce: string): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(idToken, remoteKeySet(idp.jwks_uri!, outboundPolicy(deps.config)), {
      issuer: idp.issuer!,
      audience: idp.client_id,
      algorithms: ID_TOKEN_ALGS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "exp", "iat"],
    }));
  } catch (err) {
    const why = err instanceof joseErrors.JOSEError ? err.code : "invalid";
    throw new FederationError(`id_token_${why}`, `The ID token from ${idp.name} is not valid.`);
  }
  const aud = payload.aud;
  if (Array.isArray(aud) && aud.length > 1 && payload.azp !== idp.client_id) throw new FederationError("id_token_azp", `The ID token from ${idp.name} is not valid.`);
  if (payload.nonce !== nonce) throw new FederationError("id_token_nonce", `The ID token from ${idp.name} does not belong to this sign-in.`);
  return payload;
}
