// The back channel's HTTP routes: token (RFC 6749 §3.2), revocation (RFC 7009), introspection
// (RFC 7662), the JWKS (RFC 7517) and the metadata documents (RFC 8414, OIDC Discovery).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { buildMetadata, ENDPOINT_PATHS, metadataPaths } from "./discovery";
import { handleIntrospection } from "./introspect";
import { handleRevocation } from "./revoke";
import { handleTokenRequest } from "./token";
import { PUBLIC_DOCUMENT_HEADERS } from "../http/cors";

/** Relying parties may cache these (a next key is published long before it signs); CORS headers
 *  come from http/cors.ts. */
const JWKS_HEADERS = { ...PUBLIC_DOCUMENT_HEADERS, "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300, stale-while-revalidate=60" };
const METADATA_HEADERS = { ...PUBLIC_DOCUMENT_HEADERS, "content-type": "application/json", "cache-control": "public, max-age=300" };

const FORM_BODY = { parse: "none" as const };

export function oauthRoutes(deps: Deps) {
  const metadata = JSON.stringify(buildMetadata(deps.config));
  // Elysia's .get registers on the instance it is called on; the loop needs no chained type.
  const wellKnown = new Elysia({ name: "oauth-metadata" });
  for (const path of metadataPaths(deps.config.issuer)) {
    // A static Response: Elysia prepares it once and still runs the global hooks (request id, CORS).
    wellKnown.get(path, new Response(metadata, { headers: METADATA_HEADERS }), {
      detail: { tags: ["oauth"], summary: "Authorization server / OpenID Provider metadata" },
    });
  }
  let prepared: { etag: string; body: ArrayBuffer; headers: Record<string, string> } | undefined;
  return new Elysia({ name: "oauth" })
    .post(ENDPOINT_PATHS.token, ({ request }) => handleTokenRequest(deps, request), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token endpoint (authorization_code, refresh_token, client_credentials)" },
    })
    .post(ENDPOINT_PATHS.revocation, ({ request }) => handleRevocation(deps, request), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token revocation (RFC 7009)" },
    })
    .post(ENDPOINT_PATHS.introspection, ({ request }) => handleIntrospection(deps, request), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token introspection (RFC 7662)" },
    })
    .get(ENDPOINT_PATHS.jwks, ({ request }) => {
      // A whole Response with every header (nothing for Elysia to merge), its headers and encoded
      // body prepared once per key set.
      const answer = (doc: { body: string; etag: string }) => {
        if (prepared?.etag !== doc.etag) prepared = { etag: doc.etag, body: new TextEncoder().encode(doc.body).buffer as ArrayBuffer, headers: { ...JWKS_HEADERS, etag: doc.etag } };
        if (request.headers.get("if-none-match") !== doc.etag) return new Response(prepared.body, { headers: prepared.headers });
        return new Response(null, { status: 304, headers: prepared.headers });
      };
      // Synchronous while the key cache is fresh; a reload is awaited only past its age.
      const cached = deps.keys.cachedJwksDocument();
      return cached ? answer(cached) : deps.keys.jwksDocument().then(answer);
    }, { detail: { tags: ["oauth"], summary: "Public signing keys (JWKS)" } })
    .use(wellKnown);
}
