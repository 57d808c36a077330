// GET /account and its forms: manage sign-in methods (authenticator app, recovery codes,
// passkeys), sessions and consents, signed in with the browser session. Every POST carries the
// session's CSRF token, is limited per source address and answers 303 back to /account.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { AuthenticationError } from "../accounts/authenticate";
import type { UserRecord } from "../accounts/model";
import { confirmTotp } from "../authn/service";
import { deleteCredential, deleteRecoveryCodes, deleteTotp, countFactors } from "../authn/store";
import { generateRecoveryCodes } from "../authn/recovery-codes";
import { beginTotpEnrolment, pendingTotpEnrolment } from "../authn/totp";
import { registerCredential, WebAuthnError } from "../authn/webauthn";
import { ConflictError } from "../errors";
import { seeOther } from "../http/authorization-response";
import { isLoopbackClient, requestInfo } from "../http/request-context";
import { isValidText } from "../lib/text";
import { backchannelLogout } from "../oidc/backchannel-logout";
import { enrolPage, recoveryCodesPage } from "../interaction/factor-pages";
import { messagePage } from "../interaction/pages";
import type { MessageKey } from "../i18n";
import { clearSessionCookie, elevateSession, endSession, loadSession, type Session } from "../interaction/session";
import { deleteConsent, listUserSessions, revokeUserClientGrants } from "../interaction/store";
import { accountUser, accountCsrf, startAccountSignIn } from "./service";
import { accountPageResponse, accountUi, readAccountForm, renderAccount } from "./account-http";
import { SELF_SERVICE_NOTICES } from "./self-service-routes";

/** Messages after a form post, by code (never text from the query string). */
const NOTICES: Record<string, { kind: "ok" | "error"; text: MessageKey }> = {
  totp_removed: { kind: "ok", text: "notice.totp_removed" },
  passkey_added: { kind: "ok", text: "notice.passkey_added" },
  passkey_removed: { kind: "ok", text: "notice.passkey_removed" },
  passkey_failed: { kind: "error", text: "notice.passkey_failed" },
  passkey_exists: { kind: "error", text: "notice.passkey_exists" },
  session_ended: { kind: "ok", text: "notice.session_ended" },
  consent_revoked: { kind: "ok", text: "notice.consent_revoked" },
  invalid_form: { kind: "error", text: "notice.invalid_form" },
  identity_linked: { kind: "ok", text: "notice.identity_linked" },
  identity_removed: { kind: "ok", text: "notice.identity_removed" },
  identity_last: { kind: "error", text: "notice.identity_last" },
  identity_local_needed: { kind: "error", text: "notice.identity_local_needed" },
};

const page = accountPageResponse;

export function accountRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const home = (notice?: string) => `${base}/account${notice ? `?done=${notice}` : ""}`;

  const form = (request: Request) => readAccountForm(deps, request);
  const attempt = (request: Request, user: UserRecord) => ({ userId: user.id, isAdmin: user.is_admin, ip: requestInfo(request).ip, loopback: isLoopbackClient(request) });
  const log = (request: Request, user: UserRecord, action: string, details: Record<string, unknown> = {}) =>
    audit(deps, { action, actor: user.id, targetType: "user", targetId: user.id, ip: requestInfo(request).ip, details });

  const uiOf = (request: Request, user?: UserRecord) => accountUi(deps, request, user);

  const renderEnrol = async (request: Request, user: UserRecord, session: Session, status: number, error?: MessageKey) => {
    const e = (await pendingTotpEnrolment(deps, user)) ?? (await beginTotpEnrolment(deps, user));
    if (!e) return seeOther(home());
    const ui = await uiOf(request, user);
    return page(enrolPage({ action: `${base}/account/totp/confirm`, csrf: accountCsrf(deps, session), intro: ui.t("enrol.intro_account"), qrSvg: e.qrSvg, secret: e.secret, error: error && ui.t(error), ui }), status);
  };

  return new Elysia({ name: "account" })
    .get("/account", async ({ request }) => {
      const session = await loadSession(deps, request);
      const user = await accountUser(deps, session);
      if (!session || !user) {
        if (new URL(request.url).searchParams.has("error")) {
          const ui = await uiOf(request);
          return page(messagePage(ui.t("account.not_signed_in_title"), ui.t("account.not_signed_in_body"), ui), 200);
        }
        const start = await startAccountSignIn(deps, request);
        return seeOther(start.path, start.cookies);
      }
      const done = new URL(request.url).searchParams.get("done") ?? "";
      return renderAccount(deps, request, user, session, { notice: NOTICES[done] ?? SELF_SERVICE_NOTICES[done] });
    }, { detail: { tags: ["account"], summary: "The account page: sign-in methods, sessions, applications" } })
    .post("/account/totp/start", async ({ request }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      return renderEnrol(request, f.user, f.session, 200);
    }, { parse: "none", detail: { tags: ["account"], summary: "Start setting up an authenticator app" } })
    .post("/account/totp/confirm", async ({ request }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      let ok;
      try {
        ok = await confirmTotp(deps, attempt(request, f.user), (f.fields.code ?? "").slice(0, 64));
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        return renderEnrol(request, f.user, f.session, 429, "factor.locked");
      }
      if (!ok) return renderEnrol(request, f.user, f.session, 400, "factor.bad_code");
      // The session just proved the new factor; recovery codes come with the first second factor.
      await elevateSession(deps, f.session, [{ kind: "totp" }]);
      const codes = (await countFactors(deps.sql, f.user.id)).recovery ? undefined : await generateRecoveryCodes(deps, f.user.id);
      if (!codes) return seeOther(home());
      const ui = await uiOf(request, f.user);
      return page(recoveryCodesPage({ codes, continueUrl: home(), continueLabel: ui.t("codes.back_to_account"), ui }), 200);
    }, { parse: "none", detail: { tags: ["account"], summary: "Confirm the authenticator app with a first code" } })
    .post("/account/totp/remove", async ({ request }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      await deleteTotp(deps.sql, f.user.id);
      // Recovery codes back up a second factor; with none left they go too.
      if (!(await countFactors(deps.sql, f.user.id)).webauthn) await deleteRecoveryCodes(deps.sql, f.user.id);
      await log(request, f.user, "authn.totp.removed");
      return seeOther(home("totp_removed"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Remove the authenticator app" } })
    .post("/account/recovery/regenerate", async ({ request }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      const c = await countFactors(deps.sql, f.user.id);
      if (!c.totp && !c.webauthn) return seeOther(home());
      const codes = await generateRecoveryCodes(deps, f.user.id);
      await log(request, f.user, "authn.recovery_codes.regenerated");
      const ui = await uiOf(request, f.user);
      return page(recoveryCodesPage({ codes, continueUrl: home(), continueLabel: ui.t("codes.back_to_account"), status: ui.t("codes.renewed"), ui }), 200);
    }, { parse: "none", detail: { tags: ["account"], summary: "Replace the recovery codes" } })
    .post("/account/passkeys", async ({ request }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      let cred;
      try {
        cred = await registerCredential(deps, f.user.id, f.fields.credential, f.fields.name ?? "");
      } catch (err) {
        if (err instanceof ConflictError) return seeOther(home("passkey_exists"));
        if (!(err instanceof WebAuthnError)) throw err;
        await log(request, f.user, "authn.webauthn.register_failed", { reason: err.reason });
        return seeOther(home("passkey_failed"));
      }
      await log(request, f.user, "authn.webauthn.registered", { credential: cred.name, passkey: cred.is_passkey, device_type: cred.device_type });
      // The user just verified themselves on this authenticator (UV is required): the session says so.
      await elevateSession(deps, f.session, [{ kind: "webauthn", verified: true, synced: cred.device_type === "multiDevice" }]);
      if (!(await countFactors(deps.sql, f.user.id)).recovery) {
        const codes = await generateRecoveryCodes(deps, f.user.id);
        const ui = await uiOf(request, f.user);
        return page(recoveryCodesPage({ codes, continueUrl: home("passkey_added"), continueLabel: ui.t("codes.back_to_account"), status: ui.t("codes.passkey_added"), ui }), 200);
      }
      return seeOther(home("passkey_added"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Register a passkey (WebAuthn attestation response)" } })
    .post("/account/passkeys/:id/remove", async ({ request, params }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      // A credential id is base64url (WebAuthn §5.1: at most 1023 bytes); anything else names none.
      if (/^[A-Za-z0-9_-]{1,1400}$/.test(params.id) && (await deleteCredential(deps.sql, f.user.id, params.id))) {
        const c = await countFactors(deps.sql, f.user.id);
        if (!c.totp && !c.webauthn) await deleteRecoveryCodes(deps.sql, f.user.id);
        await log(request, f.user, "authn.webauthn.removed", { credential_id: params.id });
      }
      return seeOther(home("passkey_removed"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Remove a passkey or security key" } })
    .post("/account/sessions/:id/end", async ({ request, params }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      const target = (await listUserSessions(deps.sql, f.user.id)).find((s) => s.id === params.id);
      if (!target) return seeOther(home());
      await endSession(deps, target);
      await log(request, f.user, "logout", { how: "account_page", session: target.id });
      await backchannelLogout(deps, target, requestInfo(request).ip);
      if (target.id === f.session.id) return seeOther(home(), [clearSessionCookie(deps)]);
      return seeOther(home("session_ended"));
    }, { parse: "none", detail: { tags: ["account"], summary: "End one of your sessions" } })
    .post("/account/consents/:client_id/revoke", async ({ request, params }) => {
      const f = await form(request);
      if ("response" in f) return f.response;
      if (!isValidText(params.client_id) || params.client_id.length > 255) return seeOther(home());
      const revoked = await deps.sql.begin(async (tx) => {
        if (!(await deleteConsent(tx, f.user.id, params.client_id))) return undefined;
        return revokeUserClientGrants(tx, f.user.id, params.client_id);
      });
      if (revoked !== undefined) await log(request, f.user, "consent.revoke", { client_id: params.client_id, revoked_grants: revoked, how: "account_page" });
      return seeOther(home("consent_revoked"));
    }, { parse: "none", detail: { tags: ["account"], summary: "Revoke an application's access" } });
}
