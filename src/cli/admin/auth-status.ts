// `authly admin auth whoami|status|info`: what the CLI knows about its login, the API and itself.
import { describeEnvironment } from "../../config";
import { CliError, ExitCode } from "../../errors";
import { describeMode } from "../../modes";
import { VERSION } from "../../version";
import { formatUtc, printFields, printJson, success } from "../output";
import type { Me } from "./auth-password";
import { CLI_CLIENT, createContext, decodeJwt, requireTokens } from "./context";
import { apiUrlArgs, defineAdminCommand, helpText, outputArgs } from "./shared";

function shortToken(t: string | undefined): string {
  return t ? `${t.slice(0, 20)}...` : "-";
}


export const whoami = defineAdminCommand({
  meta: { name: "whoami", description: "Show current authentication status." },
  args: {
    verbose: { type: "boolean", alias: "v", description: "Show token details (issuer, subject, client, storage)" },
    ...outputArgs,
  },
  help: helpText({
    examples: ["$ authly admin auth whoami", "$ authly admin auth whoami --verbose"],
    json: `{ "username", "api_url", "expires_at", "expired", "scopes": [...], "subject", "issuer", "storage" }`,
  }),
  async run({ args }) {
    const ctx = createContext();
    const t = requireTokens(ctx);
    const claims = decodeJwt(t.access_token) ?? {};
    const scopes = (t.scope || String(claims.scope ?? "")).split(" ").filter(Boolean);
    const expired = Date.parse(t.expires_at) <= Date.now();
    const storage = ctx.store.describeStorage();
    if (ctx.format(args.output) === "json") {
      printJson({ username: t.username, api_url: t.api_url, expires_at: t.expires_at, expired, scopes, subject: claims.sub ?? null, issuer: claims.iss ?? null, storage: storage.storage });
      return;
    }
    success(`Authenticated as: ${t.username}`);
    console.log(`${expired ? "✗ Token expired" : "✓ Token expires"}: ${formatUtc(t.expires_at)}${expired && t.refresh_token ? " (refreshes on the next command)" : ""}`);
    success(`Scopes: ${scopes.join(", ") || "-"}`);
    if (args.verbose) {
      printFields([
        ["API URL", t.api_url],
        ["Subject", claims.sub],
        ["Issuer", claims.iss],
        ["Client", claims.client_id ?? claims.azp ?? CLI_CLIENT],
        ["Issued at", formatUtc(t.obtained_at)],
        ["Refresh token", t.refresh_token ? "stored" : "none"],
        ["Token file", ctx.store.file],
        ["Token storage", storage.description],
      ]);
      // The guide's troubleshooting step: does the server accept this token?
      const me = await ctx.api.get<Me>("/admin/me");
      success(`Server accepts the token: user ${me.username} (${me.id}), admin: ${me.is_admin ? "yes" : "no"}`);
      if (me.requires_password_change) console.log("✗ Password is temporary: run `authly admin auth change-password`");
    }
  },
});


interface Health {
  status?: string;
  database?: string;
}

export const status = defineAdminCommand({
  meta: { name: "status", description: "Show authentication and API status." },
  args: {
    verbose: { type: "boolean", alias: "v", description: "Show detailed token information" },
    ...apiUrlArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "Exit code 0 when the API is healthy and you are logged in; 2 when not logged in; 1 when the API cannot be reached.",
    examples: ["# Basic auth status\n$ authly admin auth status", "# Detailed auth status with token info\n$ authly admin auth status --verbose"],
    json: `{ "api_url", "api_health", "authenticated", "username", "expires_at", "database", "clients", "scopes" }`,
  }),
  async run({ args }) {
    const ctx = createContext({ apiUrl: args["api-url"] });
    const json = ctx.format(args.output) === "json";
    const health = await ctx.api.get<Health>("/admin/health", { auth: false });
    const t = ctx.tokens();
    let counts: { clients?: number; scopes?: number } = {};
    let database = health.database ?? "unknown";
    let authenticated = false;
    if (t) {
      const st = await ctx.api.get<{ database?: { status?: string }; counts?: Record<string, number> }>("/admin/status");
      authenticated = true;
      counts = { clients: st.counts?.clients, scopes: st.counts?.scopes };
      database = st.database?.status ?? database;
    }
    const now = ctx.tokens();
    if (json) {
      printJson({ api_url: ctx.apiUrl, api_health: health.status ?? "unknown", authenticated, username: now?.username ?? null, expires_at: now?.expires_at ?? null, database, ...counts });
    } else {
      console.log(`${health.status === "healthy" ? "✓" : "✗"} API Health: ${health.status ?? "unknown"}`);
      console.log(`API URL: ${ctx.apiUrl}`);
      if (authenticated) {
        success("Authentication: Logged in");
        console.log(`Database: ${cap(database)}`);
        console.log(`OAuth clients: ${counts.clients ?? "-"}`);
        console.log(`OAuth scopes: ${counts.scopes ?? "-"}`);
      } else {
        console.log("✗ Authentication: Not logged in");
        console.log(`Database: ${cap(database)}`);
      }
      if (args.verbose && now) {
        console.log("\nToken:");
        printFields(
          [
            ["User", now.username],
            ["Expires", formatUtc(now.expires_at)],
            ["Obtained", formatUtc(now.obtained_at)],
            ["Scopes", now.scope.split(" ").filter(Boolean)],
            ["Access token", shortToken(now.access_token)],
            ["Storage", ctx.store.describeStorage().description],
          ],
          "  ",
        );
      }
      if (args.verbose) console.log(`\nCLI resource mode: ${describeMode(ctx.config.mode)}`);
    }
    if (!authenticated) throw new CliError("Not logged in", ExitCode.auth, "Run `authly admin auth login`.");
  },
});

function cap(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}


export const info = defineAdminCommand({
  meta: { name: "info", description: "Show Authly configuration and internal information." },
  args: { ...outputArgs },
  help: helpText({
    details: "Works offline: shows the paths, the API URL in use (and where it came from), the environment,\nthe resource mode and pool, the token storage and the stored login.",
    examples: ["$ authly admin auth info", "$ AUTHLY_CONFIG_DIR=/tmp/authly authly admin auth info --output json"],
    json: `{ "config_dir", "config_file", "token_file", "token_file_exists", "token_storage", "api_url", "api_url_source",
  "admin_api_enabled", "environment": {...}, "mode": {...}, "version", "authenticated", "expires_at" }`,
  }),
  async run({ args }) {
    const ctx = createContext();
    let t;
    let tokenProblem: string | undefined;
    try {
      t = ctx.tokens();
    } catch (err) {
      tokenProblem = (err as Error).message;
    }
    const storage = ctx.store.describeStorage();
    const mode = ctx.config.mode;
    const env = describeEnvironment();
    if (mode.source !== "env") env.AUTHLY_MODE = `${mode.mode} (set by the admin command; AUTHLY_MODE overrides)`;
    if (ctx.format(args.output) === "json") {
      printJson({
        config_dir: ctx.config.configDir,
        config_file: ctx.settings.file ?? null,
        token_file: ctx.store.file,
        token_file_exists: ctx.store.exists(),
        token_storage: { kind: storage.storage, description: storage.description },
        api_url: ctx.apiUrl,
        api_url_source: ctx.apiUrlSource,
        admin_api_enabled: ctx.config.adminApiEnabled,
        environment: env,
        mode: { name: mode.mode, source: mode.source, pool: mode.pool, bootstrap: mode.bootstrap },
        version: VERSION,
        authenticated: Boolean(t),
        username: t?.username ?? null,
        expires_at: t?.expires_at ?? null,
      });
      return;
    }
    console.log("Authly Configuration Information");
    console.log("=".repeat(50));
    console.log(`Configuration directory: ${ctx.config.configDir}`);
    console.log(`Configuration file: ${ctx.settings.file ?? `${ctx.config.configDir}/config.toml (not present, defaults in use)`}`);
    console.log(`Token file: ${ctx.store.file}`);
    console.log(`Token file exists: ${ctx.store.exists() ? "True" : "False"}`);
    console.log(`Token storage: ${storage.description}`);
    console.log("\nAPI Configuration:");
    console.log(`  API URL: ${ctx.apiUrl} (from ${ctx.apiUrlSource})`);
    console.log(`  Admin API enabled: ${ctx.config.adminApiEnabled}`);
    console.log(`  Timeout: ${ctx.settings.api.timeout} s`);
    console.log("\nEnvironment:");
    for (const [k, v] of Object.entries(env)) console.log(`  ${k}: ${v}`);
    console.log("\nResource Mode:");
    console.log(`  ${describeMode(mode)}`);
    console.log("\nVersion Information:");
    console.log(`  Authly version: ${VERSION}`);
    console.log("\nAuthentication Status:");
    if (tokenProblem) console.log(`  Status: ${tokenProblem}`);
    else if (t) {
      console.log(`  Status: Authenticated as ${t.username}`);
      console.log(`  Token expires: ${formatUtc(t.expires_at)}`);
    } else console.log("  Status: Not authenticated");
  },
});

