// The two public, cacheable documents: provider metadata (RFC 8414 §3, OIDC Discovery §4) and the
// JWK Set (RFC 7517 §5). Each answer is a whole Response with every header it needs, its body
// prepared once (per key set for the JWKS), so that answering costs no more than a raw Bun handler.
// Served by the Elysia routes (oauth/routes.ts) and, as static routes of the listener, by http/fast-routes.ts.
import type { Deps } from "../deps";
import { PUBLIC_DOCUMENT_HEADERS } from "../http/cors";
import { buildMetadata, ENDPOINT_PATHS, metadataPaths } from "./discovery";

/** Relying parties may cache these (a next key is published long before it signs). */
const JWKS_HEADERS = { ...PUBLIC_DOCUMENT_HEADERS, "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300, stale-while-revalidate=60" };
const METADATA_HEADERS = { ...PUBLIC_DOCUMENT_HEADERS, "content-type": "application/json", "cache-control": "public, max-age=300" };

export interface PublicDocuments {
  /** The well-known metadata paths of the issuer (RFC 8414 §3.1 forms included). */
  metadataPaths: string[];
  jwksPath: string;
  metadata(): Response;
  /** The JWK Set, or 304 when If-None-Match names its current ETag. Synchronous while the key
   *  cache is fresh; a reload is awaited only past its age. */
  jwks(request: Request): Response | Promise<Response>;
  /** The 200 answer for one serialised key set (the listener's static route). */
  jwksResponse(doc: { body: string; etag: string }): Response;
}

export function publicDocuments(deps: Pick<Deps, "config" | "keys">): PublicDocuments {
  const metadata = encode(JSON.stringify(buildMetadata(deps.config)));
  let prepared: { etag: string; body: ArrayBuffer; headers: Record<string, string> } | undefined;
  const prepare = (doc: { body: string; etag: string }) =>
    prepared?.etag === doc.etag ? prepared : (prepared = { etag: doc.etag, body: encode(doc.body), headers: { ...JWKS_HEADERS, etag: doc.etag } });
  const answerJwks = (request: Request, doc: { body: string; etag: string }): Response => {
    const { body, headers } = prepare(doc);
    if (request.headers.get("if-none-match") !== doc.etag) return new Response(body, { headers });
    return new Response(null, { status: 304, headers });
  };
  return {
    jwksResponse(doc) {
      const { body, headers } = prepare(doc);
      return new Response(body, { headers });
    },
    metadataPaths: metadataPaths(deps.config.issuer),
    jwksPath: ENDPOINT_PATHS.jwks,
    metadata: () => new Response(metadata, { headers: METADATA_HEADERS }),
    jwks(request) {
      const cached = deps.keys.cachedJwksDocument();
      return cached ? answerJwks(request, cached) : deps.keys.jwksDocument().then((doc) => answerJwks(request, doc));
    },
  };
}

const encode = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;
