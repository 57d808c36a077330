// API resources (RFC 8707 §2: a resource is named by an absolute URI without a fragment): the
// record, the admin API's TypeBox schemas, and the identifier rule the token and authorization
// endpoints share.
import { Type as t, type Static, type TSchema } from "@sinclair/typebox";

export const RESOURCE_ALGS = ["RS256", "ES256", "EdDSA"] as const;
export const RESOURCE_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;
/** Bounds of one resource (documented in docs/apis.md). */
export const RESOURCE_LIMITS = { identifierMaxLength: 2000, scopesMax: 100, perRequestMax: 10 } as const;

export interface ResourceScope {
  name: string;
  description: string;
}

/** A resource as stored. */
export interface ResourceRecord {
  id: string;
  identifier: string;
  name: string;
  scopes: ResourceScope[];
  access_token_ttl: number | null;
  access_token_alg: (typeof RESOURCE_ALGS)[number] | null;
  may_introspect: boolean;
  allow_any_client: boolean;
  credentials_client_id: string | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

/**
 * Why a value is not a resource identifier (RFC 8707 §2: an absolute URI, no fragment; a query is
 * discouraged and refused here so that one API has one name), or undefined when it is one.
 */
export function resourceIdentifierProblem(value: string): string | undefined {
  if (value.length > RESOURCE_LIMITS.identifierMaxLength) return `must be at most ${RESOURCE_LIMITS.identifierMaxLength} characters`;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return "must be an absolute URI (RFC 8707 §2)";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URI (RFC 8707 §2)";
  }
  if (value.includes("#")) return "must not have a fragment (RFC 8707 §2)";
  if (url.search || value.includes("?")) return "must not have a query (RFC 8707 §2)";
  if (/\s/.test(value)) return "must not contain spaces";
  return undefined;
}

const Nullable = <T extends TSchema>(s: T) => t.Union([s, t.Null()]);
const Alg = t.Union(RESOURCE_ALGS.map((a) => t.Literal(a)));
const ScopeIn = t.Object(
  { name: t.String({ minLength: 1, maxLength: 128 }), description: t.Optional(t.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

const fields = {
  name: t.String({ minLength: 1, maxLength: 200 }),
  scopes: t.Array(ScopeIn, { maxItems: RESOURCE_LIMITS.scopesMax, description: "The resource's own scopes; names unique within the resource" }),
  access_token_ttl: Nullable(t.Integer({ minimum: 30, maximum: 86400, description: "Seconds its access tokens live (null: the client's or the server's setting)" })),
  access_token_alg: Nullable(t.Union([Alg], { description: "Signing algorithm of its access tokens (null: AUTHLY_ACCESS_TOKEN_ALG)" })),
  may_introspect: t.Boolean({ description: "The resource server may introspect tokens whose aud names it (RFC 7662)" }),
  allow_any_client: t.Boolean({ description: "Every client may ask tokens for it (e.g. an MCP server open to registered agents); otherwise only clients it is allowed to" }),
};

export const ResourceCreate = t.Object(
  {
    identifier: t.String({ minLength: 1, maxLength: RESOURCE_LIMITS.identifierMaxLength, description: "Absolute URI without fragment (RFC 8707 §2): the token's aud" }),
    name: fields.name,
    scopes: t.Optional(fields.scopes),
    access_token_ttl: t.Optional(fields.access_token_ttl),
    access_token_alg: t.Optional(fields.access_token_alg),
    may_introspect: t.Optional(fields.may_introspect),
    allow_any_client: t.Optional(fields.allow_any_client),
    token_endpoint_auth_method: t.Optional(t.Union(RESOURCE_AUTH_METHODS.map((m) => t.Literal(m)), { description: "How the resource server authenticates to introspect (default client_secret_basic)" })),
    jwks_uri: t.Optional(t.String({ maxLength: 2000, description: "Its keys for private_key_jwt" })),
    jwks: t.Optional(t.Object({ keys: t.Array(t.Record(t.String(), t.Unknown()), { minItems: 1, maxItems: 20 }) })),
  },
  { additionalProperties: false },
);
export type ResourceCreate = Static<typeof ResourceCreate>;

export const ResourceFromMetadata = t.Object(
  { url: t.String({ minLength: 1, maxLength: 2000, description: "The resource identifier or its RFC 9728 metadata URL" }), name: t.Optional(fields.name) },
  { additionalProperties: false },
);
export type ResourceFromMetadata = Static<typeof ResourceFromMetadata>;

export const ResourceUpdate = t.Object(
  {
    name: t.Optional(fields.name),
    scopes: t.Optional(fields.scopes),
    access_token_ttl: t.Optional(fields.access_token_ttl),
    access_token_alg: t.Optional(fields.access_token_alg),
    may_introspect: t.Optional(fields.may_introspect),
    allow_any_client: t.Optional(fields.allow_any_client),
    is_active: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);
export type ResourceUpdate = Static<typeof ResourceUpdate>;

export const Resource = t.Object({
  identifier: t.String(),
  name: t.String(),
  scopes: t.Array(t.Object({ name: t.String(), description: t.String() })),
  access_token_ttl: Nullable(t.Integer()),
  access_token_alg: Nullable(t.String()),
  may_introspect: t.Boolean(),
  allow_any_client: t.Boolean(),
  client_id: Nullable(t.String({ description: "The client_id the resource server authenticates with" })),
  is_active: t.Boolean(),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
export type Resource = Static<typeof Resource>;

export const ResourceWithSecret = t.Intersect([Resource, t.Object({ client_secret: t.Optional(t.String({ description: "Shown once" })) })]);
export const ResourceList = t.Object({ resources: t.Array(Resource), total: t.Integer() });
export const ResourceDeleted = t.Object({ identifier: t.String(), deleted: t.Union([t.Literal("soft"), t.Literal("hard")]) });

export function toResource(r: ResourceRecord): Resource {
  return {
    identifier: r.identifier,
    name: r.name,
    scopes: r.scopes.map((s) => ({ name: s.name, description: s.description ?? "" })),
    access_token_ttl: r.access_token_ttl,
    access_token_alg: r.access_token_alg,
    may_introspect: r.may_introspect,
    allow_any_client: r.allow_any_client,
    client_id: r.credentials_client_id,
    is_active: r.is_active,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
