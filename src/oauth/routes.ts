// The back channel's HTTP routes: token (RFC 6749 §3.2), revocation (RFC 7009), introspection
// (RFC 7662), the JWKS (RFC 7517) and the metadata documents (RFC 8414, OIDC Discovery).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { buildMetadata, ENDPOINT_PATHS, metadataPaths } from "./discovery";
import { handleIntrospection } from "./introspect";
import { handleRevocation } from "./revoke";
import { handleTokenRequest } from "./token";

/** Browsers and relying parties may cache these; a next key is published long before it signs. */
const JWKS_CACHE = "public, max-age=300, stale-while-revalidate=60";
const METADATA_CACHE = "public, max-age=300";

const FORM_BODY = { parse: "none" as const };

export function oauthRoutes(deps: Deps) {
  const metadata = JSON.stringify(buildMetadata(deps.config));
  const metadataHeaders = { "Content-Type": "application/json", "Cache-Control": METADATA_CACHE, "Access-Control-Allow-Origin": "*" };
  // Elysia's .get registers on the instance it is called on; the loop needs no chained type.
  const wellKnown = new Elysia({ name: "oauth-metadata" });
  for (const path of metadataPaths(deps.config.issuer)) {
    wellKnown.get(path, () => new Response(metadata, { status: 200, headers: metadataHeaders }), {
      detail: { tags: ["oauth"], summary: "Authorization server / OpenID Provider metadata" },
    });
  }
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
    .get(ENDPOINT_PATHS.jwks, async ({ request }) => {
      const { body, etag } = await deps.keys.jwksDocument();
      const headers = { "Content-Type": "application/jwk-set+json", "Cache-Control": JWKS_CACHE, ETag: etag, "Access-Control-Allow-Origin": "*" };
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
      return new Response(body, { status: 200, headers });
    }, { detail: { tags: ["oauth"], summary: "Public signing keys (JWKS)" } })
    .use(wellKnown);
}
