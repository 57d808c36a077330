// One error family. OAuthError carries a stable RFC 6749/6750/OIDC `error` code; the others are
// admin/CLI errors. `http/error-handler.ts` is the only place an error becomes a response.

export interface OAuthErrorOptions {
  status?: number;
  /** May this error be sent back to the client's (verified) redirect URI? */
  redirectable?: boolean;
  /** Logged only, never shown. */
  cause?: unknown;
  /** Extra response headers (e.g. WWW-Authenticate). */
  headers?: Record<string, string>;
  /** Authorization endpoint: the verified redirect URI this error goes back to (RFC 6749 §4.1.2.1). */
  redirectUri?: string;
  state?: string;
  responseMode?: "query" | "form_post";
  /** Show an HTML error page instead of JSON (bad client_id / redirect_uri: never redirect). */
  html?: boolean;
  /** Which page explains it to the user (its words are in the catalogues, src/i18n). */
  page?: ErrorPageKind;
}

/** The error pages of the front channel: each says what happened and what to do next. */
export type ErrorPageKind = "unknown_client" | "missing_client" | "bad_redirect" | "bad_request_uri" | "bad_request" | "logout" | "rate";

export class OAuthError extends Error {
  readonly code: string;
  readonly description: string;
  readonly status: number;
  readonly redirectable: boolean;
  readonly headers: Record<string, string>;
  readonly redirectUri?: string;
  readonly state?: string;
  readonly responseMode: "query" | "form_post";
  readonly html: boolean;
  readonly page?: ErrorPageKind;
  constructor(code: string, description: string, opts: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`, { cause: opts.cause });
    this.name = "OAuthError";
    this.code = code;
    this.description = description;
    this.status = opts.status ?? defaultStatus(code);
    this.redirectable = opts.redirectable ?? false;
    this.headers = opts.headers ?? {};
    this.redirectUri = opts.redirectUri;
    this.state = opts.state;
    this.responseMode = opts.responseMode ?? "query";
    this.html = opts.html ?? false;
    this.page = opts.page;
  }
}

function defaultStatus(code: string): number {
  switch (code) {
    case "invalid_client":
    case "invalid_token":
      return 401;
    case "insufficient_scope":
    case "access_denied":
      return 403;
    case "server_error":
      return 500;
    case "temporarily_unavailable":
      return 503;
    default:
      return 400;
  }
}

/** A field-level validation problem, reported as 400 with every bad field named. */
export interface FieldProblem {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields?: FieldProblem[];
  readonly headers: Record<string, string>;
  constructor(code: string, status: number, message: string, extra: { fields?: FieldProblem[]; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: extra.cause });
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.fields = extra.fields;
    this.headers = extra.headers ?? {};
  }
}

export class ValidationError extends AppError {
  constructor(message: string, fields: FieldProblem[] = []) {
    super("validation_error", 400, message, { fields });
  }
}
export class NotFoundError extends AppError {
  constructor(message: string) {
    super("not_found", 404, message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super("conflict", 409, message);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = "Authentication required", headers: Record<string, string> = { "WWW-Authenticate": 'Bearer realm="authly-admin"' }) {
    super("unauthorized", 401, message, { headers });
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super("forbidden", 403, message);
  }
}
export class RateLimitError extends AppError {
  constructor(retryAfterSeconds: number) {
    super("rate_limited", 429, "Too many requests", { headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}
export class UnavailableError extends AppError {
  constructor(message = "The database is temporarily unavailable", cause?: unknown) {
    super("temporarily_unavailable", 503, message, { cause, headers: { "Retry-After": "1" } });
  }
}

/** CLI errors print only their message and exit with the guide's exit code. */
export const ExitCode = {
  ok: 0,
  general: 1,
  auth: 2,
  permission: 3,
  notFound: 4,
  validation: 5,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  readonly detail?: string;
  constructor(message: string, exitCode: number = ExitCode.general, detail?: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.detail = detail;
  }
}

/** Configuration problems: listed all at once, exit code 5. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** True when an error means the database cannot be reached right now (not a bad query). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as { code?: string; errno?: string; message?: string };
  const code = e.code ?? e.errno ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004", "53300", "25P03", "AUTHLY_DEADLINE"].includes(code)) return true;
  return false;
}
