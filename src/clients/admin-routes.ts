// Admin API: OAuth clients (create, list, show, update, delete, regenerate-secret).
// Scopes admin:clients:read / admin:clients:write.
import type { Deps } from "../deps";
import { boolParam, intParam, Problems } from "../lib/validate";
import { HardQuery, IncludeInactiveQuery, LimitQuery, OffsetQuery, type AdminRouteSpec } from "../admin/spec";
import { Client, ClientCreate, ClientDeleted, ClientList, ClientUpdate, ClientWithSecret, RegenerateSecret, SecretRegenerated } from "./model";
import * as clients from "./service";

const ID = { client_id: "The client_id" };

export function clientAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/clients", scope: "admin:clients:write", tag: "clients", summary: "Create a client",
      description: "Confidential clients using client_secret_basic/post get `client_secret` in this response only; only its HMAC is stored.",
      body: ClientCreate, status: 201, response: ClientWithSecret, errors: [400],
      handler: (r) => clients.createClient(deps, r.actor, r.body),
    },
    {
      method: "GET", path: "/admin/clients", scope: "admin:clients:read", tag: "clients", summary: "List clients",
      query: { limit: LimitQuery, offset: OffsetQuery, include_inactive: IncludeInactiveQuery }, response: ClientList, errors: [400],
      handler: (r) => {
        const p = new Problems();
        const limit = intParam(p, r.query, "limit", 20, 1, 100);
        const offset = intParam(p, r.query, "offset", 0, 0, 1_000_000_000);
        const includeInactive = boolParam(p, r.query, "include_inactive");
        p.throwIfAny("Invalid query");
        return clients.listClients(deps, { limit, offset, includeInactive });
      },
    },
    {
      method: "GET", path: "/admin/clients/:client_id", scope: "admin:clients:read", tag: "clients", summary: "Show a client",
      params: ID, response: Client, errors: [404],
      handler: (r) => clients.getClient(deps, r.params.client_id!),
    },
    {
      method: "PATCH", path: "/admin/clients/:client_id", scope: "admin:clients:write", tag: "clients", summary: "Update a client (partial)",
      description: "Any subset of the create fields and `is_active`. Deactivating revokes the client's grants and tokens. The client type cannot change.",
      params: ID, body: ClientUpdate, response: ClientWithSecret, errors: [400, 404, 409],
      handler: (r) => clients.updateClient(deps, r.actor, r.params.client_id!, r.body),
    },
    {
      method: "DELETE", path: "/admin/clients/:client_id", scope: "admin:clients:write", tag: "clients", summary: "Delete a client",
      description: "Soft delete (deactivate and revoke its grants) by default; `hard=true` removes the client and everything issued to it.",
      params: ID, query: { hard: HardQuery }, response: ClientDeleted, errors: [400, 404, 409],
      handler: (r) => {
        const p = new Problems();
        const hard = boolParam(p, r.query, "hard");
        p.throwIfAny("Invalid query");
        return clients.deleteClient(deps, r.actor, r.params.client_id!, hard);
      },
    },
    {
      method: "POST", path: "/admin/clients/:client_id/regenerate-secret", scope: "admin:clients:write", tag: "clients", summary: "Regenerate a client secret",
      description: "The new secret is shown once. With `grace_period_seconds` the old secret keeps working that long.",
      params: ID, body: RegenerateSecret, response: SecretRegenerated, errors: [400, 404, 409],
      handler: (r) => clients.regenerateSecret(deps, r.actor, r.params.client_id!, r.body),
    },
  ];
}
