// CORS policy (Fetch standard, "CORS protocol"): which endpoints a browser application on another
// origin may call. The token, device authorization, revocation, introspection, UserInfo, JWKS and
// discovery endpoints are meant for browser clients (OAuth 2.1 §6, OIDC Core §5.3, RFC 8414 §3); they answer any origin
// without credentials (no cookies are involved, so `*` is safe). The authorization endpoint, the
// login and consent pages and the admin API never get CORS headers: browsers reach the first two
// by navigation only, and the admin API is for the CLI.

/** Path -> methods a cross-origin browser client may use. */
export const CORS_ENDPOINTS: Readonly<Record<string, readonly string[]>> = {
  "/oauth/token": ["POST"],
  // RFC 8628 §3.1: a device's web app (a TV browser) asks for its code the way it polls for tokens.
  "/oauth/device_authorization": ["POST"],
  // RFC 9126: a browser client (public, PKCE) pushes its authorization request before navigating.
  "/oauth/par": ["POST"],
  "/oauth/revoke": ["POST"],
  "/oauth/introspect": ["POST"],
  "/oidc/userinfo": ["GET", "POST"],
  "/.well-known/jwks.json": ["GET"],
  "/.well-known/openid-configuration": ["GET"],
  "/.well-known/oauth-authorization-server": ["GET"],
};

const ALLOW_HEADERS = "Authorization, Content-Type, DPoP";
const EXPOSE_HEADERS = "WWW-Authenticate, Retry-After, DPoP-Nonce";
const MAX_AGE = "600";

/** Response headers of the public, cacheable GET documents (metadata, JWKS): the common security
 *  headers and CORS baked into one static set, so that the hot path adds nothing per request. */
export const PUBLIC_DOCUMENT_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "access-control-allow-origin": "*",
  "access-control-expose-headers": EXPOSE_HEADERS,
};

/** A GET of a public document whose response carries PUBLIC_DOCUMENT_HEADERS itself. */
export function isPublicDocumentRequest(method: string, pathname: string): boolean {
  return method === "GET" && (pathname === "/.well-known/jwks.json" || pathname === "/.well-known/openid-configuration" || pathname === "/.well-known/oauth-authorization-server");
}

/** POST endpoints open to other origins whose responses get the common headers from their routes
 *  (addCommonHeaders) instead of Elysia's per-request merge, which rebuilds every response. */
const SELF_HEADED_POSTS = new Set(["/oauth/token", "/oauth/introspect", "/oauth/revoke"]);

export function isSelfHeadedRequest(method: string, pathname: string): boolean {
  return method === "POST" && SELF_HEADED_POSTS.has(pathname);
}

/** The headers every response gets (app.ts onRequest; addCommonHeaders for the self-headed routes). */
export function commonHeaders(requestId: string): Record<string, string> {
  return { "x-request-id": requestId, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
}

/** The CORS headers of every response of a path open to other origins (corsMethods). */
const OPEN_PATH_HEADERS = { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSE_HEADERS };

/** What app.ts's onRequest gives every other response, with the same precedence (a header the
 *  response has already is kept): commonHeaders, and the CORS headers of the open POSTs. */
export function addCommonHeaders(response: Response, requestId: string): Response {
  const h = response.headers;
  for (const [name, value] of [...Object.entries(commonHeaders(requestId)), ...Object.entries(OPEN_PATH_HEADERS)]) {
    if (!h.has(name)) h.set(name, value);
  }
  return response;
}

/** The CORS methods of a request path, or undefined when the path is not open to other origins. */
export function corsMethods(pathname: string): readonly string[] | undefined {
  const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  return Object.hasOwn(CORS_ENDPOINTS, path) ? CORS_ENDPOINTS[path] : undefined;
}

/**
 * Adds the CORS response headers for a cross-origin request to an open endpoint, and answers its
 * preflight (204). Returns the preflight response, or undefined to continue with the request.
 */
export function applyCors(request: Request, pathname: string, headers: Record<string, string | number>): Response | undefined {
  const methods = corsMethods(pathname);
  if (!methods) return undefined;
  Object.assign(headers, OPEN_PATH_HEADERS);
  if (request.method !== "OPTIONS" || !request.headers.get("access-control-request-method")) return undefined;
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": methods.join(", "),
      "Access-Control-Allow-Headers": ALLOW_HEADERS,
      "Access-Control-Max-Age": MAX_AGE,
      "Cache-Control": "no-store",
    },
  });
}
