// Admin API: API resources (create, create from RFC 9728 metadata, list, show, update, delete).
// A resource is a registration like a client: scopes admin:clients:read / admin:clients:write.
// The identifier is a URI: percent-encode it as one path segment (encodeURIComponent).
import type { Deps } from "../deps";
import { boolParam, Problems } from "../lib/validate";
import { HardQuery, IncludeInactiveQuery, type AdminRouteSpec } from "../admin/spec";
import { Resource, ResourceCreate, ResourceDeleted, ResourceFromMetadata, ResourceList, ResourceUpdate, ResourceWithSecret } from "./model";
import { createResourceFromMetadata } from "./protected-resource-metadata";
import * as resources from "./service";

const ID = { identifier: "The resource identifier (an absolute URI), percent-encoded as one path segment" };

export function resourceAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/resources", scope: "admin:clients:write", tag: "resources", summary: "Create an API resource",
      description: "Creates the resource and the confidential client record its resource server authenticates with (to introspect); `client_secret` is in this response only.",
      body: ResourceCreate, status: 201, response: ResourceWithSecret, errors: [400, 409],
      handler: (r) => resources.createResource(deps, r.actor, r.body),
    },
    {
      method: "POST", path: "/admin/resources/from-metadata", scope: "admin:clients:write", tag: "resources", summary: "Create an API resource from its protected resource metadata (RFC 9728)",
      description: "Fetches the metadata (outbound rules of the server: no private or loopback address outside development, size and time caps) and creates the resource with its identifier, name and scopes.",
      body: ResourceFromMetadata, status: 201, response: ResourceWithSecret, errors: [400, 409],
      handler: (r) => createResourceFromMetadata(deps, r.actor, r.body),
    },
    {
      method: "GET", path: "/admin/resources", scope: "admin:clients:read", tag: "resources", summary: "List API resources",
      query: { include_inactive: IncludeInactiveQuery }, response: ResourceList, errors: [400],
      handler: (r) => {
        const p = new Problems();
        const includeInactive = boolParam(p, r.query, "include_inactive");
        p.throwIfAny("Invalid query");
        return resources.listResources(deps, includeInactive);
      },
    },
    {
      method: "GET", path: "/admin/resources/:identifier", scope: "admin:clients:read", tag: "resources", summary: "Show an API resource",
      params: ID, response: Resource, errors: [404],
      handler: (r) => resources.getResource(deps, r.params.identifier!),
    },
    {
      method: "PATCH", path: "/admin/resources/:identifier", scope: "admin:clients:write", tag: "resources", summary: "Update an API resource (partial)",
      params: ID, body: ResourceUpdate, response: Resource, errors: [400, 404],
      handler: (r) => resources.updateResource(deps, r.actor, r.params.identifier!, r.body),
    },
    {
      method: "DELETE", path: "/admin/resources/:identifier", scope: "admin:clients:write", tag: "resources", summary: "Delete an API resource",
      description: "Soft delete (deactivate the resource and its credentials) by default; `hard=true` removes both and the resource from every client.",
      params: ID, query: { hard: HardQuery }, response: ResourceDeleted, errors: [400, 404],
      handler: (r) => {
        const p = new Problems();
        const hard = boolParam(p, r.query, "hard");
        p.throwIfAny("Invalid query");
        return resources.deleteResource(deps, r.actor, r.params.identifier!, hard);
      },
    },
  ];
}
