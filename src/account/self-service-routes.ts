// The account page's self-service forms (issue 17): POST /account/profile, /account/email,
// /account/password and /account/sessions/end-others, and the email-change link
// (GET/POST /email/change). Forms go through readAccountForm (rate limit, session, CSRF); a refused
// form shows the page again (400) with its problem, a done one answers 303 to /account?done=….
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { changeOwnPassword } from "../accounts/admin-service";
import { AuthenticationError, throttledFactorCheck } from "../accounts/authenticate";
import type { UserRecord } from "../accounts/model";
import { passwordParams, verifyPassword } from "../accounts/password";
import { isLoopbackClient } from "../http/request-context";
import { PASSWORD_MIN } from "../accounts/model";
import { ValidationError } from "../errors";
import { seeOther } from "../http/authorization-response";
import { enforcePageRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { backchannelLogout } from "../oidc/backchannel-logout";
import { messagePage } from "../interaction/pages";
import { endSession } from "../interaction/session";
import { listUserSessions } from "../interaction/store";
import { audit } from "../audit/service";
import { accountBase, accountHome, accountPageResponse, readAccountForm, renderAccount } from "./account-http";
import { checkProfile, PROFILE_FIELDS, saveProfile } from "./profile";
import { confirmEmailChange, emailChangeOffered, emailChangeTokenIsLive, requestEmailChange } from "./email-change";
import { confirmEmailChangePage } from "./self-service-pages";

/** Notices after these forms, by code (never text from the query string). */
export const SELF_SERVICE_NOTICES: Record<string, { kind: "ok" | "error"; text: string }> = {
  profile_saved: { kind: "ok", text: "Your profile was saved." },
  email_link_sent: { kind: "ok", text: "We sent a link to the new address. Your address changes when you follow it." },
  password_changed: { kind: "ok", text: "Your password was changed. Every other device was signed out." },
  sessions_ended: { kind: "ok", text: "Every other session was ended." },
};

const BAD_LINK = "This link has expired, was already used, or a newer one was sent. Change the address again on your account page.";

export function selfServiceRoutes(deps: Deps) {
  const base = accountBase(deps);
  const home = (notice?: string) => accountHome(deps, notice);
  const page = (html: string, status = 200) => accountPageResponse(html, status);

  /** The current password of a form, under the sign-in throttle (a stolen session must not become
   *  a password oracle): failures count like wrong sign-ins and lock the same way. */
  const currentPassword = async (request: Request, user: UserRecord, password: string): Promise<"ok" | "wrong" | "locked"> => {
    try {
      const attempt = { userId: user.id, isAdmin: user.is_admin, ip: requestInfo(request).ip, loopback: isLoopbackClient(request) };
      const ok = await throttledFactorCheck(deps, attempt, "password", async () => (await verifyPassword(password.slice(0, 1024), user.password_hash, passwordParams(deps.config))).ok);
      return ok ? "ok" : "wrong";
    } catch (err) {
      if (err instanceof AuthenticationError) return "locked";
      throw err;
    }
  };
  const LOCKED = "Too many wrong passwords. Wait a few minutes and try again.";

  return new Elysia({ name: "account-self-service" })
    .post("/account/profile", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      const checked = checkProfile(f.fields);
      if ("errors" in checked) {
        const values = Object.fromEntries(PROFILE_FIELDS.map((p) => [p.key, (f.fields[p.key] ?? "").slice(0, 2000)]));
        return renderAccount(deps, f.user, f.session, { status: 400, notice: { kind: "error", text: "The profile was not saved: check the marked fields." }, form: { profile: { values, errors: checked.errors } } });
      }
      await saveProfile(deps, f.user, checked.values, requestInfo(request).ip);
      return seeOther(home("profile_saved"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Save the profile (OIDC standard claims the user may edit)" } })
    .post("/account/email", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      if (!emailChangeOffered(deps)) return seeOther(home());
      const pw = await currentPassword(request, f.user, f.fields.password ?? "");
      if (pw !== "ok") return renderAccount(deps, f.user, f.session, { status: pw === "locked" ? 429 : 400, form: { emailError: pw === "locked" ? LOCKED : "Your password is not right." } });
      const r = await requestEmailChange(deps, f.user, { email: f.fields.email ?? "", password: f.fields.password ?? "" }, requestInfo(request).ip);
      if (r.ok) return seeOther(home("email_link_sent"));
      const text = r.reason === "wrong_password" ? "Your password is not right." : r.reason === "same_email" ? "This is already your address." : "Enter a valid email address.";
      return renderAccount(deps, f.user, f.session, { status: 400, form: { emailError: text } });
    }, { parse: "none", detail: { tags: ["account"], summary: "Change the email address (a link goes to the new address)" } })
    .post("/account/password", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      const next = f.fields.new_password ?? "";
      const refuse = (text: string) => renderAccount(deps, f.user, f.session, { status: 400, form: { passwordError: text } });
      if (next !== (f.fields.confirm_password ?? "")) return refuse("The new passwords do not match.");
      const pw = await currentPassword(request, f.user, f.fields.current_password ?? "");
      if (pw === "locked") return renderAccount(deps, f.user, f.session, { status: 429, form: { passwordError: LOCKED } });
      if (pw === "wrong") return refuse("Your current password is not right.");
      try {
        // Keeps this browser's session; ends every other one (back-channel logout) and revokes every refresh token.
        await changeOwnPassword(deps, { userId: f.user.id, ip: requestInfo(request).ip }, f.user.id, { current_password: (f.fields.current_password ?? "").slice(0, 1024), new_password: next.slice(0, 2048) }, undefined, undefined, f.session.id);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        const wrongCurrent = err.fields?.some((p) => p.field === "current_password");
        return refuse(wrongCurrent ? "Your current password is not right." : `The new password must have ${PASSWORD_MIN} to 1024 characters and differ from the current one.`);
      }
      return seeOther(home("password_changed"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Change the password (others sessions and refresh tokens are revoked)" } })
    .post("/account/sessions/end-others", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      const ip = requestInfo(request).ip;
      const others = (await listUserSessions(deps.sql, f.user.id)).filter((s) => s.id !== f.session.id);
      for (const s of others) {
        await endSession(deps, s);
        await backchannelLogout(deps, s, ip);
      }
      await audit(deps, { action: "logout", actor: f.user.id, targetType: "user", targetId: f.user.id, ip, details: { how: "account_page_others", sessions: others.length } });
      return seeOther(home("sessions_ended"));
    }, { parse: "none", detail: { tags: ["account"], summary: "End every session but this one" } })
    .get("/email/change", async ({ request }) => {
      if (!emailChangeOffered(deps)) return page(messagePage("Not available", "Changing the email address is not available on this server."), 404);
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      const live = token && token.length <= 128 ? await emailChangeTokenIsLive(deps, token) : undefined;
      if (!live) return page(messagePage("Link expired", BAD_LINK), 400);
      return page(confirmEmailChangePage({ action: `${base}/email/change`, token, email: live.email }));
    }, { detail: { tags: ["account"], summary: "The confirmation page of an email-change link" } })
    .post("/email/change", async ({ request }) => {
      if (!emailChangeOffered(deps)) return page(messagePage("Not available", "Changing the email address is not available on this server."), 404);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `email-change:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const token = body && !body.invalid.size && !body.repeated.size ? (body.values.token ?? "") : "";
      if (!token || token.length > 128) return page(messagePage("Link expired", BAD_LINK), 400);
      const r = await confirmEmailChange(deps, token, ip);
      if (r === "changed") return page(messagePage("Address changed", "Your new email address is confirmed and is now the address of your account."));
      if (r === "taken") return page(messagePage("Address in use", "This address now belongs to another account: your address was not changed."), 409);
      return page(messagePage("Link expired", BAD_LINK), 400);
    }, { parse: "none", detail: { tags: ["account"], summary: "Confirm a new email address" } });
}
