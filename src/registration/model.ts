// Dynamic client registration (RFC 7591, RFC 7592): RFC 7591 client metadata turned into the
// admin API's client body (validated afterwards by the one client validator, clients/service.ts),
// and the client information response (RFC 7591 §3.2.1).
import { Type as t, type Static } from "@sinclair/typebox";
import type { Client } from "../clients/model";
import { OAuthError } from "../errors";

/** The RFC 7591 / OIDC Registration fields Authly supports; every other field is ignored (§2). */
export const SUPPORTED_FIELDS = [
  "redirect_uris", "token_endpoint_auth_method", "grant_types", "client_name", "client_uri", "logo_uri", "scope",
  "contacts", "tos_uri", "policy_uri", "jwks_uri", "jwks", "post_logout_redirect_uris", "backchannel_logout_uri",
  "id_token_signed_response_alg",
  "require_pushed_authorization_requests",
  "dpop_bound_access_tokens",
  "fapi_profile",
] as const;

/** Shown when a registration names no client_name (the validator needs one). */
export const UNNAMED_CLIENT = "Unnamed client";

/**
 * The client body of a registration request: supported fields kept (their values are the
 * validator's business), others dropped; RFC 7591 §2 defaults (client_secret_basic,
 * authorization_code); the client type follows the auth method; consent is always asked.
 * response_types must agree with grant_types (§2.1). Throws invalid_client_metadata.
 */
export function registrationToClientBody(meta: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of SUPPORTED_FIELDS) if (meta[f] !== undefined) body[f] = meta[f];
  // A registrant may opt into FAPI 2.0, never out of the server's mode (AUTHLY_FAPI_PROFILE): "none"
  // is replaced by null, the server's setting (RFC 7591 §2 lets the server replace a value).
  if (body.fapi_profile === "none") body.fapi_profile = null;
  body.client_name ??= UNNAMED_CLIENT;
  body.redirect_uris ??= [];
  body.token_endpoint_auth_method ??= "client_secret_basic";
  body.grant_types ??= ["authorization_code"];
  body.client_type = body.token_endpoint_auth_method === "none" ? "public" : "confidential";
  body.require_consent = true;
  const rt = meta.response_types;
  if (rt !== undefined) {
    const grants = Array.isArray(body.grant_types) ? body.grant_types : [];
    const expected = grants.includes("authorization_code") ? ["code"] : [];
    if (!Array.isArray(rt) || rt.length !== expected.length || !expected.every((x) => rt.includes(x))) {
      throw new OAuthError("invalid_client_metadata", `response_types must be ${JSON.stringify(expected)} for these grant_types (only the code flow is supported; RFC 7591 §2.1)`);
    }
  }
  return body;
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the registered metadata, without nulls. */
export function clientInformation(c: Client & { client_secret?: string }, extra: { registrationClientUri: string; registrationAccessToken?: string; issuedAt: Date }): Record<string, unknown> {
  const out: Record<string, unknown> = {
    client_id: c.client_id,
    client_id_issued_at: Math.floor(extra.issuedAt.getTime() / 1000),
  };
  if (c.client_secret) {
    out.client_secret = c.client_secret;
    out.client_secret_expires_at = 0;
  }
  const meta: Record<string, unknown> = {
    client_name: c.client_name,
    redirect_uris: c.redirect_uris,
    grant_types: c.grant_types,
    response_types: c.response_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    scope: c.scope || undefined,
    contacts: c.contacts.length ? c.contacts : undefined,
    client_uri: c.client_uri,
    logo_uri: c.logo_uri,
    tos_uri: c.tos_uri,
    policy_uri: c.policy_uri,
    jwks_uri: c.jwks_uri,
    jwks: c.jwks,
    post_logout_redirect_uris: c.post_logout_redirect_uris.length ? c.post_logout_redirect_uris : undefined,
    backchannel_logout_uri: c.backchannel_logout_uri,
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    require_pushed_authorization_requests: c.require_pushed_authorization_requests,
    dpop_bound_access_tokens: c.dpop_bound_access_tokens,
    fapi_profile: c.fapi_profile,
  };
  for (const [k, v] of Object.entries(meta)) if (v !== null && v !== undefined) out[k] = v;
  if (extra.registrationAccessToken) out.registration_access_token = extra.registrationAccessToken;
  out.registration_client_uri = extra.registrationClientUri;
  return out;
}

/** Bounds of an initial access token (docs/apis.md). */
export const INITIAL_TOKEN_LIMITS = { maxExpiresIn: 90 * 86400, maxUses: 10_000 } as const;

export const InitialTokenCreate = t.Object(
  {
    expires_in: t.Optional(t.Integer({ minimum: 60, maximum: INITIAL_TOKEN_LIMITS.maxExpiresIn, description: "Seconds it stays usable (default 86400)" })),
    max_uses: t.Optional(t.Integer({ minimum: 1, maximum: INITIAL_TOKEN_LIMITS.maxUses, description: "Registrations it allows (default 1)" })),
  },
  { additionalProperties: false },
);
export type InitialTokenCreate = Static<typeof InitialTokenCreate>;

export const InitialToken = t.Object({
  id: t.String(),
  token: t.String({ description: "Shown once: only its hash is stored" }),
  expires_at: t.String({ format: "date-time" }),
  max_uses: t.Integer(),
});
