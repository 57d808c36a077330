// OpenID Connect endpoints of the front channel: UserInfo (GET and POST, OIDC Core §5.3) and
// RP-initiated logout (end_session_endpoint, GET and POST, with a confirmation page) followed by
// back-channel logout of the session's clients.
import { Elysia } from "elysia";
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

  const done = (req: LogoutRequest, cookies: string[]): Response => {
    if (req.postLogoutRedirectUri) return seeOther(appendParams(req.postLogoutRedirectUri, { state: req.state }), cookies);
    const headers = new Headers(pageHeaders());
    for (const c of cookies) headers.append("Set-Cookie", c);
    return new Response(messagePage("You are signed out", "You have been signed out of Authly. You can close this window."), { status: 200, headers });
  };

  const logout = async (request: Request, session: Session, req: LogoutRequest, how: string): Promise<Response> => {
    const ip = requestInfo(request).ip;
    await endSession(deps, session);
    await audit(deps, { action: "logout", actor: session.user_id, targetType: "session", targetId: session.id, ip, details: { client_id: req.client?.client_id ?? null, how } });
    await backchannelLogout(deps, session, ip);
    return done(req, [clearSessionCookie(deps)]);
  };

  const handleLogout = async (request: Request): Promise<Response> => {
    const params = await readRequestParams(request);
    if (!params) throw new OAuthError("invalid_request", "A logout request is a GET, or a POST with an application/x-www-form-urlencoded body.", { html: true });
    const req = await validateLogoutRequest(deps, params);
    const session = await loadSession(deps, request);
    if (!session) return done(req, []);
    if (hintMatchesSession(req.hint, session)) return logout(request, session, req, "id_token_hint");
    // No hint, or a hint for someone else: ask the user (a cross-site link must not sign anyone out).
    const html = logoutConfirmPage({
      action: `${base}/oidc/logout/confirm`,
      csrf: logoutCsrf(deps, session),
      clientName: req.client?.client_name,
      hidden: { client_id: req.client?.client_id, post_logout_redirect_uri: req.postLogoutRedirectUri, state: req.state },
    });
    return new Response(html, { status: 200, headers: pageHeaders(req.postLogoutRedirectUri ? [formTarget(req.postLogoutRedirectUri)] : []) });
  };

  const handleConfirm = async (request: Request): Promise<Response> => {
    const body = await readFormBody(request);
    if (!body) throw new OAuthError("invalid_request", "The logout form was not sent correctly.", { html: true });
    const session = await loadSession(deps, request);
    const { csrf_token, logout: decision, ...rest } = body.values;
    const req = await validateLogoutRequest(deps, { values: rest, repeated: body.repeated, invalid: body.invalid });
    if (!session) return done(req, []);
    if (!checkLogoutCsrf(deps, session, csrf_token)) {
      return new Response(messagePage("Invalid form", "This form has expired or was not sent from this page. Go back, reload the page and try again."), { status: 403, headers: pageHeaders() });
    }
    if (decision !== "yes") return new Response(messagePage("You are still signed in", "You chose to stay signed in. You can close this window."), { status: 200, headers: pageHeaders() });
    return logout(request, session, req, "confirmed");
  };

  return new Elysia({ name: "front-channel-oidc" })
    .get("/oidc/userinfo", ({ request }) => handleUserinfo(request, false), { detail: { tags: ["oidc"], summary: "UserInfo (OIDC Core §5.3)" } })
    .post("/oidc/userinfo", ({ request }) => handleUserinfo(request, true), { parse: "none", detail: { tags: ["oidc"], summary: "UserInfo, POST (OIDC Core §5.3.1)" } })
    .options("/oidc/userinfo", () => new Response(null, { status: 204, headers: { ...CORS, "Access-Control-Max-Age": "600" } }))
    .get("/oidc/logout", ({ request }) => handleLogout(request), { detail: { tags: ["oidc"], summary: "End session (RP-Initiated Logout 1.0)" } })
    .post("/oidc/logout", ({ request }) => handleLogout(request), { parse: "none", detail: { tags: ["oidc"], summary: "End session, POST" } })
    .post("/oidc/logout/confirm", ({ request }) => handleConfirm(request), { parse: "none", detail: { tags: ["oidc"], summary: "Confirm sign-out" } });
}
