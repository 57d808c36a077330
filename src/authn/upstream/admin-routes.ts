// Admin API: upstream identity providers (create, list, show, update, delete) and a user's linked
// identities. Providers are registrations like clients: scopes admin:clients:read / write.
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../../deps";
import type { AdminRouteSpec } from "../../admin/spec";
import { Idp, IdpCreate, IdpDeleted, IdpList, IdpUpdate } from "./model";
import * as idps from "./service";

const SLUG = { slug: "The provider's slug" };
const Identities = t.Object({
  identities: t.Array(t.Object({ id: t.String(), idp: t.String(), idp_name: t.String(), subject: t.String(), email: t.Union([t.String(), t.Null()]), created_at: t.String(), last_used_at: t.Union([t.String(), t.Null()]) })),
});

export function idpAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/idps", scope: "admin:clients:write", tag: "idps", summary: "Register an upstream identity provider",
      description: "kind=oidc: by `issuer` (its discovery document is fetched under the server's outbound rules); kind=oauth2: explicit endpoints and a `claim_mapping` naming at least `subject`. `client_secret` is stored encrypted and never returned.",
      body: IdpCreate, status: 201, response: Idp, errors: [400, 409],
      handler: (r) => idps.createIdp(deps, r.actor, r.body),
    },
    {
      method: "GET", path: "/admin/idps", scope: "admin:clients:read", tag: "idps", summary: "List upstream identity providers",
      response: IdpList, handler: () => idps.listIdps(deps),
    },
    {
      method: "GET", path: "/admin/idps/:slug", scope: "admin:clients:read", tag: "idps", summary: "Show an upstream identity provider",
      params: SLUG, response: Idp, errors: [404], handler: (r) => idps.getIdp(deps, r.params.slug!),
    },
    {
      method: "PATCH", path: "/admin/idps/:slug", scope: "admin:clients:write", tag: "idps", summary: "Update an upstream identity provider (partial)",
      params: SLUG, body: IdpUpdate, response: Idp, errors: [400, 404], handler: (r) => idps.updateIdp(deps, r.actor, r.params.slug!, r.body),
    },
    {
      method: "DELETE", path: "/admin/idps/:slug", scope: "admin:clients:write", tag: "idps", summary: "Delete an upstream identity provider",
      description: "Removes the provider and every identity linked through it; users and their sessions stay.",
      params: SLUG, response: IdpDeleted, errors: [404], handler: (r) => idps.deleteIdp(deps, r.actor, r.params.slug!),
    },
    {
      method: "GET", path: "/admin/users/:id/identities", scope: "admin:users:read", tag: "users", summary: "List a user's linked upstream identities",
      params: { id: "The user's id" }, response: Identities, errors: [404], handler: (r) => idps.userIdentities(deps, r.params.id!),
    },
  ];
}
