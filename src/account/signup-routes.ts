// The sign-up pages (issue 17): GET/POST /signup (open, or with ?invite=) and GET/POST
// /signup/confirm (the mailed link). The form's CSRF token is bound to the browser cookie (the
// one pending sign-ins use); posts are limited per source address (AUTHLY_SIGNUP_RATE_LIMIT an
// hour, 429 page) and mails per address (silently, same answer). Not offered (404) unless
// AUTHLY_SIGNUP allows it and, when verification is required, mail is configured.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { PASSWORD_MIN } from "../accounts/model";
import { consumeRateLimit, enforcePageRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { hashSecret, randomToken, safeEqual, sha256 } from "../lib/crypto";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { cookieSettings, readCookie, serializeCookie } from "../interaction/cookies";
import { messagePage, pageHeaders } from "../interaction/pages";
import { accountReadyPage, signupConfirmPage, signupPage, signupSentPage } from "./signup-pages";
import { checkSignupInput, confirmSignup, liveInvite, requestSignupInBackground, SIGNUP_LIMITS, signupOffered, signupRequestIsLive, signupWithInvite, signupWithoutVerification, type SignupInput } from "./signup";
import { ConflictError } from "../errors";
import { mailEnabled } from "../mail/service";

const INTERACTION_ID = /^[A-Za-z0-9_-]{8,128}$/;
const BAD_FORM = "This form has expired or was not sent from this page. Go back, reload the page and try again.";
const BAD_TEXT = "The form contains characters that are not valid text. Go back, correct what you typed and try again.";
const BAD_LINK = "This link has expired or was already used. Sign up again.";
const BAD_INVITE = "This invite link has expired or was already used. Ask your administrator for a new one.";
const TOO_MANY = "Too many sign-ups came from your network. Wait an hour and try again.";

function page(html: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { ...pageHeaders(), ...headers } });
}

export function signupRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const issuerUrl = deps.config.issuer.replace(/\/$/, "");
  const cookies = cookieSettings(deps.config);
  const notOffered = () => page(messagePage("Not available", "Creating an account is not available on this server. Ask your administrator."), 404);
  const csrfOf = (browser: string) => hashSecret(deps.peppers.secrets, `signup-csrf:${browser}`);
  const interactionOf = (v: string | undefined) => (v && INTERACTION_ID.test(v) ? v : undefined);
  const signinUrl = (interaction?: string) => (interaction ? `${base}/interaction/${interaction}` : undefined);
  const links = (interaction?: string) => ({
    confirm: (token: string) => `${issuerUrl}/signup/confirm?token=${encodeURIComponent(token)}`,
    signin: `${issuerUrl}/account`,
    signup: `${issuerUrl}/signup${interaction ? `?interaction=${encodeURIComponent(interaction)}` : ""}`,
  });

  /** The form for this browser (a browser cookie is set when there is none). */
  const renderForm = (request: Request, status: number, v: { interaction?: string; invite?: { token: string; email: string }; values?: SignupFormValues; errors?: Record<string, string> }) => {
    let browser = readCookie(request, cookies.browserName);
    const set: Record<string, string> = {};
    if (!browser) {
      browser = randomToken(32);
      set["Set-Cookie"] = serializeCookie(cookies, cookies.browserName, browser);
    }
    const action = `${base}/signup${v.interaction ? `?interaction=${encodeURIComponent(v.interaction)}` : ""}`;
    const html = signupPage({ action, csrf: csrfOf(browser), minLength: PASSWORD_MIN, inviteEmail: v.invite?.email, inviteToken: v.invite?.token, values: v.values, errors: v.errors, backUrl: signinUrl(v.interaction) });
    return page(html, status, set);
  };

  return new Elysia({ name: "front-channel-signup" })
    .get("/signup", async ({ request }) => {
      const q = parseParams(rawQuery(request.url)).values;
      if (q.invite !== undefined) {
        const invite = await liveInvite(deps, q.invite);
        if (!invite) return page(messagePage("Link expired", BAD_INVITE), 400);
        return renderForm(request, 200, { invite: { token: q.invite, email: invite.email } });
      }
      if (!signupOffered(deps)) return notOffered();
      return renderForm(request, 200, { interaction: interactionOf(q.interaction) });
    }, { detail: { tags: ["interaction"], summary: "Sign-up form (open sign-up, or an invite link)" } })
    .post("/signup", async ({ request }) => {
      const ip = requestInfo(request).ip;
      const limit = await consumeRateLimit(deps, `signup:ip:${sourceKey(ip)}`, deps.config.signupRateLimitPerHour, 3600);
      if (!limit.allowed) return page(messagePage("Too many sign-ups", TOO_MANY), 429, { "Retry-After": String(limit.retryAfterSeconds) });
      const interaction = interactionOf(parseParams(rawQuery(request.url)).values.interaction);
      const body = await readFormBody(request);
      if (body?.invalid.size) return page(messagePage("Invalid form", BAD_TEXT), 400);
      const browser = readCookie(request, cookies.browserName);
      const f = body?.values ?? {};
      if (!body || body.repeated.size || !browser || !f.csrf_token || !safeEqual(f.csrf_token, csrfOf(browser))) return page(messagePage("Invalid form", BAD_FORM), 403);
      const input: SignupInput = { username: (f.username ?? "").trim().slice(0, 256), email: (f.email ?? "").trim().slice(0, 300), password: (f.password ?? "").slice(0, 2048), confirm: (f.confirm_password ?? "").slice(0, 2048), name: (f.name ?? "").trim().slice(0, 300) };
      const values = { username: input.username, email: input.email, name: input.name };

      if (f.invite !== undefined) {
        const invite = await liveInvite(deps, f.invite);
        if (!invite) return page(messagePage("Link expired", BAD_INVITE), 400);
        const inviteView = { token: f.invite, email: invite.email };
        const errors = checkSignupInput(input, { emailFixed: true });
        if (Object.keys(errors).length) return renderForm(request, 400, { invite: inviteView, values, errors });
        const r = await signupWithInvite(deps, f.invite, input, ip);
        if (r.ok) return page(accountReadyPage({ username: r.user.username, continueUrl: `${base}/account`, continueLabel: "Go to your account", unverified: !r.user.email_verified && mailEnabled(deps) }));
        if (r.reason === "invalid_token") return page(messagePage("Link expired", BAD_INVITE), 400);
        if (r.reason === "email_taken") return page(messagePage("Address in use", "This address already belongs to an account. Sign in with it, or ask your administrator."), 409);
        return renderForm(request, 409, { invite: inviteView, values, errors: { username: "This username is taken. Choose another." } });
      }

      if (!signupOffered(deps)) return notOffered();
      const errors = checkSignupInput(input);
      if (Object.keys(errors).length) return renderForm(request, 400, { interaction, values, errors });
      if (!deps.config.signupRequireVerifiedEmail) {
        try {
          const user = await signupWithoutVerification(deps, input, ip);
          return page(accountReadyPage({ username: user.username, continueUrl: signinUrl(interaction) ?? `${base}/account`, continueLabel: interaction ? "Continue to sign in" : "Go to your account", unverified: mailEnabled(deps) }));
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          return renderForm(request, 409, { interaction, values, errors: { form: "This username or email address is already in use. Choose another, or sign in." } });
        }
      }
      // The same database work for every address (its counter), whether or not it has an account.
      const perAddress = await consumeRateLimit(deps, `signup:addr:${sha256(input.email.toLowerCase())}`, SIGNUP_LIMITS.perAddressPer15Minutes, 15 * 60);
      if (perAddress.allowed) requestSignupInBackground(deps, input, ip, interaction ?? null, links(interaction));
      return page(signupSentPage({ backUrl: signinUrl(interaction) }));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Create an account (same answer whether or not the username or address exists)" } })
    .get("/signup/confirm", async ({ request }) => {
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !token) return page(messagePage("Link expired", BAD_LINK), 400);
      const live = await signupRequestIsLive(deps, token);
      if (!live) return page(messagePage("Link expired", BAD_LINK), 400);
      return page(signupConfirmPage({ action: `${base}/signup/confirm`, token, username: live.username }));
    }, { detail: { tags: ["interaction"], summary: "The confirmation page of a sign-up link" } })
    .post("/signup/confirm", async ({ request }) => {
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `signup-confirm:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const token = body && !body.invalid.size && !body.repeated.size ? (body.values.token ?? "") : "";
      if (!token || token.length > 128) return page(messagePage("Link expired", BAD_LINK), 400);
      const r = await confirmSignup(deps, token, ip);
      if (!r.ok) {
        if (r.reason === "taken") return page(messagePage("Username taken", "This username or address was taken before you confirmed. Sign up again with another username."), 409);
        return page(messagePage("Link expired", BAD_LINK), 400);
      }
      // Back into the sign-in the sign-up started from (it shows the login page of that request).
      const back = signinUrl(r.interaction ?? undefined);
      return page(accountReadyPage({ username: r.user.username, continueUrl: back ?? `${base}/account`, continueLabel: back ? "Continue to sign in" : "Sign in to your account" }));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Confirm a sign-up: the account is created" } });
}

type SignupFormValues = { username?: string; email?: string; name?: string };
