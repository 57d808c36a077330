// The sign-up pages (issue 17): GET/POST /signup (open, or with ?invite=) and GET/POST
// /signup/confirm (the mailed link). The form's CSRF token is bound to the browser cookie (the
// one pending sign-ins use); posts are limited per source address (AUTHLY_SIGNUP_RATE_LIMIT an
// hour, 429 page) and mails per address (silently, same answer). Not offered (404), the mailed
// links included, unless AUTHLY_SIGNUP allows it and, when verification is required, mail is configured. The pages speak
// the language of ?ui_locales= (carried over from the login page and kept in each form's action),
// else the browser's; they belong to no client (server-wide brand), like the password reset pages.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { PASSWORD_MIN } from "../accounts/model";
import { consumeRateLimit, enforcePageRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { hashSecret, randomToken, safeEqual } from "../lib/crypto";
import { mailToAddressAllowed } from "./mail-quota";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { cookieSettings, readCookie, serializeCookie } from "../interaction/cookies";
import { messagePage, pageHeaders, type PageUi } from "../interaction/pages";
import { pageUi, problemResponse, withUiLocales, type Problem } from "../http/page-ui";
import type { MessageKey } from "../i18n";
import { accountReadyPage, signupConfirmPage, signupPage, signupSentPage } from "./signup-pages";
import { checkSignupInput, confirmSignup, liveInvite, requestSignupInBackground, SIGNUP_LIMITS, signupOffered, signupRequestIsLive, signupWithInvite, signupWithoutVerification, type SignupInput } from "./signup";
import { ConflictError } from "../errors";
import { mailEnabled } from "../mail/service";

const INTERACTION_ID = /^[A-Za-z0-9_-]{8,128}$/;
const BAD_FORM: Problem = { title: "error.form_title", body: "error.form_csrf" };
const BAD_TEXT: Problem = { title: "error.form_title", body: "error.form_text" };
const BAD_LINK: Problem = { title: "link.expired_title", body: "signup.link_bad" };
const BAD_INVITE: Problem = { title: "link.expired_title", body: "signup.invite_bad" };
const TOO_MANY: Problem = { title: "signup.too_many_title", body: "signup.too_many_body" };
const EMAIL_IN_USE: Problem = { title: "signup.address_in_use_title", body: "signup.address_in_use_body" };
const TOO_MANY_PASSWORDS: Problem = { title: "link.expired_title", body: "signup.confirm_too_many" };
const TAKEN: Problem = { title: "signup.taken_title", body: "signup.taken_body" };

function page(html: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { ...pageHeaders(), ...headers } });
}

export function signupRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const issuerUrl = deps.config.issuer.replace(/\/$/, "");
  const cookies = cookieSettings(deps.config);
  const uiOf = (request: Request): Promise<PageUi> => pageUi(deps, request);
  const notOffered = async (request: Request) => {
    const ui = await uiOf(request);
    return page(messagePage(ui.t("signup.not_offered_title"), ui.t("signup.not_offered_body"), ui), 404);
  };
  const problem = async (request: Request, status: number, p: Problem, reason: string, headers: Record<string, string> = {}) => problemResponse(request, await uiOf(request), status, p, reason, headers);
  const ready = async (request: Request, v: { username: string; continueUrl?: string; continueLabel: MessageKey; unverified?: boolean }) => page(accountReadyPage({ ...v, ui: await uiOf(request) }));
  const csrfOf = (browser: string) => hashSecret(deps.peppers.secrets, `signup-csrf:${browser}`);
  const interactionOf = (v: string | undefined) => (v && INTERACTION_ID.test(v) ? v : undefined);
  const signinUrl = (interaction?: string) => (interaction ? `${base}/interaction/${interaction}` : undefined);
  // The form's own path: its interaction, and the language the request chose (ui_locales) kept.
  const signupPath = (request: Request, interaction?: string) => withUiLocales(`/signup${interaction ? `?interaction=${encodeURIComponent(interaction)}` : ""}`, request);
  // "Sign up again" (the username-taken mail) opens the form in the language the mail was asked in.
  const links = (request: Request, interaction?: string) => ({
    confirm: (token: string) => `${issuerUrl}/signup/confirm?token=${encodeURIComponent(token)}`,
    signin: `${issuerUrl}/account`,
    signup: `${issuerUrl}${signupPath(request, interaction)}`,
  });

  /** The form for this browser (a browser cookie is set when there is none). */
  const renderForm = async (request: Request, status: number, v: { interaction?: string; invite?: { token: string; email: string }; values?: SignupFormValues; errors?: Record<string, MessageKey> }) => {
    let browser = readCookie(request, cookies.browserName);
    const set: Record<string, string> = {};
    if (!browser) {
      browser = randomToken(32);
      set["Set-Cookie"] = serializeCookie(cookies, cookies.browserName, browser);
    }
    const action = `${base}${signupPath(request, v.interaction)}`;
    const html = signupPage({ action, csrf: csrfOf(browser), minLength: PASSWORD_MIN, maxLength: SIGNUP_LIMITS.maxPasswordLength, maxNameLength: SIGNUP_LIMITS.maxNameLength, inviteEmail: v.invite?.email, inviteToken: v.invite?.token, values: v.values, errors: v.errors, backUrl: signinUrl(v.interaction), ui: await uiOf(request) });
    return page(html, status, set);
  };

  return new Elysia({ name: "front-channel-signup" })
    .get("/signup", async ({ request }) => {
      const q = parseParams(rawQuery(request.url)).values;
      if (q.invite !== undefined) {
        const invite = await liveInvite(deps, q.invite);
        if (!invite) return problem(request, 400, BAD_INVITE, "invite link unknown, used or expired");
        return renderForm(request, 200, { invite: { token: q.invite, email: invite.email } });
      }
      if (!signupOffered(deps)) return notOffered(request);
      return renderForm(request, 200, { interaction: interactionOf(q.interaction) });
    }, { detail: { tags: ["interaction"], summary: "Sign-up form (open sign-up, or an invite link)" } })
    .post("/signup", async ({ request }) => {
      const ip = requestInfo(request).ip;
      const limit = await consumeRateLimit(deps, `signup:ip:${sourceKey(ip)}`, deps.config.signupRateLimitPerHour, 3600);
      if (!limit.allowed) return problem(request, 429, TOO_MANY, "sign-up rate limit of the source address", { "Retry-After": String(limit.retryAfterSeconds) });
      const interaction = interactionOf(parseParams(rawQuery(request.url)).values.interaction);
      const body = await readFormBody(request);
      if (body?.invalid.size) return problem(request, 400, BAD_TEXT, "sign-up form with invalid text");
      const browser = readCookie(request, cookies.browserName);
      const f = body?.values ?? {};
      if (!body || body.repeated.size || !browser || !f.csrf_token || !safeEqual(f.csrf_token, csrfOf(browser))) return problem(request, 403, BAD_FORM, "sign-up form without a valid CSRF token");
      const input: SignupInput = { username: (f.username ?? "").trim().slice(0, 256), email: (f.email ?? "").trim().slice(0, 300), password: (f.password ?? "").slice(0, 2048), confirm: (f.confirm_password ?? "").slice(0, 2048), name: (f.name ?? "").trim().slice(0, 300) };
      const values = { username: input.username, email: input.email, name: input.name };

      if (f.invite !== undefined) {
        const invite = await liveInvite(deps, f.invite);
        if (!invite) return problem(request, 400, BAD_INVITE, "invite link unknown, used or expired");
        const inviteView = { token: f.invite, email: invite.email };
        const errors = checkSignupInput(input, { emailFixed: true });
        if (Object.keys(errors).length) return renderForm(request, 400, { invite: inviteView, values, errors });
        const r = await signupWithInvite(deps, f.invite, input, ip, (await uiOf(request)).locale);
        if (r.ok) return ready(request, { username: r.user.username, continueUrl: `${base}/account`, continueLabel: "signup.go_account", unverified: !r.user.email_verified && mailEnabled(deps) });
        if (r.reason === "invalid_token") return problem(request, 400, BAD_INVITE, "invite used meanwhile");
        if (r.reason === "email_taken") return problem(request, 409, EMAIL_IN_USE, "the invite's address has an account");
        return renderForm(request, 409, { invite: inviteView, values, errors: { username: "signup.username_taken" } });
      }

      if (!signupOffered(deps)) return notOffered(request);
      const errors = checkSignupInput(input);
      if (Object.keys(errors).length) return renderForm(request, 400, { interaction, values, errors });
      if (!deps.config.signupRequireVerifiedEmail) {
        try {
          const user = await signupWithoutVerification(deps, input, ip, (await uiOf(request)).locale);
          return ready(request, { username: user.username, continueUrl: signinUrl(interaction) ?? `${base}/account`, continueLabel: interaction ? "signup.continue_signin" : "signup.go_account", unverified: mailEnabled(deps) });
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          return renderForm(request, 409, { interaction, values, errors: { form: "signup.in_use" } });
        }
      }
      // The same database work for every address (its counter), whether or not it has an account.
      const mail = await mailToAddressAllowed(deps, "signup", input.email);
      const ui = await uiOf(request);
      if (mail) requestSignupInBackground(deps, input, ip, interaction ?? null, links(request, interaction), ui.locale);
      return page(signupSentPage({ backUrl: signinUrl(interaction), hours: SIGNUP_LIMITS.requestTtlSeconds / 3600, ui }));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Create an account (same answer whether or not the username or address exists)" } })
    .get("/signup/confirm", async ({ request }) => {
      // Switching open sign-up off also stops the links mailed before (as it stops invite links).
      if (!signupOffered(deps)) return notOffered(request);
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !token) return problem(request, 400, BAD_LINK, "sign-up link without a usable token");
      const live = await signupRequestIsLive(deps, token);
      if (!live) return problem(request, 400, BAD_LINK, "sign-up link unknown, used or expired");
      return page(signupConfirmPage({ action: withUiLocales(`${base}/signup/confirm`, request), token, username: live.username, ui: await uiOf(request) }));
    }, { detail: { tags: ["interaction"], summary: "The confirmation page of a sign-up link" } })
    .post("/signup/confirm", async ({ request }) => {
      if (!signupOffered(deps)) return notOffered(request);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `signup-confirm:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      // Password attempts per source, like the form's posts (AUTHLY_SIGNUP_RATE_LIMIT an hour).
      const limit = await consumeRateLimit(deps, `signup-confirm:pw:${sourceKey(ip)}`, deps.config.signupRateLimitPerHour, 3600);
      if (!limit.allowed) return problem(request, 429, TOO_MANY, "sign-up confirmation rate limit of the source address", { "Retry-After": String(limit.retryAfterSeconds) });
      const body = await readFormBody(request);
      const ok = body && !body.invalid.size && !body.repeated.size;
      const token = ok ? (body.values.token ?? "") : "";
      if (!token || token.length > 128) return problem(request, 400, BAD_LINK, "sign-up confirmation without a token");
      const password = ok ? (body.values.password ?? "").slice(0, 2048) : "";
      const again = async (username: string, error: MessageKey) =>
        page(signupConfirmPage({ action: withUiLocales(`${base}/signup/confirm`, request), token, username, error, ui: await uiOf(request) }), 400);
      if (!password) {
        // No password given: nothing to check, the attempt does not count.
        const live = await signupRequestIsLive(deps, token);
        if (!live) return problem(request, 400, BAD_LINK, "sign-up link unknown, used or expired");
        return again(live.username, "signup.confirm_wrong");
      }
      const r = await confirmSignup(deps, token, password, ip);
      if (!r.ok) {
        if (r.reason === "wrong_password") return again(r.username, "signup.confirm_wrong");
        if (r.reason === "too_many_attempts") return problem(request, 400, TOO_MANY_PASSWORDS, "too many wrong passwords for a sign-up link: spent");
        if (r.reason === "taken") return problem(request, 409, TAKEN, "username or address taken before the confirmation");
        return problem(request, 400, BAD_LINK, "sign-up link unknown, used or expired");
      }
      // Back into the sign-in the sign-up started from (it shows the login page of that request).
      const back = signinUrl(r.interaction ?? undefined);
      return ready(request, { username: r.user.username, continueUrl: back ?? `${base}/account`, continueLabel: back ? "signup.continue_signin" : "signup.signin_account" });
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Confirm a sign-up with the password chosen at sign-up: the account is created" } });
}

type SignupFormValues = { username?: string; email?: string; name?: string };
