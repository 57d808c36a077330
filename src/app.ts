// createApp(deps): the Elysia application. Mounts the public, OAuth/OIDC and admin routes behind
// one error handler, request ids, the access log and the common security headers.
import { Elysia } from "elysia";
import type { Deps } from "./deps";
import { errorToResponse } from "./http/error-handler";
import { accessLog, beginRequest, requestInfo, splitTarget } from "./http/request-context";
import { addCommonHeaders, applyCors, commonHeaders, isPublicDocumentRequest, isSelfHeadedRequest } from "./http/cors";
import { checkRequestLimits } from "./http/limits";
import { healthRoutes } from "./health/routes";
import { adminRoutes } from "./admin/routes";
import { oauthRoutes } from "./oauth/routes";
import { authorizeRoutes } from "./oauth/authorize-routes";
import { interactionRoutes } from "./interaction/routes";
import { deviceRoutes } from "./device/routes";
import { oidcRoutes } from "./oidc/routes";
import { registrationRoutes } from "./registration/routes";
import { accountRoutes } from "./account/routes";
import { federationRoutes } from "./authn/upstream/routes";
import { passwordResetRoutes } from "./account/reset-routes";
import { signupRoutes } from "./account/signup-routes";
import { selfServiceRoutes } from "./account/self-service-routes";
import { subscribeToEndedSessions } from "./accounts/sessions-ended";
import { backchannelLogoutSubscriber } from "./oidc/backchannel-logout";
import { recordHttpRequest } from "./metrics/index";
import { metricsRoutes } from "./metrics/routes";
import { brandingRoutes } from "./branding/routes";
import { OAuthError } from "./errors";
import { pageUi } from "./http/page-ui";

export interface AppOptions {
  accessLog?: boolean;
}

export function createApp(deps: Deps, opts: AppOptions = {}) {
  const logAccess = opts.accessLog ?? deps.config.accessLog;
  // Sessions an account change ends (accounts/) get their back-channel logout tokens (oidc/).
  subscribeToEndedSessions(backchannelLogoutSubscriber);
  // standardHostname false: find the path after any Host (Elysia otherwise assumes 4+ characters).
  const app = new Elysia({ name: "authly", handler: { standardHostname: false } })
    .onRequest(({ request, server, set }) => {
      const info = beginRequest(request, server?.requestIP(request)?.address, deps.config.trustedProxies);
      // Size limits (413/431 as JSON) and the CORS policy, before any route runs.
      const { pathname, pathAndQueryLength } = splitTarget(request.url);
      const refused = checkRequestLimits(request, pathAndQueryLength, deps.config.maxBodyBytes);
      if (refused) {
        info.status = refused.status;
        return refused;
      }
      // Metadata and JWKS carry their headers themselves (PUBLIC_DOCUMENT_HEADERS): a header set
      // here makes Elysia rebuild every response, which halves their throughput.
      if (isPublicDocumentRequest(request.method, pathname)) return;
      // The token, introspection and revocation routes add the same headers to their responses
      // (and onError to their errors): no header set here, so Elysia passes their responses on.
      if (isSelfHeadedRequest(request.method, pathname)) {
        info.selfHeaded = true;
        return;
      }
      Object.assign(set.headers, commonHeaders(info.id));
      const preflight = applyCors(request, pathname, set.headers as Record<string, string>);
      if (preflight) {
        info.status = preflight.status;
        return preflight;
      }
    })
    .onError(async ({ error, code, request }) => {
      // An error page is drawn in the request's language and the server-wide brand (never the
      // client's: the request that failed may not come from it); without a database, the defaults.
      const ui = error instanceof OAuthError && error.html && !error.redirectUri ? await pageUi(deps, request).catch(() => undefined) : undefined;
      const response = errorToResponse(error, { issuer: deps.config.issuer, request, code, ui });
      const info = requestInfo(request);
      info.status = response.status;
      return info.selfHeaded ? addCommonHeaders(response, info.id) : response;
    })
    .onAfterResponse(({ request, set, response, route }) => {
      const status = response instanceof Response ? response.status : typeof set.status === "number" ? set.status : 200;
      accessLog(request, status, logAccess);
      const info = requestInfo(request);
      recordHttpRequest(request.method, route, info.status ?? status, (performance.now() - info.start) / 1000);
    })
    .use(healthRoutes(deps))
    .use(adminRoutes(deps))
    .use(metricsRoutes(deps))
    .use(oauthRoutes(deps))
    .use(authorizeRoutes(deps))
    .use(interactionRoutes(deps))
    .use(deviceRoutes(deps))
    .use(oidcRoutes(deps))
    .use(registrationRoutes(deps))
    .use(accountRoutes(deps))
    .use(federationRoutes(deps))
    .use(passwordResetRoutes(deps))
    .use(signupRoutes(deps))
    .use(selfServiceRoutes(deps))
    .use(brandingRoutes(deps));
  // Domains mount their routes here (one line each).
  return app;
}

export type App = ReturnType<typeof createApp>;
