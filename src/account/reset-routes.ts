// The password reset pages (issue 17): GET/POST /password/forgot and GET/POST /password/reset.
// Offered only with mail configured (404 otherwise). The request answers the same page whether or
// not the address has an account, and does the account-dependent work after answering; requests
// are limited per source address (429 page) and mails per address (silently). The forms carry no
// CSRF token: the forgot form only ever mails the address's owner, and the reset form's token is
// the credential itself.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { PASSWORD_MIN } from "../accounts/model";
import { consumeRateLimit, enforcePageRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { sha256 } from "../lib/crypto";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { messagePage, pageHeaders } from "../interaction/pages";
import { completePasswordReset, passwordResetOffered, requestPasswordResetInBackground, resetTokenIsLive, RESET_LIMITS } from "./password-reset";
import { confirmEmailPage, forgotPage, forgotSentPage, newPasswordPage } from "./reset-pages";
import { confirmEmail, verificationTokenIsLive } from "./email-verification";
import { mailEnabled } from "../mail/service";

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const INTERACTION_ID = /^[A-Za-z0-9_-]{8,128}$/;
const VERIFY_BAD_LINK = "This link has expired, was already used, or the address changed since. Ask your administrator for a new link.";
const BAD_LINK = "This link has expired, was already used, or a newer one was sent. Ask for a new link.";

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
  const notOffered = () => page(messagePage("Not available", "Password reset by email is not available on this server. Ask your administrator."), 404);

  return new Elysia({ name: "front-channel-password-reset" })
    .get("/password/forgot", ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered();
      const q = parseParams(rawQuery(request.url)).values;
      const back = backUrl(q.interaction);
      return page(forgotPage({ action: back ? `${forgotAction}?interaction=${encodeURIComponent(q.interaction!)}` : forgotAction, backUrl: back }));
    }, { detail: { tags: ["interaction"], summary: "Forgot password: ask for a reset link" } })
    .post("/password/forgot", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered();
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `reset:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const back = backUrl(parseParams(rawQuery(request.url)).values.interaction);
      const body = await readFormBody(request);
      const email = (body?.values.email ?? "").trim();
      if (!body || body.invalid.size || body.repeated.size || email.length > 254 || !EMAIL.test(email)) {
        return page(forgotPage({ action: request.url.slice(request.url.indexOf(forgotAction)), backUrl: back, email: email.slice(0, 254), error: "Enter the email address of your account." }), 400);
      }
      // The same database work for every address (its counter), whether or not it has an account.
      const perAddress = await consumeRateLimit(deps, `reset:addr:${sha256(email.toLowerCase())}`, RESET_LIMITS.perAddressPer15Minutes, 15 * 60);
      if (perAddress.allowed) requestPasswordResetInBackground(deps, email, ip, resetUrl);
      return page(forgotSentPage({ backUrl: back }));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Forgot password: send a reset link (same answer for every address)" } })
    .get("/password/reset", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered();
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !(await resetTokenIsLive(deps, token))) return page(messagePage("Link expired", BAD_LINK), 400);
      return page(newPasswordPage({ action: resetAction, token, minLength: PASSWORD_MIN }));
    }, { detail: { tags: ["interaction"], summary: "The new-password page of a reset link" } })
    .post("/password/reset", async ({ request }) => {
      if (!passwordResetOffered(deps)) return notOffered();
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `reset:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const f = body?.values ?? {};
      const token = f.token ?? "";
      if (!body || body.invalid.size || body.repeated.size || !token || token.length > 128) return page(messagePage("Link expired", BAD_LINK), 400);
      const r = await completePasswordReset(deps, token, f.new_password ?? "", f.confirm_password ?? "", ip);
      if (r.ok) return page(messagePage("Password changed", "Your new password is set, and every device that was signed in to your account has been signed out. Return to the application and sign in."));
      if (r.reason === "invalid_token") return page(messagePage("Link expired", BAD_LINK), 400);
      const error = r.reason === "mismatch" ? "The passwords do not match." : `The password must have ${PASSWORD_MIN} to ${RESET_LIMITS.maxPasswordLength} characters.`;
      return page(newPasswordPage({ action: resetAction, token, minLength: PASSWORD_MIN, error }), 400);
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Set the new password of a reset link" } })
    .get("/email/verify", async ({ request }) => {
      if (!mailEnabled(deps)) return notOffered();
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      if (token.length > 128 || !(await verificationTokenIsLive(deps, token))) return page(messagePage("Link expired", VERIFY_BAD_LINK), 400);
      return page(confirmEmailPage({ action: `${base}/email/verify`, token }));
    }, { detail: { tags: ["interaction"], summary: "The confirmation page of an email verification link" } })
    .post("/email/verify", async ({ request }) => {
      if (!mailEnabled(deps)) return notOffered();
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `verify:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const token = body && !body.invalid.size && !body.repeated.size ? (body.values.token ?? "") : "";
      if (!token || token.length > 128 || !(await confirmEmail(deps, token, ip))) return page(messagePage("Link expired", VERIFY_BAD_LINK), 400);
      return page(messagePage("Address confirmed", "Your email address is confirmed. You can close this page."));
    }, { parse: "none", detail: { tags: ["interaction"], summary: "Confirm an email address" } });
}
