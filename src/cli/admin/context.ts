// What every admin command starts from: the validated configuration (AUTHLY_MODE=cli unless set),
// config.toml, the token store, and an API client whose bearer token refreshes itself before it
// expires (first-party login of docs/contracts.md: client authly-cli, password + refresh_token).
import { join } from "node:path";
import { loadConfig, readEnv, processEnv, type Config } from "../../config";
import { CliError, ExitCode } from "../../errors";
import { describeMode } from "../../modes";
import { ApiClient, notLoggedIn, toApiError, type DpopSigner } from "../api-client";
import { createDpopProof, exportDpopKey, generateDpopKey, importDpopKey, type DpopKey } from "../../lib/dpop-proof";
import { loadSettings, type CliSettings } from "../config-file";
import { TokenStore, type Tokens } from "../token-storage";
import type { OutputFormat } from "../output";

// The same constants as the server's (pure model modules: no server code is loaded).
import { CLI_CLIENT_ID as CLI_CLIENT } from "../../clients/model";
import { ADMIN_SCOPES } from "../../scopes/model";
import { base64urlJsonObject } from "../../lib/text";
export { ADMIN_SCOPES, CLI_CLIENT };

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_SECONDS = 60;

export interface AdminContext {
  config: Config;
  settings: CliSettings;
  store: TokenStore;
  apiUrl: string;
  /** Where the URL came from, for `auth info`. */
  apiUrlSource: string;
  api: ApiClient;
  format(arg: string | undefined): OutputFormat;
  /** The stored login (refreshed when due and auto_refresh is on). */
  tokens(): Tokens | undefined;
  /** Stores a new login (and uses it from now on in this process). */
  saveTokens(t: Tokens): void;
  refresh(): Promise<Tokens>;
  /** Before a login: a fresh DPoP key (RFC 9449) and the server's issuer, when the server supports
   *  DPoP; the login's proofs use them and tokensFrom stores them with the tokens. */
  prepareDpop(): Promise<Pick<Tokens, "dpop_key" | "issuer">>;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  token_type?: string;
}

export function createContext(opts: { apiUrl?: string } = {}): AdminContext {
  const config = loadConfig(processEnv(), { purpose: "cli", impliedMode: "cli" });
  const settings = loadSettings(config.configDir);
  const store = new TokenStore({ file: settings.auth.tokenFile ?? join(config.configDir, "tokens.json"), configDir: config.configDir, mode: config.tokenStorage });
  let cached: Tokens | undefined | null = null;
  const readTokens = () => {
    if (cached === null) cached = store.read();
    return cached;
  };
  const envUrl = readEnv("AUTHLY_ADMIN_API_URL");
  let apiUrl: string;
  let apiUrlSource: string;
  if (opts.apiUrl) {
    if (!/^https?:\/\/\S+$/.test(opts.apiUrl)) throw new CliError(`--api-url must be an http:// or https:// URL`, ExitCode.validation);
    [apiUrl, apiUrlSource] = [opts.apiUrl, "--api-url"];
  } else if (envUrl) [apiUrl, apiUrlSource] = [envUrl, "AUTHLY_ADMIN_API_URL"];
  else {
    let stored: string | undefined;
    try {
      stored = readTokens()?.api_url;
    } catch {
      stored = undefined;
    }
    if (stored) [apiUrl, apiUrlSource] = [stored, "login (tokens.json)"];
    else if (settings.api.url) [apiUrl, apiUrlSource] = [settings.api.url, "config.toml [api] url"];
    else [apiUrl, apiUrlSource] = [config.adminApiUrl, "default"];
  }
  apiUrl = apiUrl.replace(/\/+$/, "");
  if (config.logLevel === "debug" || config.logLevel === "trace") {
    // AUTHLY_LOG_LEVEL=debug: how this command was set up (the guide's resource-mode debugging).
    const lines = [
      `resource mode: ${describeMode(config.mode)}`,
      `config file: ${settings.file ?? "none (defaults)"}`,
      `API URL: ${apiUrl} (from ${apiUrlSource}), timeout ${settings.api.timeout} s`,
      `token file: ${store.file} (${store.exists() ? "present" : "absent"}), auto refresh ${settings.auth.autoRefresh ? "on" : "off"}`,
    ];
    for (const l of lines) process.stderr.write(`[debug] ${l}\n`);
  }

  // DPoP (RFC 9449): the CLI's tokens are bound to a key kept with them. During a login, the key
  // made for it; afterwards, the stored one (imported once per process).
  let loginDpop: { key: DpopKey; issuer: string } | undefined;
  let imported: { raw: string; key: DpopKey } | undefined;
  const dpopKey = async (): Promise<{ key: DpopKey; issuer: string } | undefined> => {
    if (loginDpop) return loginDpop;
    let t: Tokens | undefined;
    try {
      t = readTokens();
    } catch {
      return undefined;
    }
    if (!t?.dpop_key || !t.issuer) return undefined;
    if (imported?.raw !== t.dpop_key) imported = { raw: t.dpop_key, key: await importDpopKey(JSON.parse(t.dpop_key)) };
    return { key: imported.key, issuer: t.issuer };
  };
  const dpop: DpopSigner = {
    async proof(method, path, accessToken, nonce) {
      const k = await dpopKey();
      if (!k) return undefined;
      return createDpopProof(k.key, { htm: method, htu: `${k.issuer.replace(/\/+$/, "")}${path}`, accessToken, nonce });
    },
  };
  const prepareDpop = async (): Promise<Pick<Tokens, "dpop_key" | "issuer">> => {
    loginDpop = undefined;
    const probe = new ApiClient({ baseUrl: apiUrl, timeoutSeconds: settings.api.timeout, debug: config.debugHttp });
    const res = await probe.send("GET", "/.well-known/oauth-authorization-server", {}).catch(() => undefined);
    const meta = (res?.status === 200 ? res.body : undefined) as { issuer?: unknown; dpop_signing_alg_values_supported?: unknown } | undefined;
    const algs = Array.isArray(meta?.dpop_signing_alg_values_supported) ? meta!.dpop_signing_alg_values_supported : [];
    if (typeof meta?.issuer !== "string") return {};
    const alg = algs.includes("EdDSA") ? "EdDSA" : algs.includes("ES256") ? "ES256" : undefined;
    if (!alg) return {};
    const key = await generateDpopKey(alg);
    loginDpop = { key, issuer: meta.issuer };
    return { dpop_key: JSON.stringify(await exportDpopKey(key)), issuer: meta.issuer };
  };

  const refresh = async (): Promise<Tokens> =>
    store.withLock(async () => {
      // Another process may have refreshed while we waited for the lock.
      cached = null;
      const before = readTokens();
      if (!before) throw new CliError("Not logged in", ExitCode.auth, "Run `authly admin auth login` first.");
      if (before.access_token !== seenAccess && seenAccess !== undefined && !isDue(before)) {
        seenAccess = before.access_token;
        return before;
      }
      if (!before.refresh_token) throw new CliError("Session expired", ExitCode.auth, "No refresh token is stored: run `authly admin auth login`.");
      // The refresh token goes back only to the server that issued it.
      const issuer = new ApiClient({ baseUrl: before.api_url || apiUrl, timeoutSeconds: settings.api.timeout, debug: config.debugHttp, dpop });
      const res = await issuer.send("POST", "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: before.refresh_token, client_id: CLI_CLIENT } });
      if (res.status !== 200) {
        const body = (res.body ?? {}) as { error?: string };
        if (res.status === 400 || res.status === 401) {
          throw new CliError("Session expired", ExitCode.auth, `The server refused the refresh token (${body.error ?? res.status}). Run \`authly admin auth login\`.`);
        }
        throw toApiError(res.status, res.body, res.headers);
      }
      const next = tokensFrom(res.body as TokenResponse, { api_url: before.api_url, username: before.username, previous: before });
      store.write(next, { keep: true });
      cached = next;
      seenAccess = next.access_token;
      return next;
    });

  /** The stored login is for another URL. Two different problems, told apart by asking the
   *  requested URL (without the token): nothing answers there, or it answers and needs its own login. */
  const otherLogin = async (loginUrl: string): Promise<CliError> => {
    const probe = new ApiClient({ baseUrl: apiUrl, timeoutSeconds: settings.api.timeout, debug: config.debugHttp });
    try {
      await probe.send("GET", "/health/live", {});
    } catch (err) {
      if (err instanceof CliError) return new CliError(err.message, err.exitCode, `${err.detail ? `${err.detail}\n` : ""}(Your stored login is for ${loginUrl}, another URL: once this server runs, log in to it with \`authly admin auth login --api-url ${apiUrl}\`.)`);
      throw err;
    }
    return new CliError(
      `Logged in to ${loginUrl}, not to ${apiUrl}`,
      ExitCode.auth,
      `Your stored login is for ${loginUrl}. Log in to this URL with \`authly admin auth login --api-url ${apiUrl}\`, or use the stored login with --api-url ${loginUrl}.\nTokens are never sent to another URL, even one naming the same machine (localhost and 127.0.0.1 differ).`,
    );
  };

  let seenAccess: string | undefined;
  const api = new ApiClient({
    baseUrl: apiUrl,
    timeoutSeconds: settings.api.timeout,
    debug: config.debugHttp,
    dpop,
    token: async (force) => {
      const t = readTokens();
      if (!t) return undefined;
      // A bearer token goes only to the server that issued it.
      if (t.api_url && t.api_url.replace(/\/+$/, "") !== apiUrl) throw await otherLogin(t.api_url);
      seenAccess ??= t.access_token;
      if (force || (settings.auth.autoRefresh && isDue(t) && t.refresh_token)) {
        if (!t.refresh_token) return undefined;
        return (await refresh()).access_token;
      }
      return t.access_token;
    },
  });

  return {
    config,
    settings,
    store,
    apiUrl,
    apiUrlSource,
    api,
    format: (arg) => (arg === "json" || arg === "table" ? arg : settings.output.defaultFormat),
    tokens: readTokens,
    saveTokens: (t) => {
      store.write(t);
      cached = t;
      seenAccess = t.access_token;
      loginDpop = undefined;
    },
    refresh,
    prepareDpop,
  };
}

/** The stored login, or exit code 2 ("Not logged in"). */
export function requireTokens(ctx: AdminContext): Tokens {
  const t = ctx.tokens();
  if (!t) throw notLoggedIn();
  return t;
}

function isDue(t: Tokens): boolean {
  return Date.parse(t.expires_at) - Date.now() < REFRESH_MARGIN_SECONDS * 1000;
}

export function tokensFrom(res: TokenResponse, ctx: { api_url: string; username: string; previous?: Tokens; dpop_key?: string; issuer?: string }): Tokens {
  const now = Date.now();
  return {
    access_token: res.access_token,
    // A server that does not rotate refresh tokens keeps the old one valid.
    refresh_token: res.refresh_token ?? ctx.previous?.refresh_token,
    token_type: res.token_type ?? "Bearer",
    scope: res.scope ?? ctx.previous?.scope ?? "",
    expires_at: new Date(now + (res.expires_in ?? 3600) * 1000).toISOString(),
    obtained_at: new Date(now).toISOString(),
    api_url: ctx.api_url,
    username: ctx.username,
    ...(res.token_type === "DPoP" && (ctx.dpop_key ?? ctx.previous?.dpop_key) ? { dpop_key: ctx.dpop_key ?? ctx.previous?.dpop_key, issuer: ctx.issuer ?? ctx.previous?.issuer } : {}),
  };
}

/** The payload of a JWT, unverified (display only: expiry, subject, scopes). */
export function decodeJwt(token: string): Record<string, unknown> | undefined {
  const part = token.split(".")[1];
  return part ? base64urlJsonObject(part) : undefined;
}
