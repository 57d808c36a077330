// Remembered consent in the admin API: list a user's consents, and revoke one (the next
// authorization asks again; the grants and tokens issued under it are revoked too).
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { auditAdmin } from "../audit/service";
import { NotFoundError } from "../errors";
import * as store from "./store";

const Consent = t.Object({
  client_id: t.String(),
  client_name: t.Union([t.String(), t.Null()]),
  scopes: t.Array(t.String()),
  claims: t.Array(t.String(), { description: "Claims consented to one by one with the claims request parameter (OIDC Core §5.5), beyond those of the scopes" }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
const ConsentList = t.Object({ consents: t.Array(Consent), total: t.Integer() });
const ConsentRevoked = t.Object({ user_id: t.String(), client_id: t.String(), revoked: t.Literal(true), revoked_grants: t.Integer() });

async function requireUser(deps: Deps, id: string): Promise<void> {
  if (!(await store.userExists(deps.sql, id))) throw new NotFoundError(`User '${id}' not found`);
}

export function consentAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/users/:id/consents", scope: "admin:users:read", tag: "users", summary: "List the applications a user has consented to",
      params: { id: "The user id (UUID)" }, response: ConsentList, errors: [404],
      handler: async (r) => {
        await requireUser(deps, r.params.id!);
        const rows = await store.listConsents(deps.sql, r.params.id!);
        return { consents: rows.map((c) => ({ ...c, created_at: c.created_at.toISOString(), updated_at: c.updated_at.toISOString() })), total: rows.length };
      },
    },
    {
      method: "DELETE", path: "/admin/users/:id/consents/:client_id", scope: "admin:users:write", tag: "users", summary: "Revoke a user's consent to an application",
      description: "The next authorization request of that application asks the user again; the grants (refresh and access tokens) issued to it for this user are revoked.",
      params: { id: "The user id (UUID)", client_id: "The application's client_id" }, response: ConsentRevoked, errors: [404],
      handler: async (r) => {
        const userId = r.params.id!;
        const clientId = r.params.client_id!;
        await requireUser(deps, userId);
        return deps.sql.begin(async (tx) => {
          if (!(await store.deleteConsent(tx, userId, clientId))) throw new NotFoundError(`User '${userId}' has no consent for client '${clientId}'`);
          const revoked = await store.revokeUserClientGrants(tx, userId, clientId);
          await auditAdmin(deps, tx, r.actor, "consent.revoke", { type: "user", id: userId }, { client_id: clientId, revoked_grants: revoked });
          return { user_id: userId, client_id: clientId, revoked: true as const, revoked_grants: revoked };
        });
      },
    },
  ];
}
