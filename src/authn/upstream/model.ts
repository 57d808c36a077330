// Upstream identity providers: the record, the admin API's schemas, and the pure rules of a
// federated sign-in: claim mapping (OIDC Core §5.1 claims, or a plain OAuth 2.0 userinfo document
// such as GitHub's) and what the session records of the upstream's amr/acr (RFC 8176, OIDC Core §2).
import { Type as t, type Static, type TSchema } from "@sinclair/typebox";
import { ACR } from "../model";
import { isValidText } from "../../lib/text";

/** Bounds of one provider (documented in docs/front-channel.md). */
export const IDP_LIMITS = { slugMaxLength: 64, urlMaxLength: 2000, scopesMax: 20, mappingKeysMax: 20 } as const;
export const IDP_KINDS = ["oidc", "oauth2"] as const;
export type IdpKind = (typeof IDP_KINDS)[number];
/** How we authenticate at the upstream's token endpoint (RFC 6749 §2.3.1, RFC 7523 §2.2, OIDC Core §9). */
export const UPSTREAM_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
export type UpstreamAuthMethod = (typeof UPSTREAM_AUTH_METHODS)[number];
/** The algorithms of the key pair a provider gets for private_key_jwt (RS256: what every provider accepts). */
export const CLIENT_KEY_ALGS = ["RS256", "ES256"] as const;
export type ClientKeyAlg = (typeof CLIENT_KEY_ALGS)[number];

/** Local user fields a provider's claims may fill (the value names a claim of the upstream's
 *  ID token or userinfo answer; a dotted path reaches into objects). */
export const MAPPABLE = ["subject", "username", "email", "email_verified", "name", "given_name", "family_name", "picture", "locale"] as const;
export type MappableField = (typeof MAPPABLE)[number];
export type ClaimMapping = Partial<Record<MappableField, string>>;

/** The defaults: OIDC standard claims. GitHub's /user needs `subject: "id", username: "login"`. */
export const DEFAULT_MAPPING: Record<MappableField, string> = {
  subject: "sub",
  username: "preferred_username",
  email: "email",
  email_verified: "email_verified",
  name: "name",
  given_name: "given_name",
  family_name: "family_name",
  picture: "picture",
  locale: "locale",
};

export interface IdpRecord {
  id: string;
  slug: string;
  name: string;
  kind: IdpKind;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string | null;
  jwks_uri: string | null;
  client_id: string;
  client_secret_sealed: string | null;
  token_endpoint_auth_method: UpstreamAuthMethod;
  client_key_kid: string | null;
  client_key_alg: ClientKeyAlg | null;
  client_key_public: Record<string, unknown> | null;
  client_key_sealed: string | null;
  scopes: string[];
  claim_mapping: ClaimMapping;
  create_users: boolean;
  is_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const Nullable = <T extends TSchema>(s: T) => t.Union([s, t.Null()]);
const Url = t.String({ minLength: 1, maxLength: IDP_LIMITS.urlMaxLength });
const AuthMethod = t.Union(UPSTREAM_AUTH_METHODS.map((m) => t.Literal(m)), {
  description: "How we authenticate at the provider's token endpoint (default: client_secret_basic with a secret, none without; private_key_jwt signs with a key pair of this provider)",
});
const KeyAlg = t.Union(CLIENT_KEY_ALGS.map((a) => t.Literal(a)), { description: "Algorithm of the private_key_jwt key pair (default RS256)" });
const Mapping = t.Record(t.String({ maxLength: 32 }), t.String({ minLength: 1, maxLength: 128 }), { description: `Local field -> upstream claim: ${MAPPABLE.join(", ")}` });

export const IdpCreate = t.Object(
  {
    slug: t.String({ minLength: 1, maxLength: IDP_LIMITS.slugMaxLength, pattern: "^[a-z0-9][a-z0-9-]*$", description: "Short name in URLs and idp_hint" }),
    name: t.String({ minLength: 1, maxLength: 100, description: "Shown on the login button" }),
    kind: t.Union(IDP_KINDS.map((k) => t.Literal(k))),
    issuer: t.Optional(Url),
    authorization_endpoint: t.Optional(Url),
    token_endpoint: t.Optional(Url),
    userinfo_endpoint: t.Optional(Url),
    client_id: t.String({ minLength: 1, maxLength: 255 }),
    client_secret: t.Optional(t.String({ minLength: 1, maxLength: 1024, description: "Stored encrypted (AES-256-GCM)" })),
    token_endpoint_auth_method: t.Optional(AuthMethod),
    client_key_alg: t.Optional(KeyAlg),
    scopes: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: IDP_LIMITS.scopesMax })),
    claim_mapping: t.Optional(Mapping),
    create_users: t.Optional(t.Boolean({ description: "First sign-in creates a local user (default true)" })),
    is_enabled: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);
export type IdpCreate = Static<typeof IdpCreate>;

export const IdpUpdate = t.Object(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
    client_id: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    client_secret: t.Optional(Nullable(t.String({ minLength: 1, maxLength: 1024 }))),
    token_endpoint_auth_method: t.Optional(AuthMethod),
    client_key_alg: t.Optional(KeyAlg),
    rotate_client_key: t.Optional(t.Boolean({ description: "A new key pair for private_key_jwt (the old one stops working)" })),
    scopes: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: IDP_LIMITS.scopesMax })),
    claim_mapping: t.Optional(Mapping),
    create_users: t.Optional(t.Boolean()),
    is_enabled: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);
export type IdpUpdate = Static<typeof IdpUpdate>;

export const Idp = t.Object({
  slug: t.String(),
  name: t.String(),
  kind: t.String(),
  issuer: Nullable(t.String()),
  authorization_endpoint: t.String(),
  token_endpoint: t.String(),
  userinfo_endpoint: Nullable(t.String()),
  jwks_uri: Nullable(t.String()),
  client_id: t.String(),
  has_client_secret: t.Boolean(),
  token_endpoint_auth_method: t.String(),
  client_key: Nullable(t.Object({ kid: t.String(), alg: t.String() })),
  client_jwks_uri: Nullable(t.String({ description: "private_key_jwt: register this JWK Set URL at the provider" })),
  backchannel_logout_uri: Nullable(t.String({ description: "OpenID Connect: register this back-channel logout URI at the provider" })),
  scopes: t.Array(t.String()),
  claim_mapping: t.Record(t.String(), t.String()),
  create_users: t.Boolean(),
  is_enabled: t.Boolean(),
  redirect_uri: t.String({ description: "Register this callback at the upstream" }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
export type Idp = Static<typeof Idp>;
export const IdpList = t.Object({ idps: t.Array(Idp), total: t.Integer() });
export const IdpDeleted = t.Object({ deleted: t.Boolean(), slug: t.String() });

/** The URLs of this server an admin registers at a provider. */
export interface IdpUrls {
  redirectUri: string;
  jwksUri: string;
  backchannelLogoutUri: string;
}

export function toIdp(r: IdpRecord, urls: IdpUrls): Idp {
  const redirectUri = urls.redirectUri;
  return {
    slug: r.slug, name: r.name, kind: r.kind, issuer: r.issuer, authorization_endpoint: r.authorization_endpoint, token_endpoint: r.token_endpoint,
    userinfo_endpoint: r.userinfo_endpoint, jwks_uri: r.jwks_uri, client_id: r.client_id, has_client_secret: r.client_secret_sealed !== null,
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    client_key: r.client_key_kid && r.client_key_alg ? { kid: r.client_key_kid, alg: r.client_key_alg } : null,
    client_jwks_uri: r.client_key_kid ? urls.jwksUri : null,
    // Logout tokens are signed JWTs verified with the provider's JWKS: OpenID Connect providers only.
    backchannel_logout_uri: r.kind === "oidc" ? urls.backchannelLogoutUri : null,
    scopes: r.scopes, claim_mapping: r.claim_mapping as Record<string, string>, create_users: r.create_users, is_enabled: r.is_enabled, redirect_uri: redirectUri,
    created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
  };
}

/** Why a mapping is refused, or undefined. */
export function mappingProblem(m: Record<string, string>): string | undefined {
  const keys = Object.keys(m);
  if (keys.length > IDP_LIMITS.mappingKeysMax) return `at most ${IDP_LIMITS.mappingKeysMax} entries`;
  const bad = keys.find((k) => !(MAPPABLE as readonly string[]).includes(k));
  return bad ? `unknown field '${bad}' (allowed: ${MAPPABLE.join(", ")})` : undefined;
}

function pick(claims: Record<string, unknown>, path: string): unknown {
  let v: unknown = claims;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export interface MappedProfile {
  subject: string;
  username?: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  locale?: string;
}

/** The local profile from the upstream's claims under the provider's mapping; undefined without a
 *  subject (a number subject, as GitHub's `id`, becomes its decimal text). */
export function mapClaims(claims: Record<string, unknown>, mapping: ClaimMapping): MappedProfile | undefined {
  const m = { ...DEFAULT_MAPPING, ...mapping };
  const text = (f: MappableField, max = 256) => {
    const v = pick(claims, m[f]);
    if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
    // Not valid text (NUL, a lone surrogate: lib/text.ts) counts as absent: it would fail in SQL.
    return typeof v === "string" && v.length > 0 && v.length <= max && isValidText(v) ? v : undefined;
  };
  const subject = text("subject", 255);
  if (!subject) return undefined;
  return {
    subject,
    username: text("username", 64),
    email: text("email", 254),
    // Only an explicit `true` counts (OIDC Core §5.1 email_verified is a boolean).
    emailVerified: pick(claims, m.email_verified) === true,
    name: text("name"),
    given_name: text("given_name"),
    family_name: text("family_name"),
    picture: text("picture", 2000),
    locale: text("locale", 35),
  };
}

/** RFC 8176 §2 registered amr values: only these are carried over from an upstream. */
const REGISTERED_AMR = new Set(["face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pop", "pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"]);

/**
 * What our session records of an upstream sign-in. amr: the upstream's registered values as it
 * asserted them (nothing invented when it asserts none: a plain OAuth 2.0 provider says nothing).
 * acr: our `pwd` level, raised to `mfa` only when the upstream's own amr says `mfa`; an upstream's
 * acr URI is its own vocabulary and is not translated (it is kept on the identity for audit only).
 */
export function federatedAuthentication(upstream: { amr?: unknown }): { amr: string[]; acr: string } {
  const amr = Array.isArray(upstream.amr) ? [...new Set(upstream.amr.filter((v): v is string => typeof v === "string" && REGISTERED_AMR.has(v)))].sort() : [];
  return { amr, acr: amr.includes("mfa") ? ACR.mfa : ACR.pwd };
}
