// Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0 §3),
// built once from one builder out of what is implemented and configured. The issuer is exact and
// equal to every token's iss.
import { DPOP_ALGS } from "./dpop";
import { FAPI_ALGS } from "./fapi2";
import type { Config } from "../config";
import { ALGORITHMS } from "../keys/service";
import { ACR_VALUES } from "../authn/model";
import { ASSERTION_ALGS } from "./client-auth";
import { ADVERTISED_GRANT_TYPES } from "./token";
import { REQUEST_OBJECT_ALGS } from "./request-object";
import { LOCALES } from "../i18n";

/** Paths of every endpoint (docs/contracts.md); the front channel serves authorize, userinfo, logout. */
export const ENDPOINT_PATHS = {
  authorization: "/oauth/authorize",
  token: "/oauth/token",
  revocation: "/oauth/revoke",
  introspection: "/oauth/introspect",
  jwks: "/.well-known/jwks.json",
  userinfo: "/oidc/userinfo",
  endSession: "/oidc/logout",
  deviceAuthorization: "/oauth/device_authorization",
  pushedAuthorizationRequest: "/oauth/par",
} as const;

/** The seeded OIDC scopes (OIDC Core §5.4, §11). Custom scopes exist but are not advertised. */
export const ADVERTISED_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"];

export const CLAIMS_SUPPORTED = [
  "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
  "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
  "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
  "email", "email_verified", "phone_number", "phone_number_verified", "address",
];

const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

/** The metadata document; the same fields answer both well-known URLs. */
export function buildMetadata(config: Pick<Config, "issuer" | "idTokenAlg"> & Partial<Pick<Config, "registration" | "clientIdMetadataDocuments" | "requirePar" | "fapiProfile">>): Record<string, unknown> {
  // AUTHLY_FAPI_PROFILE=fapi2-security: PAR for every (third-party) client, and only the profile's
  // algorithms (FAPI 2.0 §5.3.2.2, §5.4.1); the first-party CLI client keeps its own way in.
  const fapi = config.fapiProfile === "fapi2-security";
  const only = (algs: readonly string[]) => (fapi ? algs.filter((a) => FAPI_ALGS.includes(a)) : [...algs]);
  const base = config.issuer.replace(/\/+$/, "");
  const url = (path: string) => `${base}${path}`;
  const idAlgs = [config.idTokenAlg, ...ALGORITHMS.filter((a) => a !== config.idTokenAlg)];
  return {
    issuer: config.issuer,
    authorization_endpoint: url(ENDPOINT_PATHS.authorization),
    token_endpoint: url(ENDPOINT_PATHS.token),
    jwks_uri: url(ENDPOINT_PATHS.jwks),
    userinfo_endpoint: url(ENDPOINT_PATHS.userinfo),
    end_session_endpoint: url(ENDPOINT_PATHS.endSession),
    revocation_endpoint: url(ENDPOINT_PATHS.revocation),
    introspection_endpoint: url(ENDPOINT_PATHS.introspection),
    device_authorization_endpoint: url(ENDPOINT_PATHS.deviceAuthorization),
    // RFC 9126 §5: PAR, required for every client when AUTHLY_REQUIRE_PAR is set (else per client).
    pushed_authorization_request_endpoint: url(ENDPOINT_PATHS.pushedAuthorizationRequest),
    require_pushed_authorization_requests: (config.requirePar ?? false) || fapi,
    scopes_supported: ADVERTISED_SCOPES,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "form_post"],
    grant_types_supported: ADVERTISED_GRANT_TYPES,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: only(idAlgs),
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: only(ASSERTION_ALGS),
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((m) => m !== "none"),
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    code_challenge_methods_supported: ["S256"],
    claims_supported: CLAIMS_SUPPORTED,
    claims_parameter_supported: true,
    // Sign-in strength (src/authn/model.ts): password, two factors, phishing-resistant (WebAuthn).
    acr_values_supported: ACR_VALUES,
    // RFC 9101: signed request objects by value; request_uri only as a PAR URN of ours, never
    // fetched, so request_uri_parameter_supported (about fetching, OIDC Discovery §3) stays false.
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: only(REQUEST_OBJECT_ALGS),
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1: DPoP proofs at the token endpoint and at our resources (asymmetric algorithms).
    dpop_signing_alg_values_supported: only(DPOP_ALGS),
    // Front channel (OIDC Core §3.1.2.1, Prompt Create §4.1): what the authorization endpoint accepts.
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    display_values_supported: ["page", "popup", "touch", "wap"],
    claim_types_supported: ["normal"],
    // The languages of the pages and mails: exactly the shipped catalogues (src/i18n).
    ui_locales_supported: [...LOCALES],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
    // RFC 7591: advertised only when registration is open to someone (AUTHLY_REGISTRATION).
    ...(config.registration && config.registration !== "closed" ? { registration_endpoint: url("/oauth/register") } : {}),
    // Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): when enabled.
    ...(config.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

/** Well-known paths for an issuer, including RFC 8414 §3.1's form for issuers with a path. */
export function metadataPaths(issuer: string): string[] {
  const path = new URL(issuer).pathname.replace(/\/+$/, "");
  const paths = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];
  if (path) paths.push(`/.well-known/oauth-authorization-server${path}`, `${path}/.well-known/openid-configuration`);
  return paths;
}
