// GET and POST /oauth/authorize (RFC 6749 §3.1, OIDC Core §3.1.2.1): validates the request, then
// answers at once (SSO session, prompt=none) or hands over to the login/consent interaction.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { authorizationResponse, seeOther } from "../http/authorization-response";
import { enforcePageRateLimit } from "../http/rate-limit";
import { sourceKey } from "../lib/source-key";
import { requestInfo } from "../http/request-context";
import { randomToken } from "../lib/crypto";
import { cookieSettings, readCookie, serializeCookie } from "../interaction/cookies";
import { browserHash, createInteraction, issueCode, nextStep } from "../interaction/service";
import { loadSession } from "../interaction/session";
import { validateAuthorizationRequest } from "./authorize";
import { readRequestParams } from "./request-params";
import { chooseLocale } from "../i18n";

const RATE_WINDOW_SECONDS = 60;

export function authorizeRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const handle = async (request: Request): Promise<Response> => {
    const params = await readRequestParams(request);
    if (!params) throw new OAuthError("invalid_request", "An authorization request is a GET, or a POST with an application/x-www-form-urlencoded body.", { html: true });
    const { request: req, client } = await validateAuthorizationRequest(deps, params);
    const session = await loadSession(deps, request);
    // max_age=0 asks for a fresh authentication, like prompt=login (OIDC Core §3.1.2.1).
    const st = { request: req, forceLogin: req.prompt.includes("login") || req.prompt.includes("select_account") || req.maxAge === 0 };
    const step = await nextStep(deps, client, st, session);
    if (step.kind === "error") throw step.error;
    if (step.kind === "complete") return authorizationResponse(req.redirectUri, req.responseMode, await issueCode(deps, req, step.session), {}, chooseLocale({ uiLocales: req.uiLocales, acceptLanguage: request.headers.get("accept-language") }));
    // Login or consent: keep the request server-side, bound to this browser. Each such request
    // writes an interaction row, so a source address may open only so many (AUTHLY_AUTHORIZE_RATE_LIMIT);
    // a refused one writes nothing else and is answered with a page, never redirected.
    await enforcePageRateLimit(deps, `authorize:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
    const cookies = cookieSettings(deps.config);
    const cookieHeaders: string[] = [];
    let browser = readCookie(request, cookies.browserName);
    if (!browser) {
      browser = randomToken(32);
      cookieHeaders.push(serializeCookie(cookies, cookies.browserName, browser));
    }
    const id = await createInteraction(deps, { ...st, browserHash: browserHash(deps, browser) });
    // idp_hint: straight to that upstream provider (an unknown or disabled one shows the login page).
    if (step.kind === "login" && req.idpHint) return seeOther(`${base}/federation/start/${req.idpHint}?interaction=${id}`, cookieHeaders);
    return seeOther(`${base}/interaction/${id}`, cookieHeaders);
  };
  return new Elysia({ name: "front-channel-authorize" })
    .get("/oauth/authorize", ({ request }) => handle(request), { detail: { tags: ["oauth"], summary: "Authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2)" } })
    .post("/oauth/authorize", ({ request }) => handle(request), { parse: "none", detail: { tags: ["oauth"], summary: "Authorization endpoint, form POST (OIDC Core §3.1.2.1)" } });
}
