// The /admin HTTP API: every admin route spec mounted behind the admin guard, plus the OpenAPI
// document and the offline docs page. AUTHLY_ADMIN_API_ENABLED=false mounts nothing (404).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { userAdminRoutes } from "../accounts/admin-routes";
import { auditAdminRoutes } from "../audit/admin-routes";
import { clientAdminRoutes } from "../clients/admin-routes";
import { scopeAdminRoutes } from "../scopes/admin-routes";
import { consentAdminRoutes } from "../interaction/admin-routes";
import { mfaAdminRoutes } from "../authn/admin-routes";
import { requestInfo, splitTarget } from "../http/request-context";
import { ValidationError } from "../errors";
import { decodeUtf8, fieldLabel, isValidText, parseUrlEncoded, pathDecode, rawQuery } from "../lib/text";
import { objectBody, Problems } from "../lib/validate";
import { authorizeAdmin } from "./guard";
import { buildOpenApi, renderDocsPage } from "./openapi";
import type { AdminRouteSpec } from "./spec";
import { systemAdminRoutes } from "./system";

/** Every admin route, in documentation order. */
export function adminRouteSpecs(deps: Deps): AdminRouteSpec[] {
  return [...systemAdminRoutes(deps), ...clientAdminRoutes(deps), ...scopeAdminRoutes(deps), ...userAdminRoutes(deps), ...consentAdminRoutes(deps), ...mfaAdminRoutes(deps), ...auditAdminRoutes(deps)];
}

const DOCS_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
};

async function readBody(request: Request): Promise<unknown> {
  const text = decodeUtf8(await request.arrayBuffer());
  if (text === undefined) throw new ValidationError("The request body is not valid UTF-8", [{ field: "body", message: "must be UTF-8" }]);
  return objectBody(text);
}

/** Path parameters and query of an admin request, decoded strictly from the raw URL (the text
 *  rule of lib/text.ts: UTF-8, no NUL); a field that is not text is a validation_error naming it. */
function readUrl(request: Request, pattern: string): { params: Record<string, string>; query: Record<string, string> } {
  const p = new Problems();
  const { pathname } = splitTarget(request.url);
  const names = pattern.split("/");
  const segments = pathname.split("/").slice(-names.length);
  const params: Record<string, string> = {};
  names.forEach((n, i) => {
    if (!n.startsWith(":")) return;
    const v = pathDecode(segments[i] ?? "");
    if (v === undefined || !isValidText(v)) p.add(n.slice(1), "must be valid text (UTF-8 without NUL)");
    else params[n.slice(1)] = v;
  });
  const { fields, invalid } = parseUrlEncoded(rawQuery(request.url));
  for (const name of invalid) p.add(fieldLabel(name), "must be valid text (UTF-8 without NUL)");
  p.throwIfAny("The request URL is invalid");
  const query: Record<string, string> = Object.create(null);
  for (const f of fields) query[f.name] = f.value; // the last of repeated values, as before
  return { params, query };
}

export function adminRoutes(deps: Deps) {
  const app = new Elysia({ name: "admin" });
  if (!deps.config.adminApiEnabled) return app;
  const specs = adminRouteSpecs(deps);
  for (const spec of specs) {
    app.route(
      spec.method,
      spec.path,
      async ({ request, set }) => {
        const ip = requestInfo(request).ip;
        // Network rule, rate limit and token come before the body is even read.
        const principal = await authorizeAdmin(deps, request, ip, spec.scope);
        const { params, query } = readUrl(request, spec.path);
        const body = spec.method === "POST" || spec.method === "PATCH" ? await readBody(request) : undefined;
        const result = await spec.handler({
          principal,
          actor: { userId: principal?.userId ?? null, username: principal?.username ?? null, ip },
          body,
          query,
          params,
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
