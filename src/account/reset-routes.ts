// The password reset pages (issue 17): GET/POST /password/forgot and GET/POST /password/reset.
// Offered only with mail configured (404 otherwise). The request answers the same page whether or
// not the address has an account, and does the account-dependent work after answering; requests
// are limited per source address (429 page) and mails per address (silently). The forms carry no
// CSRF token: the forgot form only ever mails the address's owner, and the reset form's token is
// the credential itself.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { PASSWORD_MIN } from "../accounts/model";
import { enforcePageRateLimit } from "../http/rate-limit";
import { mailToAddressAllowed } from "./mail-quota";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { messagePage, pageHeaders, type PageUi } from "../interaction/pages";
import { pageUi, problemResponse, withUiLocales, type Problem } from "../http/page-ui";
import { completePasswordReset, passwordResetOffered, requestPasswordResetInBackground, resetTokenIsLive, RESET_LIMITS } from "./password-reset";
import { confirmEmailPage, forgotPage, forgotSentPage, newPasswordPage } from "./reset-pages";
import { confirmEmail, verificationTokenIsLive } from "./email-verification";
import { mailEnabled } from "../mail/service";

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const INTERACTION_ID = /^[A-Za-z0-9_-]{8,128}$/;
const VERIFY_BAD_LINK: Problem = { title: "link.expired_title", body: "link.verify_bad" };
const BAD_LINK: Problem = { title: "link.expired_title", body: "link.reset_bad" };

function page(html: string, status = 200): Response {
  return new Response(html, { status, headers: pageHeaders() });
}

export function passwordResetRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const issuerUrl = deps.config.issuer.replace(/\/$/, "");
  const forgotAction = `${base}/password/forgot`;
  const resetAction = `${base}/password/reset`;
  const resetUrl = (token: string) => `${issuerUrl}/password/reset?token=${encodeURIComponent(token)}`;
  // Back to the sign-in the user came from (an interaction of ours; never an arbitrary URL).
  const backUrl = (interaction: string | undefined) => (interaction && INTERACTION_ID.test(interaction) ? `${base}/interaction/${interaction}` : undefined);
  // These pages belong to no client: the server-wide brand, the language of the browser (or ?ui_locales=).
  const uiOf = (request: Request): Promise<PageUi> => pageUi(deps, request);
  const notOffered = async (request: Request) => {
    const ui = await uiOf(request);
    return page(messagePage(ui.t("reset.not_offered_title"), ui.t("reset.not_offered_body"), ui), 404);
  };
  const badLink = async (request: Request, p: Problem, reason: string) => problemResponse(request, await uiOf(request), 400, p, reason);

  return new Elysia({ name: "front-channel-password-reset" })
    .get("/password/forgot", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered(request);
      const q = parseParams(rawQuery(request.url)).values;
      const back = backUrl(q.interaction);
      // The language the sign-in chose (?ui_locales=) stays with the form, its answer and the mail.
      const action = withUiLocales(back ? `${forgotAction}?interaction=${encodeURIComponent(q.interaction!)}` : forgotAction, request);
      return page(forgotPage({ action, backUrl: back, ui: await uiOf(request) }));
    }, { detail: { tags: ["interaction"], summary: "Forgot password: ask for a reset link" } })
    .post("/password/forgot", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered(request);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `reset:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const ui = await uiOf(request);
      const back = backUrl(parseParams(rawQuery(request.url)).values.interaction);
      const body = await readFormBody(request);
      const email = (body?.values.email ?? "").trim();
      if (!body || body.invalid.size || body.repeated.size || email.length > 254 || !EMAIL.test(email)) {
        return page(forgotPage({ action: request.url.slice(request.url.indexOf(forgotAction)), backUrl: back, email: email.slice(0, 254), error: ui.t("forgot.missing"), ui }), 400);
      }
      // The same database work for every address (its counter), whether or not it has an account.
      if (await mailToAddressAllowed(deps, "reset", email)) requestPasswordResetInBackground(deps, email, ip, resetUrl, ui.locale);
      return page(forgotSentPage({ backUrl: back, ui }));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Forgot password: send a reset link (same answer for every address)" } })
    .get("/password/reset", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered(request);
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !(await resetTokenIsLive(deps, token))) return badLink(request, BAD_LINK, "reset token unknown, used, replaced or expired");
      return page(newPasswordPage({ action: withUiLocales(resetAction, request), token, minLength: PASSWORD_MIN, ui: await uiOf(request) }));
    }, { detail: { tags: ["interaction"], summary: "The new-password page of a reset link" } })
    .post("/password/reset", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered(request);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `reset:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const f = body?.values ?? {};
      const ui = await uiOf(request);
      const token = f.token ?? "";
      if (!body || body.invalid.size || body.repeated.size || !token || token.length > 128) return badLink(request, BAD_LINK, "reset form without a valid token");
      const r = await completePasswordReset(deps, token, f.new_password ?? "", f.confirm_password ?? "", ip);
      if (r.ok) return page(messagePage(ui.t("reset.done_title"), ui.t("reset.done_body"), ui));
      if (r.reason === "invalid_token") return badLink(request, BAD_LINK, "reset token unknown, used, replaced or expired");
      const error = r.reason === "mismatch" ? ui.t("reset.mismatch") : ui.t("reset.policy", { min: PASSWORD_MIN, max: RESET_LIMITS.maxPasswordLength });
      return page(newPasswordPage({ action: withUiLocales(resetAction, request), token, minLength: PASSWORD_MIN, error, ui }), 400);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Set the new password of a reset link" } })
    .get("/email/verify", async ({ request }) => {
      if (!mailEnabled(deps)) return notOffered(request);
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !(await verificationTokenIsLive(deps, token))) return badLink(request, VERIFY_BAD_LINK, "verification token unknown, used or expired");
      return page(confirmEmailPage({ action: `${base}/email/verify`, token, ui: await uiOf(request) }));
    }, { detail: { tags: ["interaction"], summary: "The confirmation page of an email verification link" } })
    .post("/email/verify", async ({ request }) => {
      if (!mailEnabled(deps)) return notOffered(request);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `verify:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const token = body && !body.invalid.size && !body.repeated.size ? (body.values.token ?? "") : "";
      if (!token || token.length > 128 || !(await confirmEmail(deps, token, ip))) return badLink(request, VERIFY_BAD_LINK, "verification token unknown, used or expired");
      const ui = await uiOf(request);
      return page(messagePage(ui.t("verify.done_title"), ui.t("verify.done_body"), ui));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Confirm an email address" } });
}
