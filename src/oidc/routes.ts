// OpenID Connect endpoints of the front channel: UserInfo (GET and POST, OIDC Core §5.3) and
// RP-initiated logout (end_session_endpoint, GET and POST, with a confirmation page) followed by
// back-channel logout of the session's clients.
import { Elysia } from "elysia";
import { pageUi, problemResponse } from "../http/page-ui";
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { seeOther } from "../http/authorization-response";
import { json } from "../http/error-handler";
import { requestInfo } from "../http/request-context";
import { audit } from "../audit/service";
import { appendParams } from "../oauth/redirect-uri";
import { readFormBody, readRequestParams, type ParsedParams } from "../oauth/request-params";
import { fieldLabel } from "../lib/text";
import { formTarget, logoutConfirmPage, messagePage, pageHeaders } from "../interaction/pages";
import { clearSessionCookie, endSession, loadSession, type Session } from "../interaction/session";
import { checkLogoutCsrf, hintMatchesSession, logoutCsrf, validateLogoutRequest, type LogoutRequest } from "./end-session";
import { extractToken, userinfo } from "./userinfo";
import { backchannelLogout } from "./backchannel-logout";

const CORS = { "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP", "Access-Control-Allow-Methods": "GET, POST" };

export function oidcRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");

  const handleUserinfo = async (request: Request, post: boolean): Promise<Response> => {
    let bodyToken: string | undefined;
    let repeated = false;
    let body: ParsedParams | undefined;
    if (post) {
      body = await readFormBody(request);
      bodyToken = body?.values.access_token;
      repeated = body?.repeated.has("access_token") ?? false;
    }
    try {
      if (body?.invalid.size) throw new OAuthError("invalid_request", `Not valid text (UTF-8 without NUL): ${[...body.invalid].map(fieldLabel).sort().join(", ")}`);
      const presented = extractToken(request.headers.get("authorization"), bodyToken, repeated);
      return json(200, await userinfo(deps, request, presented), CORS);
    } catch (err) {
      if (err instanceof OAuthError) {
        return json(err.status, { error: err.code, error_description: err.description }, { ...err.headers, ...CORS });
      }
      throw err;
    }
  };

  /** Logout pages speak ui_locales (RP-Initiated Logout 1.0 §2), the user's locale, Accept-Language. */
  const uiOf = (request: Request, req: LogoutRequest | undefined, uiLocales: string | undefined, userId?: string) =>
    pageUi(deps, request, { uiLocales, clientId: req?.client?.client_id, userId });

  const done = async (request: Request, req: LogoutRequest, cookies: string[], uiLocales?: string): Promise<Response> => {
    if (req.postLogoutRedirectUri) return seeOther(appendParams(req.postLogoutRedirectUri, { state: req.state }), cookies);
    const headers = new Headers(pageHeaders());
    for (const c of cookies) headers.append("Set-Cookie", c);
    const ui = await uiOf(request, req, uiLocales);
    return new Response(messagePage(ui.t("logout.done_title"), ui.t("logout.done_body", { product: ui.brand.productName }), ui), { status: 200, headers });
  };

  const logout = async (request: Request, session: Session, req: LogoutRequest, how: string, uiLocales?: string): Promise<Response> => {
    const ip = requestInfo(request).ip;
    await endSession(deps, session);
    await audit(deps, { action: "logout", actor: session.user_id, targetType: "session", targetId: session.id, ip, details: { client_id: req.client?.client_id ?? null, how } });
    await backchannelLogout(deps, session, ip);
    return done(request, req, [clearSessionCookie(deps)], uiLocales);
  };

  const handleLogout = async (request: Request): Promise<Response> => {
    const params = await readRequestParams(request);
    if (!params) throw new OAuthError("invalid_request", "A logout request is a GET, or a POST with an application/x-www-form-urlencoded body.", { html: true, page: "logout" });
    const req = await validateLogoutRequest(deps, params);
    const uiLocales = params.repeated.has("ui_locales") ? undefined : params.values.ui_locales;
    const session = await loadSession(deps, request);
    if (!session) return done(request, req, [], uiLocales);
    if (hintMatchesSession(req.hint, session)) return logout(request, session, req, "id_token_hint", uiLocales);
    // No hint, or a hint for someone else: ask the user (a cross-site link must not sign anyone out).
    const html = logoutConfirmPage({
      action: `${base}/oidc/logout/confirm`,
      csrf: logoutCsrf(deps, session),
      clientName: req.client?.client_name,
      hidden: { client_id: req.client?.client_id, post_logout_redirect_uri: req.postLogoutRedirectUri, state: req.state, ui_locales: uiLocales },
      ui: await uiOf(request, req, uiLocales, session.user_id),
    });
    return new Response(html, { status: 200, headers: pageHeaders(req.postLogoutRedirectUri ? [formTarget(req.postLogoutRedirectUri)] : []) });
  };

  const handleConfirm = async (request: Request): Promise<Response> => {
    const body = await readFormBody(request);
    if (!body) throw new OAuthError("invalid_request", "The logout form was not sent correctly.", { html: true, page: "logout" });
    const session = await loadSession(deps, request);
    const { csrf_token, logout: decision, ...rest } = body.values;
    const { ui_locales: uiLocales, ...logoutParams } = rest;
    const req = await validateLogoutRequest(deps, { values: logoutParams, repeated: body.repeated, invalid: body.invalid });
    if (!session) return done(request, req, [], uiLocales);
    const ui = await uiOf(request, req, uiLocales, session.user_id);
    if (!checkLogoutCsrf(deps, session, csrf_token)) {
      return problemResponse(request, ui, 403, { title: "error.form_title", body: "error.form_csrf" }, "logout form CSRF token missing or wrong");
    }
    if (decision !== "yes") return new Response(messagePage(ui.t("logout.stayed_title"), ui.t("logout.stayed_body"), ui), { status: 200, headers: pageHeaders() });
    return logout(request, session, req, "confirmed", uiLocales);
  };

  return new Elysia({ name: "front-channel-oidc" })
    .get("/oidc/userinfo", ({ request }) => handleUserinfo(request, false), { detail: { tags: ["oidc"], summary: "UserInfo (OIDC Core §5.3)" } })
    .post("/oidc/userinfo", ({ request }) => handleUserinfo(request, true), { parse: "none", detail: { tags: ["oidc"], summary: "UserInfo, POST (OIDC Core §5.3.1)" } })
    .options("/oidc/userinfo", () => new Response(null, { status: 204, headers: { ...CORS, "Access-Control-Max-Age": "600" } }))
    .get("/oidc/logout", ({ request }) => handleLogout(request), { detail: { tags: ["oidc"], summary: "End session (RP-Initiated Logout 1.0)" } })
    .post("/oidc/logout", ({ request }) => handleLogout(request), { parse: "none", detail: { tags: ["oidc"], summary: "End session, POST" } })
    .post("/oidc/logout/confirm", ({ request }) => handleConfirm(request), { parse: "none", detail: { tags: ["oidc"], summary: "Confirm sign-out" } });
}
