// The login and consent pages of a pending authorization request: GET /interaction/:id shows what
// the request needs next; the forms POST to .../login, .../consent and .../cancel with a CSRF token
// (and to .../factor, .../webauthn, .../enrol: the steps after the password, factor-steps.ts).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { AuthenticationError, authenticateUser } from "../accounts/authenticate";
import { findUserById } from "../accounts/store";
import { changeOwnPassword } from "../accounts/admin-service";
import { PASSWORD_MIN } from "../accounts/model";
import { ValidationError } from "../errors";
import { resolveClient } from "../registration/client-metadata-document";
import { authorizationResponse, seeOther } from "../http/authorization-response";
import { enforcePageRateLimit } from "../http/rate-limit";
import { sourceKey } from "../lib/source-key";
import { isLoopbackClient, requestInfo } from "../http/request-context";
import { audit } from "../audit/service";
import { readFormBody } from "../oauth/request-params";
import { cookieSettings, readCookie } from "./cookies";
import { consentPage, formTarget, loginPage, pageHeaders, passwordChangePage, type PageUi } from "./pages";
import { pageUi, problemResponse, withUiLocales, type Problem } from "../http/page-ui";
import { clientLogo } from "../branding/service";
import {
  checkCsrf,
  consentClaims,
  consentResources,
  csrfToken,
  finishInteraction,
  finishWithCode,
  loadInteraction,
  nextStep,
  redirectError,
  rememberConsent,
  saveInteraction,
  scopeDescriptions,
  type LoadedInteraction,
} from "./service";
import { endSession, loadSession, startSession, type Session, type StartedSession } from "./session";
import { findSignInState, type SignInState } from "./store";
import type { Method } from "../authn/model";
import { chooseLocale, type MessageKey } from "../i18n";
import { ACCOUNT_CLIENT_ID, accountClient, clientDisplayName } from "./account-client";
import { factorSteps } from "./factor-steps";
import { mailEnabled } from "../mail/service";
import { signupOffered } from "../account/signup";
import webauthnScript from "./assets/webauthn.js" with { type: "text" };
import { loginProviders } from "../authn/upstream/buttons";

const EXPIRED: Problem = { title: "error.expired_title", body: "error.expired_body", next: "error.expired_next" };
const BAD_TEXT: Problem = { title: "error.form_title", body: "error.form_text" };
const BAD_CSRF: Problem = { title: "error.form_title", body: "error.form_csrf" };
const RATE_WINDOW_SECONDS = 60;
/** The WebAuthn glue, served by us (script-src 'self'); cached briefly, revalidated by ETag. */
const SCRIPT_ETAG = `"${new Bun.CryptoHasher("sha256").update(webauthnScript).digest("base64url").slice(0, 22)}"`;

/** A response with Set-Cookie headers added (a session started by the request that answers with it). */
function withCookies(res: Response, cookies: string[]): Response {
  for (const c of cookies) res.headers.append("Set-Cookie", c);
  return res;
}

function page(html: string, status: number, formTargets: string[] = [], script = false): Response {
  return new Response(html, { status, headers: pageHeaders(formTargets, { script }) });
}

export function interactionRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const cookies = cookieSettings(deps.config);
  const url = (id: string, action = "") => `${base}/interaction/${id}${action ? `/${action}` : ""}`;

  // The account page signs in through interactions too, as a client that lives in code (account-client.ts).
  const findClient = async (c: string) => (c === ACCOUNT_CLIENT_ID ? accountClient(deps) : resolveClient(deps, c));
  const load = (request: Request, id: string) => loadInteraction(deps, id, readCookie(request, cookies.browserName), findClient);

  // After the password: second factor, enrolment, passkey sign-in (factor-steps.ts).
  const steps = factorSteps(deps, { url, page, renderLogin: (...a) => renderLogin(...a), beginSession: (...a) => beginSession(...a), uiFor: (...a) => uiFor(...a), problem: (...a) => problem(...a) });

  /** The language and brand of an interaction's pages: its ui_locales, the user, its client. */
  const uiFor = (request: Request, ia?: LoadedInteraction, userId?: string | null): Promise<PageUi> =>
    pageUi(deps, request, { uiLocales: ia?.state.request.uiLocales, clientId: ia?.client.client_id, userId });
  const problem = async (request: Request, status: number, p: Problem, reason: string, ia?: LoadedInteraction) => problemResponse(request, await uiFor(request, ia), status, p, reason);

  const renderLogin = async (request: Request, ia: LoadedInteraction, status: number, login?: string, error?: MessageKey) => {
    const challenge = await steps.challengeFor(request, null);
    const passkey = challenge ? { action: url(ia.id, "webauthn"), challenge, rpId: steps.rpId, script: steps.scriptUrl } : undefined;
    const ui = await uiFor(request, ia);
    return page(
      loginPage({ action: url(ia.id, "login"), cancelAction: url(ia.id, "cancel"), csrf: csrfToken(deps, ia.id), clientName: clientDisplayName(ia.client, ui), clientLogo: await clientLogo(deps, ia.client.logo_uri), login: login ?? ia.state.request.loginHint, error: error && ui.t(error), passkey, forgotUrl: mailEnabled(deps) ? withUiLocales(`${base}/password/forgot?interaction=${encodeURIComponent(ia.id)}`, ia.state.request.uiLocales) : undefined, signupUrl: signupOffered(deps) ? withUiLocales(`${base}/signup?interaction=${encodeURIComponent(ia.id)}`, ia.state.request.uiLocales) : undefined, upstream: await loginProviders(deps, ia.id), ui }),
      status,
      [formTarget(ia.state.request.redirectUri)],
      Boolean(passkey),
    );
  };

  const renderPasswordChange = async (request: Request, ia: LoadedInteraction, status: number, error?: MessageKey) => {
    const user = await findUserById(deps.sql, ia.state.passwordChangeFor!);
    const ui = await pageUi(deps, request, { uiLocales: ia.state.request.uiLocales, clientId: ia.client.client_id, userLocale: user?.locale ?? null });
    return page(
      passwordChangePage({ action: url(ia.id, "password"), cancelAction: url(ia.id, "cancel"), csrf: csrfToken(deps, ia.id), userName: user?.username ?? "", minLength: PASSWORD_MIN, error: error && ui.t(error, { min: PASSWORD_MIN }), ui }),
      status,
      [formTarget(ia.state.request.redirectUri)],
    );
  };

  /** The new session of a user who just proved who they are (always a new value: no fixation). */
  const sessionInput = (request: Request, userId: string, methods: Method[] = [{ kind: "password" }]) => ({ userId, methods, ip: requestInfo(request).ip, userAgent: request.headers.get("user-agent") });
  const beginSession = async (request: Request, ia: LoadedInteraction, userId: string, methods?: Method[]): Promise<Response> =>
    sessionStarted(request, ia, await startSession(deps, sessionInput(request, userId, methods)));

  /** After a sign-in started a session: the browser's previous one ends, the interaction goes on
   *  with the new one. `known`: the user's state at the client, read with the session's start. */
  const sessionStarted = async (request: Request, ia: LoadedInteraction, started: StartedSession, known?: SignInState): Promise<Response> => {
    const previous = await loadSession(deps, request);
    if (previous) await endSession(deps, previous);
    ia.state.loginSessionId = started.session.id;
    ia.state.passwordChangeFor = undefined;
    return continueAfterPost(request, ia, started.session, [started.cookie], known);
  };

  /**
   * After a sign-in that started a session (password, passkey): when nothing more is to be asked,
   * the answer goes to the client at once (one redirect, not a redirect to GET /interaction/:id
   * that then redirects again); otherwise the interaction is saved and the browser is sent to its
   * next page with a 303 (Post/Redirect/Get). Errors are left to that GET, as before.
   */
  const continueAfterPost = async (request: Request, ia: LoadedInteraction, session: Session, cookies: string[] = [], known?: SignInState): Promise<Response> => {
    if (!ia.state.returnTo) {
      const step = await nextStep(deps, ia.client, ia.state, session, known);
      if (step.kind === "complete") return complete(request, ia, step.session, cookies);
    }
    await saveInteraction(deps, ia);
    return seeOther(url(ia.id), cookies);
  };

  /** Ends the interaction with the authorization response (the code), or, for the account page, the session alone. */
  const complete = async (request: Request, ia: LoadedInteraction, session: Session, cookies: string[] = []): Promise<Response> => {
    const req = ia.state.request;
    const account = ia.client.client_id === ACCOUNT_CLIENT_ID;
    const params = await finishWithCode(deps, ia, req, session, !account);
    if (params === false) return withCookies(await problem(request, 400, EXPIRED, "interaction already finished", ia), cookies);
    if (account || !params) return seeOther(req.redirectUri, cookies);
    return authorizationResponse(req.redirectUri, req.responseMode, params, cookies.length ? { "Set-Cookie": cookies } : {}, chooseLocale({ uiLocales: req.uiLocales, acceptLanguage: request.headers.get("accept-language") }));
  };

  /** Shows the next page of the interaction, or completes it with the authorization response. */
  const advance = async (request: Request, ia: LoadedInteraction): Promise<Response> => {
    const session = await loadSession(deps, request);
    const step = await nextStep(deps, ia.client, ia.state, session);
    const req = ia.state.request;
    // A sign-in for another page (device verification): signed in, so back there; that page asks
    // its own question instead of the consent page.
    if (ia.state.returnTo && (step.kind === "consent" || step.kind === "complete")) {
      await finishInteraction(deps, ia);
      return seeOther(ia.state.returnTo);
    }
    switch (step.kind) {
      case "login":
        return ia.state.passwordChangeFor ? renderPasswordChange(request, ia, 200) : renderLogin(request, ia, 200);
      case "factor":
        return steps.renderFactor(request, ia, step, 200);
      case "enrol":
        return steps.renderEnrol(request, ia, step.session.user_id, 200);
      case "consent": {
        if (ia.state.consentShownTo !== session!.id) {
          ia.state.consentShownTo = session!.id;
          await saveInteraction(deps, ia);
        }
        const user = await findUserById(deps.sql, session!.user_id);
        const { apis, scopeDescriptions: resourceScopeText } = await consentResources(deps, req);
        const scopes = (await scopeDescriptions(deps, req.scopes)).map((s) => (s.description === s.name && resourceScopeText.has(s.name) ? { name: s.name, description: resourceScopeText.get(s.name)! } : s));
        const ui = await pageUi(deps, request, { uiLocales: req.uiLocales, clientId: ia.client.client_id, userLocale: user?.locale ?? null });
        return page(
          consentPage({
            ui,
            clientLogo: await clientLogo(deps, ia.client.logo_uri),
            action: url(ia.id, "consent"),
            switchAction: url(ia.id, "switch"),
            csrf: csrfToken(deps, ia.id),
            client: { name: ia.client.client_name, logoUri: ia.client.logo_uri, clientUri: ia.client.client_uri, policyUri: ia.client.policy_uri, tosUri: ia.client.tos_uri },
            userName: user?.name || user?.username || "",
            scopes,
            extraClaims: consentClaims(req),
            apis,
          }),
          200,
          [formTarget(req.redirectUri)],
        );
      }
      case "error":
        await finishInteraction(deps, ia);
        throw step.error;
      case "complete":
        // The account page needs the session only, no code.
        return complete(request, ia, step.session);
    }
  };

  /** A POSTed form of an interaction: the interaction, the fields, and a checked CSRF token. Form
   *  posts per source address are limited first (AUTHLY_AUTHORIZE_RATE_LIMIT, their own count):
   *  the login lockout counts only failures, and each accepted post writes a session or consent. */
  const form = async (request: Request, id: string) => {
    await enforcePageRateLimit(deps, `interaction:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
    const ia = await load(request, id);
    if (!ia) return { error: await problem(request, 400, EXPIRED, "unknown, expired or finished interaction (or another browser)") } as const;
    const body = await readFormBody(request);
    if (body?.invalid.size) return { error: await problem(request, 400, BAD_TEXT, "form fields that are not valid text", ia) } as const;
    if (!body || body.repeated.size) return { error: await problem(request, 400, BAD_CSRF, "form missing or with repeated fields", ia) } as const;
    if (!checkCsrf(deps, ia.id, body.values.csrf_token, ia.csrfHash)) return { error: await problem(request, 403, BAD_CSRF, "CSRF token missing or wrong", ia) } as const;
    return { ia, fields: body.values } as const;
  };

  return new Elysia({ name: "front-channel-interaction" })
    .get("/interaction/:id", async ({ request, params }) => {
      const ia = await load(request, params.id);
      if (!ia) return problem(request, 400, EXPIRED, "unknown, expired or finished interaction (or another browser)");
      return advance(request, ia);
    }, { detail: { tags: ["interaction"], summary: "Login or consent page of a pending authorization request" } })
    .post("/interaction/:id/login", async ({ request, params }) => {
      const f = await form(request, params.id);
      if ("error" in f) return f.error;
      const { ia, fields } = f;
      const ip = requestInfo(request).ip;
      const login = (fields.login ?? "").slice(0, 256);
      if (!login || !fields.password) return renderLogin(request, ia, 400, login, "login.missing_fields");
      let user;
      try {
        // The session starts in the transaction that records the login (none while the password
        // must be changed), and what decides the next step is read there too (one round trip less).
        user = await authenticateUser(deps, { login, password: fields.password.slice(0, 1024), ip, loopback: isLoopbackClient(request) }, (tx, u) =>
          u.requires_password_change ? Promise.resolve(undefined) : Promise.all([startSession(deps, sessionInput(request, u.id), tx), findSignInState(tx, u.id, ia.client.client_id)]));
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        // The same words for an unknown user and a wrong password (no account enumeration).
        return renderLogin(request, ia, err.code === "locked" ? 429 : 401, login, err.code === "locked" ? "login.locked" : "login.bad_credentials");
      }
      if (user.requires_password_change) {
        // The password is right but must be replaced before any session starts.
        ia.state.passwordChangeFor = user.id;
        await saveInteraction(deps, ia);
        return renderPasswordChange(request, ia, 200);
      }
      const [started, state] = user.also!;
      return sessionStarted(request, ia, started, state);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Submit the login form" } })
    .post("/interaction/:id/password", async ({ request, params }) => {
      const f = await form(request, params.id);
      if ("error" in f) return f.error;
      const { ia, fields } = f;
      const userId = ia.state.passwordChangeFor;
      if (!userId) return seeOther(url(ia.id));
      const current = fields.current_password ?? "";
      const next = fields.new_password ?? "";
      if (next !== (fields.confirm_password ?? "")) return renderPasswordChange(request, ia, 400, "pwchange.mismatch");
      try {
        await changeOwnPassword(deps, { userId, ip: requestInfo(request).ip }, userId, { current_password: current, new_password: next });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        const wrongCurrent = err.fields?.some((p) => p.field === "current_password");
        return renderPasswordChange(request, ia, 400, wrongCurrent ? "pwchange.wrong_current" : "pwchange.policy");
      }
      return beginSession(request, ia, userId);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Replace a password that must be changed, then continue" } })
    .post("/interaction/:id/consent", async ({ request, params }) => {
      const f = await form(request, params.id);
      if ("error" in f) return f.error;
      const { ia, fields } = f;
      const req = ia.state.request;
      const session = await loadSession(deps, request);
      // The user who saw the page must be the one who answers (another tab may have switched account).
      if (!session || ia.state.consentShownTo !== session.id) return seeOther(url(ia.id));
      const ip = requestInfo(request).ip;
      if (fields.decision === "allow") {
        const claims = consentClaims(req);
        await rememberConsent(deps, session.user_id, ia.client.client_id, req.scopes, claims, req.resources ?? []);
        await audit(deps, { action: "consent.granted", actor: session.user_id, targetType: "client", targetId: ia.client.client_id, ip, details: { scopes: req.scopes, claims, resources: req.resources ?? [] } });
        ia.state.consentGivenBy = session.user_id;
        await saveInteraction(deps, ia);
        return seeOther(url(ia.id));
      }
      await finishInteraction(deps, ia);
      await audit(deps, { action: "consent.denied", actor: session.user_id, targetType: "client", targetId: ia.client.client_id, outcome: "denied", ip, details: { scopes: req.scopes } });
      throw redirectError(req, "access_denied", "The user denied the request");
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Submit the consent form" } })
    .post("/interaction/:id/switch", async ({ request, params }) => {
      const f = await form(request, params.id);
      if ("error" in f) return f.error;
      // Another account: this interaction now needs a login of its own (like prompt=login).
      f.ia.state.forceLogin = true;
      f.ia.state.loginSessionId = undefined;
      f.ia.state.consentGivenBy = undefined;
      await saveInteraction(deps, f.ia);
      return seeOther(url(f.ia.id));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Sign in with another account" } })
    .post("/interaction/:id/factor", async ({ request, params }) => {
      const f = await form(request, params.id);
      return "error" in f ? f.error : steps.submitCode(request, f.ia, f.fields);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Submit a one-time code (TOTP or recovery code)" } })
    .post("/interaction/:id/webauthn", async ({ request, params }) => {
      const f = await form(request, params.id);
      return "error" in f ? f.error : steps.submitWebauthn(request, f.ia, f.fields);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Submit a WebAuthn assertion (passkey sign-in or security key)" } })
    .post("/interaction/:id/enrol", async ({ request, params }) => {
      const f = await form(request, params.id);
      return "error" in f ? f.error : steps.submitEnrol(request, f.ia, f.fields);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Confirm the enrolment of an authenticator app" } })
    .get("/assets/webauthn.js", ({ request }) => {
      const headers = { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300", ETag: SCRIPT_ETAG, "X-Content-Type-Options": "nosniff" };
      if (request.headers.get("if-none-match") === SCRIPT_ETAG) return new Response(null, { status: 304, headers });
      return new Response(webauthnScript, { headers });
    }, { detail: { tags: ["interaction"], summary: "The WebAuthn script of the login and account pages" } })
    .post("/interaction/:id/cancel", async ({ request, params }) => {
      const f = await form(request, params.id);
      if ("error" in f) return f.error;
      await finishInteraction(deps, f.ia);
      if (f.ia.state.returnTo) return seeOther(f.ia.state.returnTo);
      throw redirectError(f.ia.state.request, "access_denied", "The user cancelled the sign-in");
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Cancel the sign-in" } });
}
