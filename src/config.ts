// The only reader of process.env: environment -> validated Config (TypeBox). Every problem is
// collected and reported at once; secret values never appear in a message.
import { Type as t, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ConfigError } from "./errors";
import { detectMode, MODE_NAMES, parseMode, type Mode, type ModeInfo } from "./modes";

const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"] as const;
const ALGS = ["RS256", "ES256", "EdDSA"] as const;

export const Config = t.Object({
  databaseUrl: t.Optional(t.String({ pattern: "^postgres(ql)?://" })),
  jwtSecretKey: t.Optional(t.String({ minLength: 32 })),
  jwtRefreshSecretKey: t.Optional(t.String({ minLength: 32 })),
  host: t.String({ minLength: 1 }),
  port: t.Integer({ minimum: 0, maximum: 65535 }),
  issuer: t.String({ pattern: "^https?://[^#?]+$" }),
  devMode: t.Boolean(),
  logLevel: t.Union(LOG_LEVELS.map((l) => t.Literal(l))),
  accessLog: t.Boolean(),
  debugHttp: t.Boolean(),
  adminApiEnabled: t.Boolean(),
  adminApiUrl: t.String({ pattern: "^https?://" }),
  adminApiLocalhostOnly: t.Boolean(),
  adminApiAllowedIps: t.Array(t.String()),
  adminRateLimitPerMinute: t.Integer({ minimum: 1 }),
  /** Authorization requests that open a login/consent interaction, and login/consent form posts
   *  (each its own count), per source address and minute. */
  authorizeRateLimitPerMinute: t.Integer({ minimum: 1 }),
  autoMigrate: t.Boolean(),
  bootstrapEnabled: t.Boolean(),
  adminUsername: t.String({ minLength: 1 }),
  adminPassword: t.Optional(t.String({ minLength: 8 })),
  adminEmail: t.Optional(t.String()),
  dataDir: t.String({ minLength: 1 }),
  embeddedEngine: t.Union([t.Literal("pglite"), t.Literal("container")]),
  accessTokenTtl: t.Integer({ minimum: 30, maximum: 86400 }),
  refreshTokenTtl: t.Integer({ minimum: 60 }),
  refreshGrantMaxLifetime: t.Integer({ minimum: 60 }),
  authCodeTtl: t.Integer({ minimum: 10, maximum: 600 }),
  /** RFC 8628 §3.2: lifetime of a device code and its user code (expires_in). */
  deviceCodeTtl: t.Integer({ minimum: 60, maximum: 3600 }),
  /** RFC 8628 §3.2: the minimum polling interval a device starts with (slow_down adds 5 s). */
  devicePollInterval: t.Integer({ minimum: 1, maximum: 60 }),
  /** User code lookups on the verification page per source address and minute, and in all. */
  deviceUserCodeRateLimitPerMinute: t.Integer({ minimum: 1 }),
  deviceUserCodeGlobalRateLimitPerMinute: t.Integer({ minimum: 1 }),
  idTokenTtl: t.Integer({ minimum: 30, maximum: 86400 }),
  accessTokenAlg: t.Union(ALGS.map((a) => t.Literal(a))),
  idTokenAlg: t.Union(ALGS.map((a) => t.Literal(a))),
  keyRotationIntervalDays: t.Integer({ minimum: 0 }),
  sessionIdleTtl: t.Integer({ minimum: 60 }),
  sessionAbsoluteTtl: t.Integer({ minimum: 60 }),
  passwordMemoryCost: t.Integer({ minimum: 8192 }),
  passwordTimeCost: t.Integer({ minimum: 1 }),
  loginMaxFailures: t.Integer({ minimum: 1 }),
  loginLockoutSeconds: t.Integer({ minimum: 1 }),
  trustedProxies: t.Array(t.String()),
  maxBodyBytes: t.Integer({ minimum: 1024 }),
  purgeIntervalSeconds: t.Integer({ minimum: 0 }),
  metricsToken: t.Optional(t.String({ minLength: 16 })),
  shutdownGraceSeconds: t.Integer({ minimum: 0, maximum: 600 }),
  /** 0 = the mode's connect timeout. */
  // At most 240: the listener's idle timeout (Bun caps it at 255 s) must outlast the deadline (http/deadline.ts).
  requestTimeoutSeconds: t.Integer({ minimum: 0, maximum: 240 }),
  workerHeartbeatSeconds: t.Integer({ minimum: 0, maximum: 3600 }),
  /** The oldest a cached client record may be (clients/cache.ts); 0 = no cache. */
  clientCacheSeconds: t.Integer({ minimum: 0, maximum: 3600 }),
  /** Helper threads per process for signatures (lib/crypto-threads.ts); 0 = on the event loop. */
  cryptoThreads: t.Integer({ minimum: 0, maximum: 64 }),
  configDir: t.String({ minLength: 1 }),
  tokenStorage: t.Union([t.Literal("auto"), t.Literal("keyring"), t.Literal("file")]),
  /** Dynamic client registration (RFC 7591): closed, with initial access tokens, or open. */
  registration: t.Union([t.Literal("closed"), t.Literal("token"), t.Literal("open")]),
  /** Open registrations per source address and minute. */
  registrationRateLimitPerMinute: t.Integer({ minimum: 1 }),
  /** Client ID metadata documents: an https client_id is resolved by fetching it. */
  clientIdMetadataDocuments: t.Boolean(),
  /** The MFA policy of clients that set none (src/authn/model.ts). */
  mfaPolicy: t.Union([t.Literal("off"), t.Literal("optional"), t.Literal("required")]),
  /** Administrators always need a second factor (default: true in production mode). */
  adminRequireMfa: t.Boolean(),
  /** RFC 9126 §5: every client must use pushed authorization requests (besides per-client). */
  requirePar: t.Boolean(),
  /** RFC 9126 §2.2: lifetime of a pushed request's request_uri (expires_in), in seconds. */
  parTtl: t.Integer({ minimum: 10, maximum: 600 }),
  /** RFC 9449 §8: DPoP proofs must carry a server nonce (use_dpop_nonce + DPoP-Nonce). */
  dpopNonce: t.Boolean(),
  /** FAPI 2.0 Security Profile for every client ("none": per client only). */
  fapiProfile: t.Union([t.Literal("none"), t.Literal("fapi2-security")]),
  smtpUrl: t.Optional(t.String({ pattern: "^smtps?://" })),
  mailFrom: t.Optional(t.String({ pattern: "^[^\\s@<>]+@[^\\s@<>]+$" })),
  mailRetrySeconds: t.Integer({ minimum: 1, maximum: 3600 }),
  mailMaxAttempts: t.Integer({ minimum: 1, maximum: 100 }),
  /** Self sign-up (issue 17): off, open to anyone, or by invite links only. */
  signup: t.Union([t.Literal("off"), t.Literal("open"), t.Literal("invite")]),
  /** An open sign-up creates the account only once its address is confirmed by mail. */
  signupRequireVerifiedEmail: t.Boolean(),
  /** Sign-up form posts per source address and hour. */
  signupRateLimitPerHour: t.Integer({ minimum: 1 }),
});
export type Config = Static<typeof Config> & { mode: ModeInfo };

type Env = Record<string, string | undefined>;

interface Field {
  env: string;
  key: keyof Static<typeof Config>;
  kind: "string" | "int" | "bool" | "list";
  secret?: boolean;
  default?: (env: Env, partial: Record<string, unknown>) => unknown;
}

const FIELDS: Field[] = [
  { env: "DATABASE_URL", key: "databaseUrl", kind: "string", secret: true },
  { env: "JWT_SECRET_KEY", key: "jwtSecretKey", kind: "string", secret: true },
  { env: "JWT_REFRESH_SECRET_KEY", key: "jwtRefreshSecretKey", kind: "string", secret: true },
  { env: "AUTHLY_HOST", key: "host", kind: "string", default: () => "0.0.0.0" },
  { env: "AUTHLY_PORT", key: "port", kind: "int", default: () => 8000 },
  { env: "AUTHLY_DEV_MODE", key: "devMode", kind: "bool", default: () => false },
  { env: "AUTHLY_LOG_LEVEL", key: "logLevel", kind: "string", default: () => "info" },
  { env: "AUTHLY_ACCESS_LOG", key: "accessLog", kind: "bool", default: () => true },
  { env: "AUTHLY_DEBUG_HTTP", key: "debugHttp", kind: "bool", default: () => false },
  { env: "AUTHLY_ADMIN_API_ENABLED", key: "adminApiEnabled", kind: "bool", default: () => true },
  { env: "AUTHLY_ADMIN_API_URL", key: "adminApiUrl", kind: "string", default: () => "http://localhost:8000" },
  { env: "AUTHLY_ADMIN_API_LOCALHOST_ONLY", key: "adminApiLocalhostOnly", kind: "bool", default: () => true },
  { env: "AUTHLY_ADMIN_API_ALLOWED_IPS", key: "adminApiAllowedIps", kind: "list", default: () => [] },
  { env: "AUTHLY_ADMIN_RATE_LIMIT", key: "adminRateLimitPerMinute", kind: "int", default: () => 60 },
  { env: "AUTHLY_AUTHORIZE_RATE_LIMIT", key: "authorizeRateLimitPerMinute", kind: "int", default: () => 120 },
  { env: "AUTHLY_AUTO_MIGRATE", key: "autoMigrate", kind: "bool", default: () => false },
  { env: "AUTHLY_BOOTSTRAP_ENABLED", key: "bootstrapEnabled", kind: "bool", default: () => true },
  { env: "AUTHLY_ADMIN_USERNAME", key: "adminUsername", kind: "string", default: () => "admin" },
  { env: "AUTHLY_ADMIN_PASSWORD", key: "adminPassword", kind: "string", secret: true },
  { env: "AUTHLY_ADMIN_EMAIL", key: "adminEmail", kind: "string" },
  { env: "AUTHLY_DATA_DIR", key: "dataDir", kind: "string", default: (env) => `${env.HOME ?? "."}/.authly/embedded` },
  { env: "AUTHLY_EMBEDDED_ENGINE", key: "embeddedEngine", kind: "string", default: () => "pglite" },
  { env: "AUTHLY_ACCESS_TOKEN_TTL", key: "accessTokenTtl", kind: "int", default: () => 3600 },
  { env: "AUTHLY_REFRESH_TOKEN_TTL", key: "refreshTokenTtl", kind: "int", default: () => 30 * 86400 },
  { env: "AUTHLY_REFRESH_GRANT_MAX_LIFETIME", key: "refreshGrantMaxLifetime", kind: "int", default: () => 90 * 86400 },
  { env: "AUTHLY_AUTH_CODE_TTL", key: "authCodeTtl", kind: "int", default: () => 60 },
  { env: "AUTHLY_DEVICE_CODE_TTL", key: "deviceCodeTtl", kind: "int", default: () => 600 },
  { env: "AUTHLY_DEVICE_POLL_INTERVAL", key: "devicePollInterval", kind: "int", default: () => 5 },
  { env: "AUTHLY_DEVICE_USER_CODE_RATE_LIMIT", key: "deviceUserCodeRateLimitPerMinute", kind: "int", default: () => 20 },
  { env: "AUTHLY_DEVICE_USER_CODE_GLOBAL_RATE_LIMIT", key: "deviceUserCodeGlobalRateLimitPerMinute", kind: "int", default: () => 600 },
  { env: "AUTHLY_ID_TOKEN_TTL", key: "idTokenTtl", kind: "int", default: () => 3600 },
  { env: "AUTHLY_ACCESS_TOKEN_ALG", key: "accessTokenAlg", kind: "string", default: () => "ES256" },
  { env: "AUTHLY_ID_TOKEN_ALG", key: "idTokenAlg", kind: "string", default: () => "RS256" },
  { env: "AUTHLY_KEY_ROTATION_INTERVAL_DAYS", key: "keyRotationIntervalDays", kind: "int", default: () => 0 },
  { env: "AUTHLY_SESSION_IDLE_TTL", key: "sessionIdleTtl", kind: "int", default: () => 8 * 3600 },
  { env: "AUTHLY_SESSION_ABSOLUTE_TTL", key: "sessionAbsoluteTtl", kind: "int", default: () => 7 * 86400 },
  { env: "AUTHLY_PASSWORD_MEMORY_COST", key: "passwordMemoryCost", kind: "int", default: () => 19456 },
  { env: "AUTHLY_PASSWORD_TIME_COST", key: "passwordTimeCost", kind: "int", default: () => 2 },
  { env: "AUTHLY_LOGIN_MAX_FAILURES", key: "loginMaxFailures", kind: "int", default: () => 5 },
  { env: "AUTHLY_LOGIN_LOCKOUT_SECONDS", key: "loginLockoutSeconds", kind: "int", default: () => 900 },
  { env: "AUTHLY_TRUSTED_PROXIES", key: "trustedProxies", kind: "list", default: () => [] },
  { env: "AUTHLY_MAX_BODY_BYTES", key: "maxBodyBytes", kind: "int", default: () => 64 * 1024 },
  { env: "AUTHLY_PURGE_INTERVAL_SECONDS", key: "purgeIntervalSeconds", kind: "int", default: () => 300 },
  { env: "AUTHLY_METRICS_TOKEN", key: "metricsToken", kind: "string", secret: true },
  { env: "AUTHLY_SHUTDOWN_GRACE_SECONDS", key: "shutdownGraceSeconds", kind: "int", default: () => 10 },
  { env: "AUTHLY_REQUEST_TIMEOUT_SECONDS", key: "requestTimeoutSeconds", kind: "int", default: () => 0 },
  { env: "AUTHLY_WORKER_HEARTBEAT_SECONDS", key: "workerHeartbeatSeconds", kind: "int", default: () => 30 },
  { env: "AUTHLY_CLIENT_CACHE_SECONDS", key: "clientCacheSeconds", kind: "int", default: () => 10 },
  { env: "AUTHLY_CRYPTO_THREADS", key: "cryptoThreads", kind: "int", default: () => 1 },
  { env: "AUTHLY_CONFIG_DIR", key: "configDir", kind: "string", default: (env) => `${env.HOME ?? "."}/.authly` },
  { env: "AUTHLY_TOKEN_STORAGE", key: "tokenStorage", kind: "string", default: () => "auto" },
  { env: "AUTHLY_REGISTRATION", key: "registration", kind: "string", default: (_env, p) => (p.devMode ? "open" : "closed") },
  { env: "AUTHLY_REGISTRATION_RATE_LIMIT", key: "registrationRateLimitPerMinute", kind: "int", default: () => 10 },
  { env: "AUTHLY_CLIENT_ID_METADATA_DOCUMENTS", key: "clientIdMetadataDocuments", kind: "bool", default: (_env, p) => p.devMode === true },
  { env: "AUTHLY_MFA_POLICY", key: "mfaPolicy", kind: "string", default: () => "optional" },
  // Its default depends on the mode: filled in after the loop (production: true).
  { env: "AUTHLY_ADMIN_REQUIRE_MFA", key: "adminRequireMfa", kind: "bool" },
  { env: "AUTHLY_REQUIRE_PAR", key: "requirePar", kind: "bool", default: () => false },
  { env: "AUTHLY_PAR_TTL", key: "parTtl", kind: "int", default: () => 60 },
  { env: "AUTHLY_DPOP_NONCE", key: "dpopNonce", kind: "bool", default: () => false },
  { env: "AUTHLY_FAPI_PROFILE", key: "fapiProfile", kind: "string", default: () => "none" },
  { env: "AUTHLY_SMTP_URL", key: "smtpUrl", kind: "string", secret: true },
  { env: "AUTHLY_MAIL_FROM", key: "mailFrom", kind: "string" },
  { env: "AUTHLY_MAIL_RETRY_SECONDS", key: "mailRetrySeconds", kind: "int", default: () => 30 },
  { env: "AUTHLY_MAIL_MAX_ATTEMPTS", key: "mailMaxAttempts", kind: "int", default: () => 8 },
  { env: "AUTHLY_SIGNUP", key: "signup", kind: "string", default: () => "off" },
  { env: "AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL", key: "signupRequireVerifiedEmail", kind: "bool", default: () => true },
  { env: "AUTHLY_SIGNUP_RATE_LIMIT", key: "signupRateLimitPerHour", kind: "int", default: () => 10 },
  // Derived last: needs host and port.
  { env: "AUTHLY_ISSUER", key: "issuer", kind: "string", default: (_env, p) => defaultIssuer(String(p.host), Number(p.port)) },
];

function defaultIssuer(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

export interface LoadOptions {
  /** What the caller needs: the server needs a database and secrets, the CLI does not. */
  purpose: "server" | "cli" | "migrate";
  /** Mode implied by the command (admin -> cli, serve --embedded -> embedded). */
  impliedMode?: Mode;
  /** Values from command-line flags; they win over the environment. */
  overrides?: Partial<Record<keyof Static<typeof Config>, unknown>>;
  /** The embedded engine supplies its own DATABASE_URL and generated secrets. */
  embedded?: boolean;
}

/** Reads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env, opts: LoadOptions = { purpose: "server" }): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const rawMode = env.AUTHLY_MODE;
  if (rawMode !== undefined && rawMode !== "" && !parseMode(rawMode)) {
    problems.push(`AUTHLY_MODE: '${rawMode}' is not a mode (one of: ${MODE_NAMES.join(", ")})`);
  }
  for (const f of FIELDS) {
    const override = opts.overrides?.[f.key];
    const raw = env[f.env];
    if (override !== undefined) {
      out[f.key] = override;
      continue;
    }
    if (raw === undefined || raw === "") {
      if (f.default) out[f.key] = f.default(env, out);
      continue;
    }
    const shown = f.secret ? "(value hidden)" : `'${raw}'`;
    switch (f.kind) {
      case "string":
        // The guide writes AUTHLY_LOG_LEVEL=DEBUG: level names are case-insensitive.
        out[f.key] = f.key === "logLevel" ? raw.trim().toLowerCase() : raw;
        break;
      case "int": {
        if (!/^-?\d+$/.test(raw.trim())) problems.push(`${f.env}: ${shown} is not a whole number`);
        else out[f.key] = Number.parseInt(raw, 10);
        break;
      }
      case "bool": {
        const v = raw.trim().toLowerCase();
        if (TRUE.has(v)) out[f.key] = true;
        else if (FALSE.has(v)) out[f.key] = false;
        else problems.push(`${f.env}: ${shown} is not true or false`);
        break;
      }
      case "list":
        out[f.key] = raw.split(",").map((s) => s.trim()).filter(Boolean);
        break;
    }
  }
  if (out.adminRequireMfa === undefined) out.adminRequireMfa = detectMode(parseMode(rawMode) ? rawMode : undefined, opts.impliedMode).mode === "production";
  const byKey = new Map(FIELDS.map((f) => [`/${f.key}`, f]));
  for (const err of Value.Errors(Config, out)) {
    const f = byKey.get(err.path);
    if (!f) continue;
    if (problems.some((p) => p.startsWith(`${f.env}:`))) continue;
    const val = out[f.key];
    const shown = f.secret ? "(value hidden)" : `'${String(val)}'`;
    problems.push(`${f.env}: ${shown} ${describeSchemaError(f, err.message)}`);
  }
  if (opts.purpose !== "cli" && !opts.embedded) {
    if (!out.databaseUrl) problems.push("DATABASE_URL: required (postgresql://user:pass@host:5432/db), or run `authly serve --embedded`");
  }
  if (opts.purpose === "server" && !opts.embedded) {
    if (!out.jwtSecretKey) problems.push("JWT_SECRET_KEY: required, at least 32 characters (e.g. `openssl rand -base64 48`)");
    if (!out.jwtRefreshSecretKey) problems.push("JWT_REFRESH_SECRET_KEY: required, at least 32 characters, different from JWT_SECRET_KEY");
  }
  if (out.jwtSecretKey && out.jwtSecretKey === out.jwtRefreshSecretKey) {
    problems.push("JWT_REFRESH_SECRET_KEY: must differ from JWT_SECRET_KEY");
  }
  if (out.smtpUrl && !problems.some((p) => p.startsWith("AUTHLY_SMTP_URL:"))) problems.push(...checkSmtpUrl(String(out.smtpUrl)));
  if (out.smtpUrl && !out.mailFrom) problems.push("AUTHLY_MAIL_FROM: required with AUTHLY_SMTP_URL (the sender address, e.g. authly@example.com)");
  if (problems.length) throw new ConfigError(problems);
  const mode = detectMode(rawMode || undefined, opts.impliedMode);
  return { ...(out as Static<typeof Config>), mode };
}

/** AUTHLY_SMTP_URL: smtp:// (STARTTLS required) or smtps:// (TLS from the start); `?tls=off`
 *  (plain text) only towards a loopback host. Problems never show the URL (it may hold a password). */
function checkSmtpUrl(raw: string): string[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return ["AUTHLY_SMTP_URL: (value hidden) is not a URL (smtp://user:pass@host:587 or smtps://host:465)"];
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") return ["AUTHLY_SMTP_URL: (value hidden) must start with smtp:// or smtps://"];
  if (!u.hostname) return ["AUTHLY_SMTP_URL: (value hidden) has no host"];
  const unknown = [...u.searchParams.keys()].filter((k) => k !== "tls");
  if (unknown.length) return [`AUTHLY_SMTP_URL: unknown parameter(s) ${unknown.join(", ")} (only tls=off)`];
  const tls = u.searchParams.get("tls");
  if (tls !== null && tls !== "off") return ["AUTHLY_SMTP_URL: tls must be 'off' when given"];
  if (tls === "off") {
    if (u.protocol === "smtps:") return ["AUTHLY_SMTP_URL: tls=off contradicts smtps://"];
    const h = u.hostname.replace(/^\[|\]$/g, "");
    if (!(h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h))) return ["AUTHLY_SMTP_URL: tls=off (no STARTTLS) is allowed only for a loopback host"];
  }
  return [];
}

function describeSchemaError(f: Field, message: string): string {
  if (f.key === "logLevel") return `is not a log level (one of: ${LOG_LEVELS.join(", ")})`;
  if (f.key === "accessTokenAlg" || f.key === "idTokenAlg") return `is not a supported algorithm (one of: ${ALGS.join(", ")})`;
  if (f.key === "embeddedEngine") return "is not an engine (pglite or container)";
  if (f.key === "tokenStorage") return "is not a token storage (auto, keyring or file)";
  if (f.key === "registration") return "is not a registration mode (closed, token or open)";
  if (f.key === "signup") return "is not a sign-up mode (off, open or invite)";
  if (f.key === "fapiProfile") return "is not a FAPI profile (none or fapi2-security)";
  if (f.key === "mfaPolicy") return "is not an MFA policy (off, optional or required)";
  if (f.key === "databaseUrl") return "is not a postgresql:// URL";
  if (f.key === "smtpUrl") return "must start with smtp:// or smtps://";
  if (f.key === "mailFrom") return "is not an email address";
  return message.toLowerCase();
}

/** For `auth info`: which of the guide's variables are set, without their values. */
export function describeEnvironment(env: Env = process.env): Record<string, string> {
  const shown: Record<string, string> = { AUTHLY_MODE: env.AUTHLY_MODE || "(not set)" };
  for (const name of ["DATABASE_URL", "JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY"]) shown[name] = env[name] ? "set" : "not set";
  return shown;
}

/** Reads one raw variable for places that run before the config exists (CLI paths, home). */
export function readEnv(name: string): string | undefined {
  const v = process.env[name];
  return v === "" ? undefined : v;
}

/** The whole environment: for loadConfig, and for handing it on to child processes. */
export function processEnv(): Env {
  return process.env;
}
