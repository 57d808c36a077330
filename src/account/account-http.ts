// What every form and page of /account shares: reading a form post (rate limit per source, the
// signed-in user, the session's CSRF token) and rendering the page (with the self-service
// sections, a notice, or a refused form's values and problems) in the user's language.
import type { Deps } from "../deps";
import type { UserRecord } from "../accounts/model";
import { PASSWORD_MIN } from "../accounts/model";
import { registrationOptions } from "../authn/webauthn";
import { accountIdentities } from "../authn/upstream/buttons";
import { seeOther } from "../http/authorization-response";
import { enforcePageRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { readFormBody } from "../oauth/request-params";
import { pageHeaders } from "../interaction/pages";
import { pageUi } from "../http/page-ui";
import type { MessageKey } from "../i18n";
import { loadSession, type Session } from "../interaction/session";
import { accountCsrf, accountOverview, accountUser, checkAccountCsrf } from "./service";
import { accountPage } from "./pages";
import { emailChangeOffered } from "./email-change";
import { SIGNUP_LIMITS } from "./signup";
import { selfServiceSections, type SelfServiceView } from "./self-service-pages";

const RATE_WINDOW_SECONDS = 60;

/** A done or error message: a catalogue key, drawn in the page's language. */
export type AccountNotice = { kind: "ok" | "error"; text: MessageKey };

/** The account pages speak the user's language: ui_locales of the URL, the `locale` claim, Accept-Language. */
export function accountUi(deps: Deps, request: Request, user?: Pick<UserRecord, "locale">) {
  return pageUi(deps, request, { userLocale: user?.locale ?? null });
}

export function accountBase(deps: Pick<Deps, "config">): string {
  return new URL(deps.config.issuer).pathname.replace(/\/$/, "");
}

export function accountHome(deps: Pick<Deps, "config">, notice?: string): string {
  return `${accountBase(deps)}/account${notice ? `?done=${notice}` : ""}`;
}

export function accountPageResponse(html: string, status: number, script = false, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { ...pageHeaders([], { script }), ...headers } });
}

/** The signed-in user for a form post with a valid CSRF token; otherwise a response (303 to /account). */
export async function readAccountForm(deps: Deps, request: Request): Promise<{ user: UserRecord; session: Session; fields: Record<string, string> } | { response: Response }> {
  await enforcePageRateLimit(deps, `account:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
  const session = await loadSession(deps, request);
  const user = await accountUser(deps, session);
  if (!session || !user) return { response: seeOther(accountHome(deps)) };
  const body = await readFormBody(request);
  if (!body || body.invalid.size || body.repeated.size || !checkAccountCsrf(deps, session, body.values.csrf_token)) return { response: seeOther(accountHome(deps, "invalid_form")) };
  return { user, session, fields: body.values };
}

/** The whole account page for a signed-in user. */
export async function renderAccount(deps: Deps, request: Request, user: UserRecord, session: Session, opts: { notice?: AccountNotice; status?: number; form?: Pick<SelfServiceView, "profile" | "emailError" | "passwordError"> } = {}): Promise<Response> {
  const base = accountBase(deps);
  const csrf = accountCsrf(deps, session);
  const register = await registrationOptions(deps, user);
  const ui = await accountUi(deps, request, user);
  return accountPageResponse(
    accountPage({
      ui,
      base,
      csrf,
      userName: user.username,
      overview: await accountOverview(deps, user, session),
      notice: opts.notice && { kind: opts.notice.kind, text: ui.t(opts.notice.text) },
      selfService: selfServiceSections({ base, csrf, user, emailChange: emailChangeOffered(deps), minLength: PASSWORD_MIN, maxLength: SIGNUP_LIMITS.maxPasswordLength, ...opts.form, ui }),
      identities: await accountIdentities(deps, user.id, csrf),
      register: register.full ? undefined : { ...register, script: `${base}/assets/webauthn.js` },
    }),
    opts.status ?? 200,
    !register.full,
  );
}
