// The language and brand a page of this request is drawn in (PageUi): the locale by ui_locales
// (the authorization request's, remembered in the interaction, or this URL's), then the signed-in
// user's `locale` claim, then Accept-Language, then English; the brand of the client if it has one.
import type { Deps } from "../deps";
import { findUserById } from "../accounts/store";
import { pageBrand } from "../branding/service";
import { chooseLocale, fromUiLocales, translator, type MessageKey, type Params } from "../i18n";
import { log } from "../log";
import { pageHeaders, problemPage, type PageUi } from "./page-frame";
import { requestInfo } from "./request-context";

export interface PageUiInput {
  /** ui_locales of the authorization request (OIDC Core §3.1.2.1). */
  uiLocales?: string | null;
  /** The signed-in user, whose `locale` claim counts next. */
  userId?: string | null;
  userLocale?: string | null;
  /** Whose branding to use (server-wide when none or unbranded). */
  clientId?: string | null;
}

export async function pageUi(deps: Deps, request: Request, input: PageUiInput = {}): Promise<PageUi> {
  let uiLocales = input.uiLocales;
  if (!uiLocales) {
    const q = new URL(request.url).searchParams.get("ui_locales");
    if (q && q.length <= 256) uiLocales = q;
  }
  let userLocale = input.userLocale;
  if (userLocale === undefined && input.userId) userLocale = (await findUserById(deps.sql, input.userId).catch(() => undefined))?.locale ?? null;
  const locale = chooseLocale({ uiLocales, userLocale, acceptLanguage: request.headers.get("accept-language") });
  return { locale, t: translator(locale), brand: await pageBrand(deps, input.clientId) };
}

/** A shipped language asked for by `ui_locales` (or chosen for an interaction), as a query part to
 *  carry into a form's action or the next page's link ("" when none): the next request keeps it. */
function uiLocalesQuery(source: Request | string | null | undefined, sep: "?" | "&" = "?"): string {
  const value = typeof source === "string" || source == null ? source : new URL(source.url).searchParams.get("ui_locales");
  const locale = value && value.length <= 256 ? fromUiLocales(value) : undefined;
  return locale ? `${sep}ui_locales=${locale}` : "";
}

/** `path` (a link or a form's action) with that language appended (see uiLocalesQuery). */
export function withUiLocales(path: string, source: Request | string | null | undefined): string {
  return path + uiLocalesQuery(source, path.includes("?") ? "&" : "?");
}

/** The problem a page shows: catalogue keys of its title, what happened and what to do next. */
export interface Problem {
  title: MessageKey;
  body: MessageKey;
  next?: MessageKey;
  params?: Params;
}

/** A page that says what went wrong, what to do next, and the request id; the log says why. */
export function problemResponse(request: Request, ui: PageUi, status: number, p: Problem, reason: string, headers: Record<string, string> = {}, details?: string): Response {
  const id = requestInfo(request).id;
  log.info("page problem", { request_id: id, status, problem: p.title.replace(/_title$/, ""), reason });
  const html = problemPage(ui, { title: ui.t(p.title, p.params), body: ui.t(p.body, p.params), next: p.next ? ui.t(p.next, p.params) : undefined, requestId: id, details });
  return new Response(html, { status, headers: { ...pageHeaders(), ...headers } });
}
