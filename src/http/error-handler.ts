// The only place an error becomes a response (STYLE.md "Errors"): OAuth JSON per RFC 6749 §5.2,
// redirects per §4.1.2.1 with iss (RFC 9207), HTML pages where redirecting is unsafe, admin JSON,
// 503 when the database is away, and server_error without internals for everything else.
import { AppError, OAuthError, isDatabaseUnavailable } from "../errors";
import { log } from "../log";
import { errorPage, escapeHtml } from "./html";
import { requestInfo } from "./request-context";

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" };

export interface ErrorContext {
  issuer: string;
  request: Request;
  /** Elysia's error code: VALIDATION, PARSE, NOT_FOUND, INVALID_COOKIE_SIGNATURE, UNKNOWN ... */
  code: string | number;
}

export function errorToResponse(error: unknown, ctx: ErrorContext): Response {
  if (error instanceof OAuthError) return oauthErrorResponse(error, ctx.issuer);
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

function oauthErrorResponse(e: OAuthError, issuer: string): Response {
  if (e.redirectUri) {
    const params: Record<string, string> = { error: e.code, error_description: e.description, iss: issuer };
    if (e.state !== undefined) params.state = e.state;
    if (e.responseMode === "form_post") return formPost(e.redirectUri, params);
    const url = new URL(e.redirectUri);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return new Response(null, { status: 303, headers: { Location: url.toString(), "Cache-Control": "no-store" } });
  }
  if (e.html) return errorPage(e.status === 429 ? "Too many requests" : e.code === "invalid_client" ? "Unknown application" : "Invalid request", e.description, e.status, e.headers);
  return json(e.status, { error: e.code, error_description: e.description }, e.headers);
}

function appErrorResponse(e: AppError): Response {
  const body: Record<string, unknown> = { error: e.code, error_description: e.message };
  if (e.fields?.length) body.fields = e.fields;
  return json(e.status, body, e.headers);
}

/** OAuth 2.0 Form Post Response Mode: an auto-submitting form (works without JS via a button). */
export function formPost(action: string, params: Record<string, string>): Response {
  const inputs = Object.entries(params).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("");
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continue</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`;
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
