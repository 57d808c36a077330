// OAuth client model (RFC 7591 metadata names where they exist) and its TypeBox schemas.
import { Type as t, type Static } from "@sinclair/typebox";

export const ClientType = t.Union([t.Literal("public"), t.Literal("confidential")]);
export type ClientType = Static<typeof ClientType>;

export const AuthMethod = t.Union([
  t.Literal("client_secret_basic"),
  t.Literal("client_secret_post"),
  t.Literal("private_key_jwt"),
  t.Literal("none"),
]);
export type AuthMethod = Static<typeof AuthMethod>;

/** A client as stored (the secret only as its hash). */
export interface ClientRecord {
  id: string;
  client_id: string;
  client_type: ClientType;
  client_name: string;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  scopes: string[];
  token_endpoint_auth_method: AuthMethod;
  jwks: { keys: Record<string, unknown>[] } | null;
  jwks_uri: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  tos_uri: string | null;
  policy_uri: string | null;
  contacts: string[];
  id_token_signed_response_alg: string;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  require_consent: boolean;
  is_first_party: boolean;
  backchannel_logout_uri: string | null;
  /** API resources (RFC 8707 identifiers) the client may ask tokens for, and the one used when it names none. */
  resources: string[];
  default_resource: string | null;
  /** MFA policy at this client; null: the server default (AUTHLY_MFA_POLICY). */
  mfa: "off" | "optional" | "required" | null;
  /** RFC 9126 §6: the authorization endpoint accepts this client's requests only through PAR. */
  require_pushed_authorization_requests: boolean;
  /** RFC 9449 §5.2: the client's access tokens must be DPoP-bound (a token request needs a proof). */
  dpop_bound_access_tokens: boolean;
  /** FAPI 2.0 Security Profile mode of this client; null: the server's (AUTHLY_FAPI_PROFILE). */
  fapi_profile: FapiProfile | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

/** The built-in first-party client of the admin CLI (created at bootstrap). */
export const CLI_CLIENT_ID = "authly-cli";

/** RFC 8628 §3.4: the grant type of the device authorization grant. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export const FAPI_PROFILES = ["fapi2-security", "none"] as const;
export type FapiProfile = (typeof FAPI_PROFILES)[number];

export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT] as const;
export const ID_TOKEN_ALGS = ["RS256", "ES256", "EdDSA"] as const;

const Nullable = <T extends import("@sinclair/typebox").TSchema>(s: T) => t.Union([s, t.Null()]);
const FapiProfileSchema = t.Union([t.Literal("fapi2-security"), t.Literal("none")], {
  description: "FAPI 2.0 Security Profile mode (docs/fapi2.md): fapi2-security, or none; null: the server's AUTHLY_FAPI_PROFILE",
});
const MfaPolicy = t.Union([t.Literal("off"), t.Literal("optional"), t.Literal("required")], {
  description: "Second factor at this client: off (password alone), optional (users who enrolled one use it), required (users without one enrol at sign-in); null: the server default (AUTHLY_MFA_POLICY)",
});

/** A client as the admin API shows it (never a secret or its hash). */
export const Client = t.Object({
  client_id: t.String(),
  client_name: t.String(),
  client_type: ClientType,
  redirect_uris: t.Array(t.String()),
  post_logout_redirect_uris: t.Array(t.String()),
  grant_types: t.Array(t.String()),
  response_types: t.Array(t.String()),
  scope: t.String({ description: "Allowed scopes, space-separated" }),
  token_endpoint_auth_method: AuthMethod,
  jwks: Nullable(t.Object({ keys: t.Array(t.Record(t.String(), t.Unknown())) })),
  jwks_uri: Nullable(t.String()),
  client_uri: Nullable(t.String()),
  logo_uri: Nullable(t.String()),
  tos_uri: Nullable(t.String()),
  policy_uri: Nullable(t.String()),
  backchannel_logout_uri: Nullable(t.String()),
  mfa: Nullable(MfaPolicy),
  contacts: t.Array(t.String()),
  id_token_signed_response_alg: t.String(),
  require_consent: t.Boolean(),
  resources: t.Array(t.String(), { description: "API resources (RFC 8707) the client may ask tokens for" }),
  default_resource: Nullable(t.String({ description: "The resource of its tokens when a request names none" })),
  require_pushed_authorization_requests: t.Boolean({ description: "Authorization requests only through PAR (RFC 9126 §6)" }),
  dpop_bound_access_tokens: t.Boolean({ description: "Access tokens must be DPoP-bound (RFC 9449 §5.2)" }),
  fapi_profile: Nullable(FapiProfileSchema),
  is_first_party: t.Boolean(),
  is_active: t.Boolean(),
  has_secret: t.Boolean({ description: "A secret is set (it is never shown again)" }),
  previous_secret_expires_at: Nullable(t.String({ format: "date-time" })),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
export type Client = Static<typeof Client>;

export const ClientWithSecret = t.Intersect([
  Client,
  t.Object({ client_secret: t.Optional(t.String({ description: "Shown once: only its hash is stored" })) }),
]);

export const ClientList = t.Object({ clients: t.Array(Client), total: t.Integer(), limit: t.Integer(), offset: t.Integer() });

const clientFields = {
  client_name: t.String({ minLength: 1, maxLength: 200 }),
  redirect_uris: t.Array(t.String(), { maxItems: 50, description: "Exact redirect URIs: absolute, no fragment; http only for loopback; private-use schemes for native apps" }),
  post_logout_redirect_uris: t.Array(t.String(), { maxItems: 50 }),
  grant_types: t.Array(t.Union(GRANT_TYPES.map((g) => t.Literal(g))), { minItems: 1, maxItems: GRANT_TYPES.length }),
  scope: t.String({ maxLength: 4000, description: "Allowed scopes, space-separated; each must exist and be active" }),
  token_endpoint_auth_method: AuthMethod,
  jwks: Nullable(t.Object({ keys: t.Array(t.Record(t.String(), t.Unknown()), { minItems: 1, maxItems: 20 }) })),
  jwks_uri: Nullable(t.String({ maxLength: 2000 })),
  client_uri: Nullable(t.String({ maxLength: 2000 })),
  logo_uri: Nullable(t.String({ maxLength: 2000 })),
  tos_uri: Nullable(t.String({ maxLength: 2000 })),
  policy_uri: Nullable(t.String({ maxLength: 2000 })),
  backchannel_logout_uri: Nullable(t.String({ maxLength: 2000, description: "OIDC Back-Channel Logout 1.0: where logout tokens are POSTed (https, or http on loopback)" })),
  contacts: t.Array(t.String({ maxLength: 254 }), { maxItems: 20 }),
  id_token_signed_response_alg: t.Union(ID_TOKEN_ALGS.map((a) => t.Literal(a))),
  require_consent: t.Boolean(),
  resources: t.Array(t.String({ maxLength: 2000 }), { maxItems: 50, description: "Registered API resource identifiers the client may ask tokens for (RFC 8707)" }),
  default_resource: Nullable(t.String({ maxLength: 2000, description: "One of `resources`: the audience of its tokens when a request names no resource" })),
  mfa: Nullable(MfaPolicy),
  require_pushed_authorization_requests: t.Boolean({ description: "Accept authorization requests only through the pushed authorization request endpoint (RFC 9126 §6)" }),
  dpop_bound_access_tokens: t.Boolean({ description: "Every token request must carry a DPoP proof, so every access token is DPoP-bound (RFC 9449 §5.2)" }),
  fapi_profile: Nullable(FapiProfileSchema),
};

/** Fields a client may set at creation besides name, type and redirect URIs, all optional. */
const optionalClientFields = {
  post_logout_redirect_uris: t.Optional(clientFields.post_logout_redirect_uris),
  grant_types: t.Optional(clientFields.grant_types),
  scope: t.Optional(clientFields.scope),
  token_endpoint_auth_method: t.Optional(clientFields.token_endpoint_auth_method),
  jwks: t.Optional(clientFields.jwks),
  jwks_uri: t.Optional(clientFields.jwks_uri),
  client_uri: t.Optional(clientFields.client_uri),
  logo_uri: t.Optional(clientFields.logo_uri),
  tos_uri: t.Optional(clientFields.tos_uri),
  policy_uri: t.Optional(clientFields.policy_uri),
  backchannel_logout_uri: t.Optional(clientFields.backchannel_logout_uri),
  contacts: t.Optional(clientFields.contacts),
  id_token_signed_response_alg: t.Optional(clientFields.id_token_signed_response_alg),
  require_consent: t.Optional(clientFields.require_consent),
  resources: t.Optional(clientFields.resources),
  default_resource: t.Optional(clientFields.default_resource),
  mfa: t.Optional(clientFields.mfa),
  require_pushed_authorization_requests: t.Optional(clientFields.require_pushed_authorization_requests),
  dpop_bound_access_tokens: t.Optional(clientFields.dpop_bound_access_tokens),
  fapi_profile: t.Optional(clientFields.fapi_profile),
};

export const ClientCreate = t.Object(
  {
    client_name: clientFields.client_name,
    client_type: ClientType,
    redirect_uris: clientFields.redirect_uris,
    ...optionalClientFields,
  },
  { additionalProperties: false },
);
export type ClientCreate = Static<typeof ClientCreate>;

/** A partial update: any creation field but the type (which never changes), and is_active. */
export const ClientUpdate = t.Object(
  {
    client_name: t.Optional(clientFields.client_name),
    redirect_uris: t.Optional(clientFields.redirect_uris),
    ...optionalClientFields,
    is_active: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);
export type ClientUpdate = Static<typeof ClientUpdate>;

export const ClientDeleted = t.Object({ client_id: t.String(), deleted: t.Union([t.Literal("soft"), t.Literal("hard")]) });

export const RegenerateSecret = t.Object(
  { grace_period_seconds: t.Optional(t.Integer({ minimum: 0, maximum: 30 * 86400, description: "How long the old secret keeps working (0: at once)" })) },
  { additionalProperties: false },
);
export type RegenerateSecret = Static<typeof RegenerateSecret>;

export const SecretRegenerated = t.Object({
  client_id: t.String(),
  client_secret: t.String({ description: "Shown once" }),
  previous_secret_expires_at: Nullable(t.String({ format: "date-time" })),
});

export function toClient(r: ClientRecord): Client {
  return {
    client_id: r.client_id,
    client_name: r.client_name,
    client_type: r.client_type,
    redirect_uris: r.redirect_uris,
    post_logout_redirect_uris: r.post_logout_redirect_uris,
    grant_types: r.grant_types,
    response_types: r.response_types,
    scope: r.scopes.join(" "),
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    jwks: r.jwks,
    jwks_uri: r.jwks_uri,
    client_uri: r.client_uri,
    logo_uri: r.logo_uri,
    tos_uri: r.tos_uri,
    policy_uri: r.policy_uri,
    backchannel_logout_uri: r.backchannel_logout_uri,
    mfa: r.mfa ?? null,
    contacts: r.contacts,
    id_token_signed_response_alg: r.id_token_signed_response_alg,
    require_consent: r.require_consent,
    resources: r.resources ?? [],
    default_resource: r.default_resource ?? null,
    require_pushed_authorization_requests: r.require_pushed_authorization_requests ?? false,
    dpop_bound_access_tokens: r.dpop_bound_access_tokens ?? false,
    fapi_profile: r.fapi_profile ?? null,
    is_first_party: r.is_first_party,
    is_active: r.is_active,
    has_secret: r.secret_hash !== null,
    previous_secret_expires_at: r.previous_secret_hash && r.previous_secret_expires_at ? r.previous_secret_expires_at.toISOString() : null,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
