// The back channel's HTTP routes: token (RFC 6749 §3.2), revocation (RFC 7009), introspection
// (RFC 7662), the JWKS (RFC 7517) and the metadata documents (RFC 8414, OIDC Discovery).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { ENDPOINT_PATHS } from "./discovery";
import { publicDocuments } from "./documents";
import { handleIntrospection } from "./introspect";
import { handlePushedAuthorizationRequest, parMethodNotAllowed } from "./par-endpoint";
import { handleRevocation } from "./revoke";
import { handleTokenRequest } from "./token";
import { addCommonHeaders } from "../http/cors";
import { requestInfo } from "../http/request-context";

/** A self-headed route's response (app.ts): the common headers added here, not merged by Elysia. */
const headed = async (request: Request, response: Promise<Response>) => addCommonHeaders(await response, requestInfo(request).id);

const FORM_BODY = { parse: "none" as const };

export function oauthRoutes(deps: Deps) {
  const documents = publicDocuments(deps);
  // Elysia's .get registers on the instance it is called on; the loop needs no chained type.
  const wellKnown = new Elysia({ name: "oauth-metadata" });
  for (const path of documents.metadataPaths) {
    wellKnown.get(path, () => documents.metadata(), {
      detail: { tags: ["oauth"], summary: "Authorization server / OpenID Provider metadata" },
    });
  }
  return new Elysia({ name: "oauth" })
    .post(ENDPOINT_PATHS.token, ({ request }) => headed(request, handleTokenRequest(deps, request)), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token endpoint (authorization_code, refresh_token, client_credentials, device_code)" },
    })
    .post(ENDPOINT_PATHS.pushedAuthorizationRequest, ({ request }) => handlePushedAuthorizationRequest(deps, request), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Pushed authorization request endpoint (RFC 9126)" },
    })
    .get(ENDPOINT_PATHS.pushedAuthorizationRequest, parMethodNotAllowed, { detail: { hide: true } })
    .put(ENDPOINT_PATHS.pushedAuthorizationRequest, parMethodNotAllowed, { detail: { hide: true } })
    .patch(ENDPOINT_PATHS.pushedAuthorizationRequest, parMethodNotAllowed, { detail: { hide: true } })
    .delete(ENDPOINT_PATHS.pushedAuthorizationRequest, parMethodNotAllowed, { detail: { hide: true } })
    .post(ENDPOINT_PATHS.revocation, ({ request }) => headed(request, handleRevocation(deps, request)), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token revocation (RFC 7009)" },
    })
    .post(ENDPOINT_PATHS.introspection, ({ request }) => headed(request, handleIntrospection(deps, request)), {
      ...FORM_BODY,
      detail: { tags: ["oauth"], summary: "Token introspection (RFC 7662)" },
    })
    .get(ENDPOINT_PATHS.jwks, ({ request }) => documents.jwks(request), {
      detail: { tags: ["oauth"], summary: "Public signing keys (JWKS)" },
    })
    .use(wellKnown);
}
