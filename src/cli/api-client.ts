// The only way the admin CLI talks to the server: fetch to the admin HTTP API and the OAuth token
// endpoints (docs/contracts.md). Maps HTTP failures to the guide's exit codes; with
// AUTHLY_DEBUG_HTTP=true prints every request and response to stderr, secrets masked.
import { CliError, ExitCode } from "../errors";
import { nextSteps } from "./next-step";

export interface ApiErrorBody {
  error?: string;
  error_description?: string;
  fields?: { field: string; message: string }[];
}

/** A failed HTTP call, already mapped to a CLI exit code. */
export class ApiError extends CliError {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(message: string, exitCode: number, status: number, body: ApiErrorBody, detail?: string) {
    super(message, exitCode, detail);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Supplies the bearer token; `force` asks for a refreshed one after a 401. */
export type TokenProvider = (force: boolean) => Promise<string | undefined>;

/** Signs DPoP proofs (RFC 9449) for the requests of a logged-in CLI; undefined: none. */
export interface DpopSigner {
  /** A proof for `method` `path` (with `ath` of `accessToken` at a resource), with the last nonce. */
  proof(method: string, path: string, accessToken: string | undefined, nonce: string | undefined): Promise<string | undefined>;
}

export interface ApiClientOptions {
  dpop?: DpopSigner;
  baseUrl: string;
  timeoutSeconds: number;
  debug: boolean;
  token?: TokenProvider;
  /** Where debug lines go (stderr). */
  debugWrite?: (line: string) => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: Record<string, string | undefined>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** What a 404 means for this call: the guide's "Client not found" plus the reason line. */
  notFound?: { message: string; detail?: string };
}

/** Longest Retry-After (s) the CLI waits out by itself before giving up with exit code 1. */
export const MAX_RETRY_AFTER_SECONDS = 60;

const SECRET_KEYS = /^(access_token|refresh_token|id_token|device_code|client_secret|password|generated_password|new_password|token|client_assertion|previous_secret)$/i;

/** Replaces secret values in a JSON-like value (for debug output). */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) && typeof v === "string" && v ? maskValue(v, /password|secret/i.test(k)) : maskSecrets(v);
    return out;
  }
  return value;
}

/** Tokens keep 4 characters (enough to tell two apart); passwords and secrets keep none. */
function maskValue(v: string, full = false): string {
  return v.length > 12 && !full ? `${v.slice(0, 4)}…(${v.length} chars, masked)` : "****(masked)";
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly opts: ApiClientOptions;
  /** The last DPoP nonce the server gave (RFC 9449 §8). */
  private dpopNonce: string | undefined;

  constructor(opts: ApiClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  }

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, opts);
  }
  post<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, opts);
  }
  patch<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("PATCH", path, opts);
  }
  delete<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", path, opts);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const wantsAuth = opts.auth !== false;
    let token = wantsAuth && this.opts.token ? await this.opts.token(false) : undefined;
    if (wantsAuth && !token) throw notLoggedIn();
    let res = await this.send(method, path, opts, token);
    if (res.status === 401 && wantsAuth && this.opts.token) {
      // The access token may have been revoked or expired early: one refresh, one retry.
      const fresh = await this.opts.token(true).catch(() => undefined);
      if (fresh && fresh !== token) {
        token = fresh;
        res = await this.send(method, path, opts, token);
      }
    }
    // The admin API limits requests per minute: wait once for a short Retry-After (batch scripts).
    const retryAfter = Number(res.headers.get("retry-after"));
    if (res.status === 429 && retryAfter > 0 && retryAfter <= MAX_RETRY_AFTER_SECONDS) {
      process.stderr.write(`Rate limited by the admin API; retrying in ${retryAfter} s...\n`);
      await Bun.sleep(retryAfter * 1000);
      res = await this.send(method, path, opts, token);
    }
    return this.parse<T>(res, opts);
  }

  /** Raw call without error mapping (the token endpoint maps OAuth errors itself). */
  async send(method: string, path: string, opts: RequestOptions, token?: string): Promise<{ status: number; statusText: string; headers: Headers; body: unknown }> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "authly-cli" };
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) if (v !== undefined) form.set(k, v);
      body = form.toString();
    }
    const proof = this.opts.dpop ? await this.opts.dpop.proof(method, path.split("?")[0]!, token, this.dpopNonce) : undefined;
    if (proof) headers.DPoP = proof;
    // A DPoP-bound token (cnf.jkt) goes with the DPoP scheme and its proof (RFC 9449 §7.1).
    const scheme = token && proof && isDpopBound(token) ? "DPoP" : "Bearer";
    if (token) headers.Authorization = `${scheme} ${token}`;
    const debug = this.opts.debug ? this.opts.debugWrite ?? ((l: string) => process.stderr.write(l + "\n")) : undefined;
    if (debug) {
      debug(`→ ${method} ${url.toString()}`);
      for (const [k, v] of Object.entries(headers)) debug(`  ${k}: ${k === "Authorization" ? `${scheme} ${maskValue(token!)}` : k === "DPoP" ? maskValue(v) : v}`);
      if (opts.json !== undefined) debug(`  ${JSON.stringify(maskSecrets(opts.json))}`);
      else if (opts.form) debug(`  ${JSON.stringify(maskSecrets(Object.fromEntries(Object.entries(opts.form).filter(([, v]) => v !== undefined))))}`);
    }
    const started = performance.now();
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.opts.timeoutSeconds * 1000), redirect: "manual" });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      if (debug) debug(`← network error: ${e.message}`);
      if (e.name === "TimeoutError" || e.name === "AbortError") {
        throw new CliError(`The Authly admin API at ${this.baseUrl} did not answer within ${this.opts.timeoutSeconds} s`, ExitCode.general, "Check the server, or raise [api] timeout in ~/.authly/config.toml.");
      }
      throw new CliError(`Cannot reach the Authly admin API at ${this.baseUrl}`, ExitCode.general, `${e.code ? `${e.code}: ` : ""}Is the server running (\`authly serve\`)? Set the URL with --api-url, AUTHLY_ADMIN_API_URL or [api] url in ~/.authly/config.toml.`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text && (res.headers.get("content-type") ?? "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (debug) {
      debug(`← ${res.status} ${res.statusText} (${Math.round(performance.now() - started)} ms)`);
      if (text) debug(`  ${typeof parsed === "string" ? parsed.slice(0, 2000) : JSON.stringify(maskSecrets(parsed))}`);
    }
    // RFC 9449 §8: remember the server's nonce; a request refused for want of it is sent again once.
    const nonce = res.headers.get("dpop-nonce");
    if (nonce && this.opts.dpop) {
      const stale = nonce !== this.dpopNonce;
      this.dpopNonce = nonce;
      const wantsNonce = (parsed as { error?: string })?.error === "use_dpop_nonce" || /error="use_dpop_nonce"/.test(res.headers.get("www-authenticate") ?? "");
      if (wantsNonce && stale) return this.send(method, path, opts, token);
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, body: parsed };
  }

  private parse<T>(res: { status: number; statusText: string; headers: Headers; body: unknown }, opts: RequestOptions): T {
    if (res.status >= 200 && res.status < 300) return (res.body === "" ? {} : res.body) as T;
    throw toApiError(res.status, res.body, res.headers, opts.notFound);
  }
}

/** Whether an access token (a JWT) is DPoP-bound: its cnf.jkt (RFC 9449 §6.1). */
function isDpopBound(token: string): boolean {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { cnf?: { jkt?: unknown } };
    return typeof claims?.cnf?.jkt === "string";
  } catch {
    return false;
  }
}

export function notLoggedIn(): CliError {
  return new CliError("Not logged in", ExitCode.auth, "Run `authly admin auth login` first.");
}

/** Maps an HTTP failure to the guide's exit codes: 401→2, 403→3, 404→4, 400/409/422→5, else 1. */
export function toApiError(status: number, raw: unknown, headers: Headers, notFound?: { message: string; detail?: string }): ApiError {
  const body: ApiErrorBody = raw && typeof raw === "object" ? (raw as ApiErrorBody) : {};
  const desc = body.error_description ?? (typeof raw === "string" && raw && raw.length < 300 ? raw : undefined);
  const fields = body.fields?.length ? body.fields.map((f) => `  ${f.field}: ${f.message}`).join("\n") : undefined;
  switch (status) {
    case 401:
      return new ApiError("Authentication failed", ExitCode.auth, status, body, `${desc ? `${desc}. ` : ""}Your session has expired or was revoked: run \`authly admin auth login\`.`);
    case 403:
      if (desc && /password must be changed/i.test(desc)) {
        return new ApiError("Permission denied: your password is temporary", ExitCode.permission, status, body, "Run `authly admin auth change-password` first (in a script: `authly admin auth change-password --current-password \"$OLD\" --new-password \"$NEW\"`).");
      }
      return new ApiError("Permission denied", ExitCode.permission, status, body, desc ?? "Your account lacks the admin scope this command needs, or the admin API refuses this address.");
    case 404:
      return new ApiError(notFound?.message ?? "Not found", ExitCode.notFound, status, body, notFound?.detail ?? desc);
    case 400:
    case 409:
    case 422: {
      const next = nextSteps(status, desc, body.fields);
      const detail = [fields, ...next].filter(Boolean).join("\n") || undefined;
      return new ApiError(desc ?? (status === 409 ? "Conflict" : "Validation failed"), ExitCode.validation, status, body, detail);
    }
    case 429: {
      const retry = headers.get("retry-after");
      return new ApiError("Too many requests", ExitCode.general, status, body, retry ? `The admin API rate limit was reached; retry in ${retry} s.` : "The admin API rate limit was reached; retry later.");
    }
    default:
      return new ApiError(`The server answered ${status}${desc ? `: ${desc}` : ""}`, ExitCode.general, status, body, body.error ? `error: ${body.error}` : undefined);
  }
}
