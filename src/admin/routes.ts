// The /admin HTTP API: every admin route spec mounted behind the admin guard, plus the OpenAPI
// document and the offline docs page. AUTHLY_ADMIN_API_ENABLED=false mounts nothing (404).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { userAdminRoutes } from "../accounts/admin-routes";
import { auditAdminRoutes } from "../audit/admin-routes";
import { clientAdminRoutes } from "../clients/admin-routes";
import { resourceAdminRoutes } from "../resources/admin-routes";
import { registrationAdminRoutes } from "../registration/admin-routes";
import { scopeAdminRoutes } from "../scopes/admin-routes";
import { consentAdminRoutes } from "../interaction/admin-routes";
import { PAGE_HEADERS } from "../http/html";
import { mfaAdminRoutes } from "../authn/admin-routes";
import { idpAdminRoutes } from "../authn/upstream/admin-routes";
import { requestInfo, splitTarget } from "../http/request-context";
import { ValidationError } from "../errors";
import { decodeUtf8, fieldLabel, isValidText, parseUrlEncoded, pathDecode, rawQuery } from "../lib/text";
import { loadOnce } from "../lib/load-once";
import { objectBody, Problems } from "../lib/validate";
import { authorizeAdmin } from "./guard";
import { DOCS_ASSETS, DOCS_SCRIPT, DOCS_STYLESHEET, docsPagePolicy } from "./docs-assets";
import type { AdminRouteSpec } from "./spec";
import { systemAdminRoutes } from "./system";
import { mailAdminRoutes } from "../mail/admin-routes";
import { signupAdminRoutes } from "../account/signup-admin-routes";
import { brandingAdminRoutes } from "../branding/admin-routes";

/** Every admin route, in documentation order. */
export function adminRouteSpecs(deps: Deps): AdminRouteSpec[] {
  return [...systemAdminRoutes(deps), ...clientAdminRoutes(deps), ...registrationAdminRoutes(deps), ...resourceAdminRoutes(deps), ...scopeAdminRoutes(deps), ...userAdminRoutes(deps), ...consentAdminRoutes(deps), ...mfaAdminRoutes(deps), ...auditAdminRoutes(deps),
    ...idpAdminRoutes(deps), ...mailAdminRoutes(deps), ...signupAdminRoutes(deps), ...brandingAdminRoutes(deps)];
}

const DOCS_PATH = "/admin/docs";
const SPEC_PATH = "/admin/openapi.json";

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
  app.use(adminDocs(deps, specs));
  return app;
}

/**
 * /admin/openapi.json and the interactive docs page /admin/docs (Swagger UI), through
 * @elysiajs/openapi. The document is built from the admin route specs (the same objects that
 * register the routes above, which Elysia itself does not see as typed routes: they parse their own
 * bodies), so the plugin's own route scan is switched off (`exclude` every path): the protocol
 * endpoints are not part of the admin API. Swagger UI's script and stylesheet are embedded in the
 * binary and served here (DOCS_ASSETS); the page's CSP allows exactly them and the plugin's inline
 * start script by hash (docsPagePolicy). Everything here is behind the admin network rule.
 * The plugin and the document (a JSON copy of every admin schema) are loaded and built at the first
 * request for either, in an app of their own: a server whose docs nobody reads never holds them.
 */
function adminDocs(deps: Deps, specs: AdminRouteSpec[]) {
  const docsApp = loadOnce(() => loadDocsApp(deps, specs));
  const serveDocs = ({ request }: { request: Request }) => docsApp().then((app) => app.handle(request));
  let pagePolicy: { html: string; csp: string } | undefined;
  const docs = new Elysia({ name: "admin-docs" })
    .onBeforeHandle(async ({ request }) => {
      await authorizeAdmin(deps, request, requestInfo(request).ip, null);
    });
  for (const asset of DOCS_ASSETS) {
    docs.get(asset.path, () => new Response(Bun.file(asset.file), { headers: { "Content-Type": asset.contentType, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" } }), { detail: { hide: true } });
  }
  return docs
    .get(SPEC_PATH, async (ctx) => {
      const res = await serveDocs(ctx);
      return new Response(res.body, { status: res.status, headers: { "Content-Type": res.headers.get("content-type") ?? "application/json", "Cache-Control": "no-store" } });
    }, { detail: { hide: true } })
    .get(DOCS_PATH, async (ctx) => {
      const res = await serveDocs(ctx);
      // Fail closed: never serve the page without its CSP.
      if (res.status !== 200) throw new Error(`@elysiajs/openapi's docs page answered ${res.status}; not serving it`);
      const html = await res.text();
      if (pagePolicy?.html !== html) pagePolicy = { html, csp: docsPagePolicy(html) };
      return new Response(html, { headers: { ...PAGE_HEADERS, "Content-Security-Policy": pagePolicy.csp } });
    }, { detail: { hide: true } });
}

/** The plugin's own app: the docs page and the document, built once. */
async function loadDocsApp(deps: Deps, specs: AdminRouteSpec[]): Promise<{ handle(request: Request): Promise<Response> }> {
  const [{ openapi }, { buildOpenApi }] = await Promise.all([import("@elysiajs/openapi"), import("./openapi")]);
  const doc = buildOpenApi(specs, deps.config.issuer);
  return new Elysia({ name: "admin-docs-plugin", handler: { standardHostname: false } }).use(
    openapi({
      path: DOCS_PATH,
      specPath: SPEC_PATH,
      provider: "swagger-ui",
      openapiVersion: "3.1.0",
      documentation: doc as never,
      exclude: { paths: [/.*/] },
      swagger: {
        cdn: DOCS_SCRIPT.path,
        theme: DOCS_STYLESHEET.path,
        // The plugin's default is relative to the page ("admin/openapi.json" from /admin/docs).
        url: SPEC_PATH,
        autoDarkMode: false,
        validatorUrl: null,
        docExpansion: "list",
        deepLinking: true,
        persistAuthorization: false,
      } as never,
    }),
  );
}
