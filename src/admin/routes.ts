// The /admin HTTP API: every admin route spec mounted behind the admin guard, plus the OpenAPI
// document and the offline docs page. AUTHLY_ADMIN_API_ENABLED=false mounts nothing (404).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { userAdminRoutes } from "../accounts/admin-routes";
import { auditAdminRoutes } from "../audit/admin-routes";
import { clientAdminRoutes } from "../clients/admin-routes";
import { scopeAdminRoutes } from "../scopes/admin-routes";
import { consentAdminRoutes } from "../interaction/admin-routes";
import { requestInfo } from "../http/request-context";
import { objectBody } from "../lib/validate";
import { authorizeAdmin } from "./guard";
import { buildOpenApi, renderDocsPage } from "./openapi";
import type { AdminRouteSpec } from "./spec";
import { systemAdminRoutes } from "./system";

/** Every admin route, in documentation order. */
export function adminRouteSpecs(deps: Deps): AdminRouteSpec[] {
  return [...systemAdminRoutes(deps), ...clientAdminRoutes(deps), ...scopeAdminRoutes(deps), ...userAdminRoutes(deps), ...consentAdminRoutes(deps), ...auditAdminRoutes(deps)];
}

const DOCS_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
};

async function readBody(request: Request): Promise<unknown> {
  const text = await request.text();
  return objectBody(text);
}

export function adminRoutes(deps: Deps) {
  const app = new Elysia({ name: "admin" });
  if (!deps.config.adminApiEnabled) return app;
  const specs = adminRouteSpecs(deps);
  for (const spec of specs) {
    app.route(
      spec.method,
      spec.path,
      async ({ request, query, params, set }) => {
        const ip = requestInfo(request).ip;
        // Network rule, rate limit and token come before the body is even read.
        const principal = await authorizeAdmin(deps, request, ip, spec.scope);
        const body = spec.method === "POST" || spec.method === "PATCH" ? await readBody(request) : undefined;
        const result = await spec.handler({
          principal,
          actor: { userId: principal?.userId ?? null, username: principal?.username ?? null, ip },
          body,
          query: query as Record<string, string | undefined>,
          params: params as Record<string, string>,
        });
        set.status = spec.status ?? 200;
        set.headers["cache-control"] = "no-store";
        return result;
      },
      { parse: "none", detail: { hide: true } },
    );
  }
  const document = () => buildOpenApi(specs, deps.config.issuer);
  app.get("/admin/openapi.json", async ({ request, set }) => {
    await authorizeAdmin(deps, request, requestInfo(request).ip, null);
    set.headers["cache-control"] = "no-store";
    return document();
  }, { detail: { hide: true } });
  app.get("/admin/docs", async ({ request }) => {
    await authorizeAdmin(deps, request, requestInfo(request).ip, null);
    return new Response(renderDocsPage(document()), { headers: DOCS_HEADERS });
  }, { detail: { hide: true } });
  return app;
}
