// Admin API: initial access tokens for dynamic client registration (RFC 7591 §3, AUTHLY_REGISTRATION=token).
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { InitialToken, InitialTokenCreate } from "./model";
import { createInitialToken } from "./service";

export function registrationAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/registration-tokens", scope: "admin:clients:write", tag: "clients", summary: "Create an initial access token for dynamic registration",
      description: "The token is shown once; only its hash is stored. It allows `max_uses` registrations until `expires_in` seconds from now.",
      body: InitialTokenCreate, status: 201, response: InitialToken, errors: [400],
      handler: (r) => createInitialToken(deps, r.actor, r.body),
    },
  ];
}
