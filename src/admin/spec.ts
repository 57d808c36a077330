// One admin route, described once: the guard (scope), the handler and its OpenAPI description come
// from the same object, so the document lists exactly the routes that exist.
import { Type as t, type TSchema } from "@sinclair/typebox";
import type { Actor } from "../audit/service";
import type { AdminScope } from "../scopes/model";

export interface AdminPrincipal {
  userId: string;
  username: string;
  scopes: string[];
  jti: string;
  /** The grant (token family) the token names, when it is a token of a grant. */
  grantId?: string | null;
  clientId: string;
  /** Token expiry, seconds since the epoch. */
  expiresAt: number;
}

export interface AdminRequest {
  principal: AdminPrincipal | null;
  actor: Actor;
  body: unknown;
  query: Record<string, string | undefined>;
  params: Record<string, string>;
}

export interface AdminRouteSpec {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Elysia path, e.g. /admin/clients/:client_id */
  path: string;
  /** The admin scope the token must carry; "any": any admin scope, also while a password change
   *  is pending; null: no token needed (network rule still applies). */
  scope: AdminScope | "any" | null;
  tag: string;
  summary: string;
  description?: string;
  /** Descriptions of path parameters. */
  params?: Record<string, string>;
  /** Query parameters (documented; the handler validates them). */
  query?: Record<string, { schema: TSchema; description: string }>;
  body?: TSchema;
  /** Success status (200 unless said). */
  status?: number;
  response: TSchema;
  /** Error statuses this route can answer besides 401/403/429 (400, 404, 409). */
  errors?: number[];
  handler(req: AdminRequest): Promise<unknown> | unknown;
}

export const FieldProblemSchema = t.Object({ field: t.String(), message: t.String() });
export const AdminErrorSchema = t.Object({
  error: t.Union(["validation_error", "not_found", "conflict", "unauthorized", "forbidden", "rate_limited", "invalid_request"].map((c) => t.Literal(c))),
  error_description: t.String(),
  fields: t.Optional(t.Array(FieldProblemSchema)),
});

export const LimitQuery = { schema: t.Integer({ minimum: 1, maximum: 100, default: 20 }), description: "Page size (1-100)" };
export const OffsetQuery = { schema: t.Integer({ minimum: 0, default: 0 }), description: "Rows to skip" };
export const IncludeInactiveQuery = { schema: t.Boolean({ default: false }), description: "Include inactive (soft-deleted) entries" };
export const HardQuery = { schema: t.Boolean({ default: false }), description: "Delete the row for good instead of deactivating it" };
