// Admin API: scopes (create, list, defaults, show, update, delete). Scopes admin:scopes:read/write.
import type { Deps } from "../deps";
import { boolParam, Problems } from "../lib/validate";
import { HardQuery, IncludeInactiveQuery, type AdminRouteSpec } from "../admin/spec";
import { Scope, ScopeCreate, ScopeDeleted, ScopeList, ScopeUpdate } from "./model";
import * as scopes from "./service";

const NAME = { name: "Scope name (URL-encoded)" };

export function scopeAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/scopes", scope: "admin:scopes:write", tag: "scopes", summary: "Create a scope",
      body: ScopeCreate, status: 201, response: Scope, errors: [400, 409],
      handler: (r) => scopes.createScope(deps, r.actor, r.body),
    },
    {
      method: "GET", path: "/admin/scopes", scope: "admin:scopes:read", tag: "scopes", summary: "List scopes",
      query: { include_inactive: IncludeInactiveQuery }, response: ScopeList, errors: [400],
      handler: (r) => {
        const p = new Problems();
        const includeInactive = boolParam(p, r.query, "include_inactive");
        p.throwIfAny("Invalid query");
        return scopes.listScopes(deps, { includeInactive });
      },
    },
    {
      method: "GET", path: "/admin/scopes/defaults", scope: "admin:scopes:read", tag: "scopes", summary: "List the active default scopes",
      response: ScopeList,
      handler: () => scopes.listScopes(deps, { includeInactive: false, defaultsOnly: true }),
    },
    {
      method: "GET", path: "/admin/scopes/:name", scope: "admin:scopes:read", tag: "scopes", summary: "Show a scope",
      params: NAME, response: Scope, errors: [404],
      handler: (r) => scopes.getScope(deps, r.params.name!),
    },
    {
      method: "PATCH", path: "/admin/scopes/:name", scope: "admin:scopes:write", tag: "scopes", summary: "Update a scope",
      description: "System scopes can change description and default flag but cannot be deactivated.",
      params: NAME, body: ScopeUpdate, response: Scope, errors: [400, 404, 409],
      handler: (r) => scopes.updateScope(deps, r.actor, r.params.name!, r.body),
    },
    {
      method: "DELETE", path: "/admin/scopes/:name", scope: "admin:scopes:write", tag: "scopes", summary: "Delete a scope",
      description: "Soft delete (deactivate) by default; `hard=true` removes the row and the scope from every client. System scopes cannot be deleted (409).",
      params: NAME, query: { hard: HardQuery }, response: ScopeDeleted, errors: [400, 404, 409],
      handler: (r) => {
        const p = new Problems();
        const hard = boolParam(p, r.query, "hard");
        p.throwIfAny("Invalid query");
        return scopes.deleteScope(deps, r.actor, r.params.name!, hard);
      },
    },
  ];
}

