// The only place an error becomes a response (STYLE.md "Errors"): OAuth JSON per RFC 6749 §5.2,
// redirects per §4.1.2.1 with iss (RFC 9207), HTML pages where redirecting is unsafe, admin JSON,
// 503 when the database is away, and server_error without internals for everything else.
import { AppError, OAuthError, isDatabaseUnavailable, type ErrorPageKind } from "../errors";
import { chooseLocale, translator, type Locale } from "../i18n";
import { log } from "../log";
import { escapeHtml } from "./html";
import { defaultUi, pageHeaders, problemPage, type PageUi } from "./page-frame";
import type { Problem } from "./page-ui";
import { requestInfo } from "./request-context";

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" };

export interface ErrorContext {
  issuer: string;
  request: Request;
  /** Elysia's error code: VALIDATION, PARSE, NOT_FOUND, INVALID_COOKIE_SIGNATURE, UNKNOWN ... */
  code: string | number;
  /** The language and brand of an HTML error page (else: Accept-Language and the built-in look). */
  ui?: PageUi;
}

const ERROR_PAGES: Record<ErrorPageKind, Problem> = {
  unknown_client: { title: "error.unknown_client_title", body: "error.unknown_client_body", next: "error.unknown_client_next" },
  missing_client: { title: "error.missing_client_title", body: "error.missing_client_body", next: "error.missing_client_next" },
  bad_redirect: { title: "error.bad_redirect_title", body: "error.bad_redirect_body", next: "error.bad_redirect_next" },
  bad_request_uri: { title: "error.bad_request_uri_title", body: "error.bad_request_uri_body", next: "error.bad_request_uri_next" },
  bad_request: { title: "error.bad_request_title", body: "error.bad_request_body", next: "error.bad_request_next" },
  logout: { title: "error.logout_title", body: "error.logout_body", next: "error.logout_next" },
  rate: { title: "error.rate_title", body: "error.rate_body", next: "error.rate_next" },
};

export function errorToResponse(error: unknown, ctx: ErrorContext): Response {
  if (error instanceof OAuthError) return oauthErrorResponse(error, ctx);
  if (error instanceof AppError) return appErrorResponse(error);
  if (ctx.code === "VALIDATION" || ctx.code === "PARSE") {
    return json(400, { error: "invalid_request", error_description: describeValidation(error, ctx.code) });
  }
  if (ctx.code === "NOT_FOUND") return json(404, { error: "not_found", error_description: "No such endpoint" });
  // Bun cuts a (chunked) body past maxRequestBodySize while a route reads it.
  const tooLarge = error instanceof Error && error.message.includes("exceeded maxRequestBodySize");
  const status = tooLarge ? 413 : (error as { status?: number })?.status;
  if (status === 413 || status === 431 || status === 415) return json(status, { error: "invalid_request", error_description: status === 413 ? "Request body too large" : status === 431 ? "Request headers too large" : "Unsupported media type" });
  if (isDatabaseUnavailable(error)) {
    log.warn("database unavailable", { request_id: requestInfo(ctx.request).id, code: (error as { code?: string }).code });
    return json(503, { error: "temporarily_unavailable", error_description: "The service is temporarily unavailable; try again shortly" }, { "Retry-After": "1" });
  }
  const id = requestInfo(ctx.request).id;
  log.error("unexpected error", { request_id: id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined });
  return json(500, { error: "server_error", error_description: `An unexpected error occurred (request id ${id})` });
}

function oauthErrorResponse(e: OAuthError, ctx: ErrorContext): Response {
  const issuer = ctx.issuer;
  if (e.redirectUri) {
    const params: Record<string, string> = { error: e.code, error_description: e.description, iss: issuer };
    if (e.state !== undefined) params.state = e.state;
    if (e.responseMode === "form_post") return formPost(e.redirectUri, params, ctx.ui?.locale ?? chooseLocale({ acceptLanguage: ctx.request.headers.get("accept-language") }));
    const url = new URL(e.redirectUri);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return new Response(null, { status: 303, headers: { Location: url.toString(), "Cache-Control": "no-store" } });
  }
  if (e.html) return errorPageResponse(e, ctx);
  return json(e.status, { error: e.code, error_description: e.description }, e.headers);
}

/** The page of an error that must not go back to the client (unknown client, bad redirect URI,
 *  expired request_uri, ...): plain words, what to do next, the request id; the log says why. */
function errorPageResponse(e: OAuthError, ctx: ErrorContext): Response {
  const id = requestInfo(ctx.request).id;
  const kind: ErrorPageKind = e.page ?? (e.status === 429 ? "rate" : e.code === "invalid_client" ? "unknown_client" : "bad_request");
  log.info("front-channel error page", { request_id: id, error: e.code, page: kind, reason: e.description });
  const ui = ctx.ui ?? defaultUi(chooseLocale({ acceptLanguage: ctx.request.headers.get("accept-language") }));
  const p = ERROR_PAGES[kind];
  const html = problemPage(ui, { title: ui.t(p.title), body: ui.t(p.body), next: p.next && ui.t(p.next), requestId: id, details: kind === "rate" ? undefined : e.description });
  return new Response(html, { status: e.status, headers: { ...pageHeaders(), ...e.headers } });
}

function appErrorResponse(e: AppError): Response {
  const body: Record<string, unknown> = { error: e.code, error_description: e.message };
  if (e.fields?.length) body.fields = e.fields;
  return json(e.status, body, e.headers);
}

/** OAuth 2.0 Form Post Response Mode: an auto-submitting form (works without JS via a button). */
export function formPost(action: string, params: Record<string, string>, locale: Locale = "en"): Response {
  const inputs = Object.entries(params).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
  const label = escapeHtml(translator(locale)("common.continue"));
  const body = `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${label}</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(action)}">${inputs}<noscript><button type="submit">${label}</button></noscript></form></body></html>`;
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; form-action *; frame-ancestors 'none'", "X-Frame-Options": "DENY" },
  });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** A readable description of a TypeBox/Elysia validation failure that never echoes values. */
function describeValidation(error: unknown, code: string | number): string {
  if (code === "PARSE") return "The request body could not be parsed";
  const e = error as { type?: string; validator?: unknown; all?: { path?: string; message?: string; summary?: string }[] };
  const where = e.type ? `${e.type}` : "request";
  const first = Array.isArray(e.all) ? e.all.slice(0, 5) : [];
  const parts = first.map((x) => `${(x.path || "").replace(/^\//, "") || where}: ${(x.message || "invalid").toLowerCase()}`);
  return parts.length ? `Invalid ${where}: ${parts.join("; ")}` : `Invalid ${where}`;
}
