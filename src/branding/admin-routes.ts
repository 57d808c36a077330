// Admin API of branding (issue 17): GET/PATCH/DELETE /admin/branding (server-wide) and
// /admin/clients/:client_id/branding (one client, over the server-wide values).
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { Branding, BrandingInput } from "./model";
import { resetBranding, setBranding, showBranding } from "./service";

const ID = { client_id: "The client's client_id" };
const SET_DESCRIPTION =
  "Sets the named fields; `null` clears one; the others keep their value. Colours must be CSS colour values (#rgb, #rrggbb, rgb()/hsl() with numbers, or a colour name); the stylesheet may style but load nothing (no @import, no url() but data:image, no backslash escapes), at most 32 KiB; the logo is an https URL (fetched by the server and inlined, never hot-linked) or a data:image URI of at most 64 KiB. Pages show a change within 5 seconds.";

export function brandingAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/branding", scope: "admin:system:read", tag: "branding", summary: "Show the server-wide branding",
      description: "Product name, logo, colours and extra stylesheet of every page and mail; `null` fields use the built-in look.",
      response: Branding,
      handler: () => showBranding(deps, null),
    },
    {
      method: "PATCH", path: "/admin/branding", scope: "admin:system:write", tag: "branding", summary: "Set the server-wide branding (partial)",
      description: SET_DESCRIPTION, body: BrandingInput, response: Branding, errors: [400],
      handler: (r) => setBranding(deps, r.actor, null, r.body),
    },
    {
      method: "DELETE", path: "/admin/branding", scope: "admin:system:write", tag: "branding", summary: "Reset the server-wide branding to the built-in look",
      response: Branding,
      handler: (r) => resetBranding(deps, r.actor, null),
    },
    {
      method: "GET", path: "/admin/clients/:client_id/branding", scope: "admin:clients:read", tag: "branding", summary: "Show a client's branding",
      description: "The client's own values; `null` fields fall back to the server-wide branding on its pages.",
      params: ID, response: Branding, errors: [404],
      handler: (r) => showBranding(deps, r.params.client_id!),
    },
    {
      method: "PATCH", path: "/admin/clients/:client_id/branding", scope: "admin:clients:write", tag: "branding", summary: "Set a client's branding (partial)",
      description: `${SET_DESCRIPTION} Applies to the login, consent, second-factor and device pages of this client.`,
      params: ID, body: BrandingInput, response: Branding, errors: [400, 404],
      handler: (r) => setBranding(deps, r.actor, r.params.client_id!, r.body),
    },
    {
      method: "DELETE", path: "/admin/clients/:client_id/branding", scope: "admin:clients:write", tag: "branding", summary: "Remove a client's branding (its pages use the server-wide one)",
      params: ID, response: Branding, errors: [404],
      handler: (r) => resetBranding(deps, r.actor, r.params.client_id!),
    },
  ];
}
