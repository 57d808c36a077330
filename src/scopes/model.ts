// OAuth scopes (RFC 6749 §3.3): name syntax, the system scopes that cannot be deleted, and the
// admin API's TypeBox schemas.
import { Type as t, type Static } from "@sinclair/typebox";

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without space, '"' and '\'. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
export const SCOPE_NAME_MAX = 128;

export const OIDC_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"] as const;
export const ADMIN_SCOPES = [
  "admin:clients:read",
  "admin:clients:write",
  "admin:scopes:read",
  "admin:scopes:write",
  "admin:users:read",
  "admin:users:write",
  "admin:system:read",
  "admin:system:write",
] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** Why a scope name is invalid, or undefined when it is fine. */
export function scopeNameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > SCOPE_NAME_MAX) return `must be at most ${SCOPE_NAME_MAX} characters`;
  if (!SCOPE_TOKEN.test(name)) return "must be printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)";
  return undefined;
}

/** Splits a space-delimited scope string (RFC 6749 §3.3) into unique names, order kept. */
export function splitScope(scope: string): string[] {
  return [...new Set(scope.split(" ").filter(Boolean))];
}

export interface ScopeRecord {
  name: string;
  description: string;
  is_default: boolean;
  is_active: boolean;
  is_system: boolean;
  created_at: Date;
  updated_at: Date;
}

export const Scope = t.Object({
  name: t.String(),
  description: t.String(),
  is_default: t.Boolean(),
  is_active: t.Boolean(),
  is_system: t.Boolean({ description: "OIDC and admin scopes: cannot be deleted or deactivated" }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
export type Scope = Static<typeof Scope>;

export const ScopeList = t.Object({ scopes: t.Array(Scope), total: t.Integer() });

export const ScopeCreate = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: SCOPE_NAME_MAX, description: "RFC 6749 §3.3 scope-token, e.g. api:read" }),
    description: t.String({ maxLength: 1000 }),
    is_default: t.Optional(t.Boolean({ description: "Granted when a client asks for no scope" })),
  },
  { additionalProperties: false },
);
export type ScopeCreate = Static<typeof ScopeCreate>;

export const ScopeUpdate = t.Object(
  {
    description: t.Optional(t.String({ maxLength: 1000 })),
    is_default: t.Optional(t.Boolean()),
    is_active: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);
export type ScopeUpdate = Static<typeof ScopeUpdate>;

export const ScopeDeleted = t.Object({ name: t.String(), deleted: t.Union([t.Literal("soft"), t.Literal("hard")]) });

export function toScope(r: ScopeRecord): Scope {
  return {
    name: r.name,
    description: r.description,
    is_default: r.is_default,
    is_active: r.is_active,
    is_system: r.is_system,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
