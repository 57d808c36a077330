// The steps of an interaction after the password (src/authn/ decides which): the second-factor page
// and its posts (a one-time code, a WebAuthn assertion — which on the login page is a passkey
// sign-in), and the enrolment of an authenticator app when a policy requires one. Mounted by
// routes.ts, which hands over what every step shares (InteractionKit).
import type { Deps } from "../deps";
import { AuthenticationError, throttledFactorCheck } from "../accounts/authenticate";
import { findUserById } from "../accounts/store";
import { audit } from "../audit/service";
import type { Method } from "../authn/model";
import { generateRecoveryCodes } from "../authn/recovery-codes";
import { checkCode, confirmTotp } from "../authn/service";
import { listCredentials } from "../authn/store";
import { beginTotpEnrolment, pendingTotpEnrolment } from "../authn/totp";
import { newChallenge, relyingParty, verifyAssertion, WebAuthnError } from "../authn/webauthn";
import { seeOther } from "../http/authorization-response";
import { consumeRateLimit } from "../http/rate-limit";
import { isLoopbackClient, requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { enrolPage, factorPage, recoveryCodesPage } from "./factor-pages";
import { formTarget, type PageUi } from "./pages";
import { clientDisplayName } from "./account-client";
import type { Problem } from "../http/page-ui";
import type { MessageKey } from "../i18n";
import { csrfToken, nextStep, type LoadedInteraction, type Step } from "./service";
import { elevateSession, loadSession } from "./session";

const BAD_CODE: MessageKey = "factor.bad_code";
const BAD_RECOVERY: MessageKey = "factor.bad_recovery";
const BAD_KEY: MessageKey = "factor.bad_key";
const FACTOR_LOCKED: MessageKey = "factor.locked";
const EXPIRED: Problem = { title: "error.expired_title", body: "error.expired_body", next: "error.expired_next" };
const RATE_WINDOW_SECONDS = 60;

export interface InteractionKit {
  url(id: string, action?: string): string;
  page(html: string, status: number, formTargets?: string[], script?: boolean): Response;
  renderLogin(request: Request, ia: LoadedInteraction, status: number, login?: string, error?: MessageKey): Promise<Response>;
  beginSession(request: Request, ia: LoadedInteraction, userId: string, methods: Method[]): Promise<Response>;
  /** The language and brand of the interaction's pages (the user's locale claim counts). */
  uiFor(request: Request, ia?: LoadedInteraction, userId?: string | null): Promise<PageUi>;
  problem(request: Request, status: number, p: Problem, reason: string, ia?: LoadedInteraction): Promise<Response>;
}

export function factorSteps(deps: Deps, kit: InteractionKit) {
  const { url, page } = kit;
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const scriptUrl = `${base}/assets/webauthn.js`;
  const rp = relyingParty(deps);
  const attempt = async (request: Request, userId: string) => ({ userId, isAdmin: Boolean((await findUserById(deps.sql, userId))?.is_admin), ip: requestInfo(request).ip, loopback: isLoopbackClient(request) });

  /** A WebAuthn challenge for a page (sealed, no row until used): per source at most AUTHLY_AUTHORIZE_RATE_LIMIT a
   *  minute, beyond which the page is shown without WebAuthn rather than refused. */
  const challengeFor = async (request: Request, userId: string | null): Promise<string | undefined> => {
    const r = await consumeRateLimit(deps, `webauthn-challenge:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
    return r.allowed ? newChallenge(deps, "authenticate", userId) : undefined;
  };

  const renderFactor = async (request: Request, ia: LoadedInteraction, step: Extract<Step, { kind: "factor" }>, status: number, error?: MessageKey, errorFor?: "totp" | "recovery") => {
    const user = await findUserById(deps.sql, step.session.user_id);
    const ui = await kit.uiFor(request, ia, step.session.user_id);
    const phr = step.level === "phr";
    const creds = step.enrolment.webauthn > 0 ? await listCredentials(deps.sql, step.session.user_id) : [];
    const challenge = creds.length ? await challengeFor(request, step.session.user_id) : undefined;
    const webauthn = challenge
      ? { action: url(ia.id, "webauthn"), challenge, rpId: rp.id, allow: creds.map((c) => c.id), userVerification: "preferred" as const, script: scriptUrl }
      : undefined;
    return page(
      factorPage({
        action: url(ia.id, "factor"),
        cancelAction: url(ia.id, "cancel"),
        csrf: csrfToken(deps, ia.id),
        clientName: clientDisplayName(ia.client, ui),
        userName: user?.username ?? "",
        phishingResistant: phr,
        totp: !phr && step.enrolment.totp,
        recovery: !phr && step.enrolment.recoveryCodes > 0,
        webauthn,
        error: error && ui.t(error),
        errorFor,
        ui,
      }),
      status,
      [formTarget(ia.state.request.redirectUri)],
      Boolean(webauthn),
    );
  };

  const renderEnrol = async (request: Request, ia: LoadedInteraction, userId: string, status: number, error?: MessageKey) => {
    const user = await findUserById(deps.sql, userId);
    if (!user) return kit.problem(request, 400, EXPIRED, "the user of the enrolment is gone", ia);
    const ui = await kit.uiFor(request, ia, userId);
    const enrolment = (await pendingTotpEnrolment(deps, user)) ?? (await beginTotpEnrolment(deps, user));
    if (!enrolment) return seeOther(url(ia.id));
    return page(
      enrolPage({
        action: url(ia.id, "enrol"),
        cancelAction: url(ia.id, "cancel"),
        csrf: csrfToken(deps, ia.id),
        intro: ui.t("enrol.intro_policy", { client: clientDisplayName(ia.client, ui) }),
        qrSvg: enrolment.qrSvg,
        secret: enrolment.secret,
        error: error && ui.t(error),
        ui,
      }),
      status,
      [formTarget(ia.state.request.redirectUri)],
    );
  };

  const stepOf = async (request: Request, ia: LoadedInteraction) => nextStep(deps, ia.client, ia.state, await loadSession(deps, request));

  /** POST .../factor: a TOTP code or a recovery code, under the login throttle. */
  const submitCode = async (request: Request, ia: LoadedInteraction, fields: Record<string, string>): Promise<Response> => {
    const step = await stepOf(request, ia);
    if (step.kind !== "factor" || step.level === "phr") return seeOther(url(ia.id));
    const kind = fields.method === "recovery" ? "recovery" : "totp";
    let method;
    try {
      method = await checkCode(deps, await attempt(request, step.session.user_id), kind, (fields.code ?? "").slice(0, 64));
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      return renderFactor(request, ia, step, 429, FACTOR_LOCKED, kind);
    }
    if (!method) return renderFactor(request, ia, step, 401, kind === "totp" ? BAD_CODE : BAD_RECOVERY, kind);
    await elevateSession(deps, step.session, [method]);
    return seeOther(url(ia.id));
  };

  /** POST .../webauthn: a security key or passkey as the next factor, or on the login page a
   *  passkey alone (no username: the credential names the user, user verification required). */
  const submitWebauthn = async (request: Request, ia: LoadedInteraction, fields: Record<string, string>): Promise<Response> => {
    const step = await stepOf(request, ia);
    const ip = requestInfo(request).ip;
    if (step.kind === "factor") {
      let result: Awaited<ReturnType<typeof verifyAssertion>> | undefined;
      try {
        const ok = await throttledFactorCheck(deps, await attempt(request, step.session.user_id), "webauthn", async () => {
          try {
            result = await verifyAssertion(deps, fields.credential, step.session.user_id);
            return true;
          } catch (err) {
            if (err instanceof WebAuthnError) return false;
            throw err;
          }
        });
        if (!ok || !result) return renderFactor(request, ia, step, 401, BAD_KEY);
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        return renderFactor(request, ia, step, 429, FACTOR_LOCKED);
      }
      await audit(deps, { action: "authn.webauthn.used", actor: result.userId, targetType: "user", targetId: result.userId, ip, details: { credential: result.credential.name } });
      await elevateSession(deps, step.session, [result.method]);
      return seeOther(url(ia.id));
    }
    if (step.kind !== "login" || ia.state.passwordChangeFor) return seeOther(url(ia.id));
    let result;
    try {
      result = await verifyAssertion(deps, fields.credential);
    } catch (err) {
      if (!(err instanceof WebAuthnError)) throw err;
      await audit(deps, { action: "login.failure", actor: null, targetType: "user", targetId: null, outcome: "failure", ip, details: { reason: `webauthn_${err.reason}` } });
      return kit.renderLogin(request, ia, 401, undefined, BAD_KEY);
    }
    const user = await findUserById(deps.sql, result.userId);
    if (!user || !user.is_active) return kit.renderLogin(request, ia, 401, undefined, BAD_KEY);
    await audit(deps, { action: "login.success", actor: user.id, targetType: "user", targetId: user.id, ip, details: { method: "passkey", credential: result.credential.name } });
    return kit.beginSession(request, ia, user.id, [result.method]);
  };

  /** POST .../enrol: the first code confirms the authenticator app; the recovery codes are shown once. */
  const submitEnrol = async (request: Request, ia: LoadedInteraction, fields: Record<string, string>): Promise<Response> => {
    const step = await stepOf(request, ia);
    if (step.kind !== "enrol") return seeOther(url(ia.id));
    const userId = step.session.user_id;
    let ok;
    try {
      ok = await confirmTotp(deps, await attempt(request, userId), (fields.code ?? "").slice(0, 64));
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      return renderEnrol(request, ia, userId, 429, FACTOR_LOCKED);
    }
    if (!ok) return renderEnrol(request, ia, userId, 400, BAD_CODE);
    const codes = await generateRecoveryCodes(deps, userId);
    await elevateSession(deps, step.session, [{ kind: "totp" }]);
    const ui = await kit.uiFor(request, ia, userId);
    return page(recoveryCodesPage({ codes, continueUrl: url(ia.id), continueLabel: ui.t("codes.continue_to", { client: clientDisplayName(ia.client, ui) }), ui }), 200);
  };

  return { scriptUrl, rpId: rp.id, challengeFor, renderFactor, renderEnrol, submitCode, submitWebauthn, submitEnrol };
}
