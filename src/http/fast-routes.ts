// The listener serves the public documents (provider metadata and the JWKS) itself, as static
// routes of Bun's router: responses prepared in memory, the JWKS again whenever the key set
// changes, with HEAD and If-None-Match (304 on the current ETag) answered natively. Relying
// parties, gateways and resource servers fetch these far more often than anything else; no
// JavaScript runs for them, which is what lets them match a raw Bun server. The price, documented:
// these plain GETs are in neither the access log nor authly_http_requests_total. Every other
// method on these paths (CORS preflight included) goes through the Elysia pipeline, which serves
// the same documents (oauth/routes.ts) for app.handle and any path Bun's router cannot take.
import type { PublicDocuments } from "../oauth/documents";

/** Bun's router reads `:` and `*` as parameters and wildcards: such a path stays with Elysia. */
const LITERAL_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

export type StaticRoutes = Record<string, { GET: Response }>;

/** The static routes for the metadata paths and one serialised key set (none yet: the JWKS stays
 *  with Elysia, which loads the keys or answers 503 while the database is away). */
export function publicDocumentRoutes(documents: PublicDocuments, jwks: { body: string; etag: string } | undefined): StaticRoutes {
  const routes: StaticRoutes = {};
  for (const path of documents.metadataPaths) {
    if (LITERAL_PATH.test(path)) routes[path] = { GET: documents.metadata() };
  }
  if (jwks) routes[documents.jwksPath] = { GET: documents.jwksResponse(jwks) };
  return routes;
}
