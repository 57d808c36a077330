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
import { ValidationError } from "../errors";
import { seeOther } from "../http/authorization-response";
import { enforcePageRateLimit } from "../http/rate-limit";
import { mailForAccountAllowed, mailToAddressAllowed } from "./mail-quota";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { rawQuery } from "../lib/text";
import { parseParams, readFormBody } from "../oauth/request-params";
import { backchannelLogout } from "../oidc/backchannel-logout";
import { messagePage } from "../interaction/pages";
import { endSession } from "../interaction/session";
import { listUserSessions } from "../interaction/store";
import { audit } from "../audit/service";
import { problemResponse, withUiLocales, type Problem } from "../http/page-ui";
import type { MessageKey } from "../i18n";
import { accountBase, accountHome, accountPageResponse, accountUi, readAccountForm, renderAccount, type AccountNotice } from "./account-http";
import { checkProfile, PROFILE_FIELDS, saveProfile } from "./profile";
import { confirmEmailChange, emailChangeOffered, emailChangeTokenIsLive, requestEmailChange } from "./email-change";
import { confirmEmailChangePage } from "./self-service-pages";

/** Notices after these forms, by code (never text from the query string). */
export const SELF_SERVICE_NOTICES: Record<string, AccountNotice> = {
  profile_saved: { kind: "ok", text: "notice.profile_saved" },
  email_link_sent: { kind: "ok", text: "notice.email_link_sent" },
  password_changed: { kind: "ok", text: "notice.password_changed" },
  sessions_ended: { kind: "ok", text: "notice.sessions_ended" },
};

const BAD_LINK: Problem = { title: "link.expired_title", body: "email_change.link_bad" };

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
  const LOCKED: MessageKey = "password.locked";
  /** The link pages belong to no signed-in browser: the language of the URL or the browser, server-wide brand. */
  const message = async (request: Request, title: MessageKey, body: MessageKey, status = 200) => {
    const ui = await accountUi(deps, request);
    return page(messagePage(ui.t(title), ui.t(body), ui), status);
  };
  const notOffered = (request: Request) => message(request, "email_change.not_offered_title", "email_change.not_offered_body", 404);
  const badLink = async (request: Request, reason: string) => problemResponse(request, await accountUi(deps, request), 400, BAD_LINK, reason);

  return new Elysia({ name: "account-self-service" })
    .post("/account/profile", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      const checked = checkProfile(f.fields);
      if ("errors" in checked) {
        const values = Object.fromEntries(PROFILE_FIELDS.map((p) => [p.key, (f.fields[p.key] ?? "").slice(0, 2000)]));
        return renderAccount(deps, request, f.user, f.session, { status: 400, notice: { kind: "error", text: "notice.profile_refused" }, form: { profile: { values, errors: checked.errors } } });
      }
      await saveProfile(deps, f.user, checked.values, requestInfo(request).ip);
      return seeOther(home("profile_saved"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Save the profile (OIDC standard claims the user may edit)" } })
    .post("/account/email", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      if (!emailChangeOffered(deps)) return seeOther(home());
      const pw = await currentPassword(request, f.user, f.fields.password ?? "");
      if (pw !== "ok") return renderAccount(deps, request, f.user, f.session, { status: pw === "locked" ? 429 : 400, form: { emailError: pw === "locked" ? LOCKED : "email.wrong_password" } });
      const pageLocale = (await accountUi(deps, request, f.user)).locale;
      // Mails per new address and per account (same answer beyond, nothing sent).
      const [perAddress, perAccount] = await Promise.all([mailToAddressAllowed(deps, "email-change", (f.fields.email ?? "").trim()), mailForAccountAllowed(deps, "email-change", f.user.id)]);
      const r = await requestEmailChange(deps, f.user, { email: f.fields.email ?? "", password: f.fields.password ?? "", mail: perAddress && perAccount }, requestInfo(request).ip, pageLocale);
      if (r.ok) return seeOther(home("email_link_sent"));
      const text: MessageKey = r.reason === "wrong_password" ? "email.wrong_password" : r.reason === "same_email" ? "email.same" : "email.invalid";
      return renderAccount(deps, request, f.user, f.session, { status: 400, form: { emailError: text } });
    }, { parse: "none", detail: { tags: ["account"], summary: "Change the email address (a link goes to the new address)" } })
    .post("/account/password", async ({ request }) => {
      const f = await readAccountForm(deps, request);
      if ("response" in f) return f.response;
      const next = f.fields.new_password ?? "";
      const refuse = (text: MessageKey) => renderAccount(deps, request, f.user, f.session, { status: 400, form: { passwordError: text } });
      if (next !== (f.fields.confirm_password ?? "")) return refuse("password.mismatch");
      const pw = await currentPassword(request, f.user, f.fields.current_password ?? "");
      if (pw === "locked") return renderAccount(deps, request, f.user, f.session, { status: 429, form: { passwordError: LOCKED } });
      if (pw === "wrong") return refuse("password.wrong_current");
      try {
        // Keeps this browser's session; ends every other one (back-channel logout) and revokes every refresh token.
        await changeOwnPassword(deps, { userId: f.user.id, ip: requestInfo(request).ip }, f.user.id, { current_password: (f.fields.current_password ?? "").slice(0, 1024), new_password: next.slice(0, 2048) }, undefined, undefined, f.session.id);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        const wrongCurrent = err.fields?.some((p) => p.field === "current_password");
        return refuse(wrongCurrent ? "password.wrong_current" : "password.policy");
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
      if (!emailChangeOffered(deps)) return notOffered(request);
      const token = parseParams(rawQuery(request.url)).values.token ?? "";
      const live = token && token.length <= 128 ? await emailChangeTokenIsLive(deps, token) : undefined;
      if (!live) return badLink(request, "email-change link unknown, used or expired");
      const ui = await accountUi(deps, request);
      return page(confirmEmailChangePage({ action: withUiLocales(`${base}/email/change`, request), token, email: live.email, ui }));
    }, { detail: { tags: ["account"], summary: "The confirmation page of an email-change link" } })
    .post("/email/change", async ({ request }) => {
      if (!emailChangeOffered(deps)) return notOffered(request);
      const ip = requestInfo(request).ip;
      await enforcePageRateLimit(deps, `email-change:ip:${sourceKey(ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
      const body = await readFormBody(request);
      const token = body && !body.invalid.size && !body.repeated.size ? (body.values.token ?? "") : "";
      if (!token || token.length > 128) return badLink(request, "email-change form without a token");
      const ui = await accountUi(deps, request);
      const r = await confirmEmailChange(deps, token, ip, ui.locale);
      if (r === "changed") return message(request, "email_change.done_title", "email_change.done_body");
      if (r === "taken") return message(request, "email_change.taken_title", "email_change.taken_body", 409);
      return badLink(request, "email-change link unknown, used or expired");
    }, { parse: "none", detail: { tags: ["account"], summary: "Confirm a new email address" } });
}
