// The device flow's HTTP routes: POST /oauth/device_authorization (RFC 8628 §3.1) and the
// verification page GET/POST /device with POST /device/decision (§3.3). A browser without a session
// signs in through the login interaction first and comes back here. Forms carry CSRF tokens: the
// entry form's is bound to the browser cookie, the decision's to the session and the device code.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { RateLimitError } from "../errors";
import { findUserById } from "../accounts/store";
import { audit } from "../audit/service";
import { findClientByClientId } from "../clients/store";
import { seeOther } from "../http/authorization-response";
import { requestInfo } from "../http/request-context";
import { hashSecret, randomToken, safeEqual } from "../lib/crypto";
import { rawQuery } from "../lib/text";
import { cookieSettings, readCookie, serializeCookie } from "../interaction/cookies";
import { messagePage, pageHeaders } from "../interaction/pages";
import { browserHash, createInteraction, scopeDescriptions } from "../interaction/service";
import { loadSession, type Session } from "../interaction/session";
import { ENDPOINT_PATHS } from "../oauth/discovery";
import { parseParams, readFormBody } from "../oauth/request-params";
import { handleDeviceAuthorization } from "./endpoint";
import { formatUserCode, normaliseUserCode, VERIFICATION_PATH } from "./model";
import { confirmPage, entryPage } from "./pages";
import { pageUi, problemResponse, type Problem } from "../http/page-ui";
import type { MessageKey } from "../i18n";
import { decideDeviceCode, findCodeForUser, findPendingCode, verificationUri, type DeviceCodeRow } from "./service";

const NOT_FOUND: MessageKey = "device.not_found";
const TOO_MANY: MessageKey = "device.too_many";
const BAD_FORM: MessageKey = "device.bad_form";
const ANSWERED: Problem = { title: "error.expired_title", body: "device.answered" };

function page(html: string, status: number, cookies: string[] = [], headers: Record<string, string> = {}): Response {
  const h = new Headers({ ...pageHeaders(), ...headers });
  for (const c of cookies) h.append("Set-Cookie", c);
  return new Response(html, { status, headers: h });
}

export function deviceRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const cookies = cookieSettings(deps.config);
  const entryAction = `${base}${VERIFICATION_PATH}`;
  const decisionAction = `${base}${VERIFICATION_PATH}/decision`;
  const entryCsrf = (browser: string) => hashSecret(deps.peppers.secrets, `device-entry:${browser}`);
  const decisionCsrf = (session: Session, deviceId: string) => hashSecret(deps.peppers.secrets, `device-decision:${session.id}:${deviceId}`);

  /** The browser-binding cookie (the same one pending interactions use), made when missing. */
  const browserOf = (request: Request): { token: string; set: string[] } => {
    const existing = readCookie(request, cookies.browserName);
    if (existing) return { token: existing, set: [] };
    const token = randomToken(32);
    return { token, set: [serializeCookie(cookies, cookies.browserName, token)] };
  };

  /** The page's language: ?ui_locales=, the signed-in user's locale claim, Accept-Language; the
   *  device's client brands the confirmation. */
  const uiOf = async (request: Request, opts: { clientId?: string; userLocale?: string | null } = {}) => {
    if (opts.userLocale !== undefined) return pageUi(deps, request, { clientId: opts.clientId, userLocale: opts.userLocale });
    const session = await loadSession(deps, request);
    return pageUi(deps, request, { clientId: opts.clientId, userId: session?.user_id });
  };

  const renderEntry = async (request: Request, status: number, userCode?: string, error?: MessageKey, headers: Record<string, string> = {}) => {
    const browser = browserOf(request);
    const ui = await uiOf(request);
    return page(entryPage({ action: entryAction, csrf: entryCsrf(browser.token), userCode, error: error && ui.t(error), ui }), status, browser.set, headers);
  };

  const renderConfirm = async (request: Request, session: Session, code: DeviceCodeRow, clientName: string, shownCode: string) => {
    const user = await findUserById(deps.sql, session.user_id);
    const ui = await uiOf(request, { clientId: code.client_id, userLocale: user?.locale ?? null });
    return page(
      confirmPage({
        ui,
        action: decisionAction,
        csrf: decisionCsrf(session, code.id),
        deviceId: code.id,
        clientName,
        userName: user?.name || user?.username || "",
        userCode: shownCode,
        scopes: await scopeDescriptions(deps, code.scope.split(" ").filter(Boolean)),
      }),
      200,
    );
  };

  /** Looks the typed code up (rate-limited); the confirmation, a sign-in, or the entry form again. */
  const continueWith = async (request: Request, typed: string | undefined): Promise<Response> => {
    const shown = normaliseUserCode(typed);
    const prefill = shown ? formatUserCode(shown) : typed?.slice(0, 32);
    let code: DeviceCodeRow | undefined;
    try {
      code = await findCodeForUser(deps, requestInfo(request).ip, typed);
    } catch (err) {
      if (err instanceof RateLimitError) return renderEntry(request, 429, prefill, TOO_MANY, err.headers);
      throw err;
    }
    // A code of a client deactivated since is as good as expired (its token requests fail too).
    const client = code ? await findClientByClientId(deps.sql, code.client_id) : undefined;
    if (!code || !shown || !client || !client.is_active) return renderEntry(request, 400, prefill, NOT_FOUND);
    const session = await loadSession(deps, request);
    if (session) return renderConfirm(request, session, code, client.client_name, formatUserCode(shown));
    // Not signed in: the login interaction of the authorization endpoint, for this client, which
    // ends by sending the browser back here with the code (then confirmed with the session).
    const browser = browserOf(request);
    const id = await createInteraction(deps, {
      request: { clientId: client.client_id, redirectUri: verificationUri(deps), responseMode: "query", scopes: code.scope.split(" ").filter(Boolean), codeChallenge: "", prompt: [], claims: null },
      browserHash: browserHash(deps, browser.token),
      forceLogin: false,
      returnTo: `${entryAction}?user_code=${formatUserCode(shown)}`,
    });
    return seeOther(`${base}/interaction/${id}`, browser.set);
  };

  return new Elysia({ name: "device" })
    .post(ENDPOINT_PATHS.deviceAuthorization, ({ request }) => handleDeviceAuthorization(deps, request), {
      parse: "none",
      detail: { tags: ["oauth"], summary: "Device authorization endpoint (RFC 8628 §3.1)" },
    })
    .get(VERIFICATION_PATH, async ({ request }) => {
      const params = parseParams(rawQuery(request.url));
      const typed = params.repeated.has("user_code") ? undefined : params.values.user_code;
      // verification_uri_complete: a signed-in browser sees the confirmation at once (which shows
      // the code again); otherwise the code waits pre-filled in the form for the user to confirm.
      if (typed !== undefined && (await loadSession(deps, request))) return continueWith(request, typed);
      const shown = normaliseUserCode(typed);
      return renderEntry(request, 200, shown ? formatUserCode(shown) : undefined);
    }, { detail: { tags: ["device"], summary: "Device verification page: enter the user code (RFC 8628 §3.3)" } })
    .post(VERIFICATION_PATH, async ({ request }) => {
      const body = await readFormBody(request);
      const browser = readCookie(request, cookies.browserName);
      const csrf = body?.values.csrf_token;
      if (!body || body.invalid.size || body.repeated.size || !browser || !csrf || !safeEqual(csrf, entryCsrf(browser))) {
        return renderEntry(request, 403, undefined, BAD_FORM);
      }
      return continueWith(request, body.values.user_code);
    }, { parse: "none", detail: { tags: ["device"], summary: "Submit the user code" } })
    .post(`${VERIFICATION_PATH}/decision`, async ({ request }) => {
      const body = await readFormBody(request);
      const session = await loadSession(deps, request);
      if (!session) return seeOther(entryAction);
      const f = body && !body.invalid.size && !body.repeated.size ? body.values : undefined;
      const deviceId = f?.device_id ?? "";
      if (!f || !f.csrf_token || !safeEqual(f.csrf_token, decisionCsrf(session, deviceId))) return renderEntry(request, 403, undefined, BAD_FORM);
      const code = await findPendingCode(deps, deviceId);
      const user = await findUserById(deps.sql, session.user_id);
      if (!code || !user) return problemResponse(request, await uiOf(request, { userLocale: user?.locale ?? null }), 400, ANSWERED, "device code answered, expired or gone");
      if (f.decision !== "allow" && f.decision !== "deny") return renderEntry(request, 400, undefined, BAD_FORM);
      const approve = f.decision === "allow";
      // Admin scopes only for administrators (as with the CLI's password login); the rest stays.
      const scope = code.scope.split(" ").filter((s) => s && (user.is_admin || !s.startsWith("admin:"))).join(" ");
      const ip = requestInfo(request).ip;
      if (!(await decideDeviceCode(deps, { id: code.id, approve, userId: user.id, scope, authTime: session.auth_time, acr: session.acr, amr: session.amr }))) {
        return problemResponse(request, await uiOf(request, { userLocale: user.locale }), 400, ANSWERED, "device code answered or expired meanwhile");
      }
      await audit(deps, {
        action: approve ? "device.approved" : "device.denied",
        actor: user.id,
        targetType: "client",
        targetId: code.client_id,
        outcome: approve ? undefined : "denied",
        ip,
        details: { scopes: scope.split(" ").filter(Boolean) },
      });
      const ui = await uiOf(request, { clientId: code.client_id, userLocale: user.locale });
      return approve
        ? page(messagePage(ui.t("device.connected_title"), ui.t("device.connected_body"), ui), 200)
        : page(messagePage(ui.t("device.denied_title"), ui.t("device.denied_body"), ui), 200);
    }, { parse: "none", detail: { tags: ["device"], summary: "Allow or deny the device (RFC 8628 §3.3)" } });
}
