// `authly admin auth login|logout|whoami|status|refresh|info`: the first-party login of the admin
// CLI (password grant for client authly-cli, docs/contracts.md) and what it knows about itself.
import { defineCommand } from "citty";
import { describeEnvironment } from "../../config";
import { CliError, ExitCode } from "../../errors";
import { describeMode } from "../../modes";
import { VERSION } from "../../version";
import { notLoggedIn } from "../api-client";
import { formatUtc, printFields, printJson, success } from "../output";
import { ADMIN_SCOPES, CLI_CLIENT, createContext, decodeJwt, tokensFrom, type AdminContext } from "./context";
import { isInteractive, promptPassword, promptText } from "./prompt";
import { apiUrlArgs, defineAdminCommand, helpText, outputArgs } from "./shared";

function shortToken(t: string | undefined): string {
  return t ? `${t.slice(0, 20)}...` : "-";
}

async function readStdinPassword(): Promise<string> {
  const text = await new Response(Bun.stdin.stream()).text();
  return text.replace(/\r?\n$/, "");
}

const login = defineAdminCommand({
  meta: { name: "login", description: "Login to the Authly Admin API." },
  args: {
    username: { type: "string", valueHint: "TEXT", description: "Admin username (prompted on a terminal when missing)" },
    password: { type: "string", valueHint: "TEXT", description: "Admin password (not recommended for security: prompted without echo when missing)" },
    "password-stdin": { type: "boolean", description: "Read the password from standard input (CI)" },
    ...apiUrlArgs,
    "show-token": { type: "boolean", description: "Display the access and refresh tokens (use with caution)" },
  },
  help: helpText({
    details: `Signs in with the first-party client ${CLI_CLIENT} (OAuth password grant) and stores the
tokens in ~/.authly/tokens.json (folder 0700, file 0600; encrypted with the system keyring when
one is available). The tokens refresh automatically before they expire.`,
    examples: [
      "# Interactive login (recommended)\n$ authly admin auth login",
      '# Non-interactive (CI/CD environments only)\n$ authly admin auth login --username admin --password "$ADMIN_PASSWORD"\n$ printf %s "$ADMIN_PASSWORD" | authly admin auth login --username admin --password-stdin',
      '# Custom API URL\n$ authly admin auth login --api-url "https://auth.mycompany.com"',
      "# Show tokens for debugging (careful - tokens are sensitive!)\n$ authly admin auth login --show-token",
    ],
    security: `--password leaves the password in your shell history and the process list: prefer the
prompt, or --password-stdin in CI. --show-token prints live credentials. Use a dedicated admin
account, and \`authly admin auth logout\` when done (it revokes the tokens at the server).`,
  }),
  async run({ args }) {
    const ctx = createContext({ apiUrl: args["api-url"] });
    let username = args.username;
    let password = args.password;
    if (args["password-stdin"]) {
      if (password !== undefined) throw new CliError("--password and --password-stdin cannot be used together", ExitCode.validation);
      password = await readStdinPassword();
    }
    const prompted = password === undefined && !args["password-stdin"];
    if (!username || password === undefined) {
      if (!isInteractive()) {
        throw new CliError("Username and password required", ExitCode.validation, "Not a terminal: pass --username and --password (or --password-stdin).");
      }
      if (!username) username = (await promptText("Username: ")).trim();
      if (password === undefined) password = await promptPassword("Password: ");
    }
    if (!username) throw new CliError("A username is required", ExitCode.validation);
    if (!password) throw new CliError("A password is required", ExitCode.validation);
    const res = await ctx.api.send("POST", "/oauth/token", {
      form: { grant_type: "password", client_id: CLI_CLIENT, username, password, scope: ADMIN_SCOPES.join(" ") },
    });
    if (res.status !== 200) throw loginError(res.status, res.body as { error?: string; error_description?: string }, res.headers);
    const tokens = tokensFrom(res.body as Parameters<typeof tokensFrom>[0], { api_url: ctx.apiUrl, username });
    ctx.store.write(tokens);
    success(`Successfully logged in as ${username}`);
    if (args["show-token"]) {
      console.log(`   Access token: ${tokens.access_token}`);
      console.log(`   Refresh token: ${tokens.refresh_token ?? "-"}`);
    }
    console.log(`Token stored securely in ${ctx.store.file}`);
    await checkTemporaryPassword(ctx, password, prompted);
    const grantedScope = (res.body as { scope?: unknown }).scope;
    if (typeof grantedScope === "string" && !grantedScope.split(" ").some((s) => s.startsWith("admin:"))) {
      console.error(`Warning: '${username}' was granted no admin scopes (not an admin?): admin commands will be refused (exit code 3).`);
    }
  },
});

interface Me {
  id: string;
  username: string;
  is_admin: boolean;
  requires_password_change: boolean;
  scopes: string[];
  token_expires_at: string;
}

/** A generated or reset password must be replaced before the admin API answers (403 until then). */
async function checkTemporaryPassword(ctx: AdminContext, current: string, prompted: boolean): Promise<void> {
  let me: Me;
  try {
    me = await ctx.api.get<Me>("/admin/me");
  } catch {
    return; // Not an admin, or an older server: the commands themselves will say so.
  }
  if (!me.requires_password_change) return;
  if (prompted && isInteractive()) {
    console.error("Your password is temporary: choose a new one now.");
    await changePassword(ctx, current, await askNew());
    return;
  }
  console.error("Warning: your password is temporary: admin commands are refused (exit code 3) until you run `authly admin auth change-password`.");
}

async function askNew(): Promise<string> {
  const first = await promptPassword("New password: ");
  const second = await promptPassword("Repeat new password: ");
  if (first !== second) throw new CliError("The new passwords do not match", ExitCode.validation);
  return first;
}

async function changePassword(ctx: AdminContext, current: string, next: string): Promise<void> {
  await ctx.api.post("/admin/me/password", { json: { current_password: current, new_password: next } });
  success("Password changed");
}

const changePasswordCmd = defineAdminCommand({
  meta: { name: "change-password", description: "Change your own password (required after a generated or reset one)." },
  args: {
    "current-password": { type: "string", valueHint: "TEXT", description: "Current password (prompted without echo when missing)" },
    "new-password": { type: "string", valueHint: "TEXT", description: "New password (prompted twice without echo when missing)" },
  },
  help: helpText({
    details: "A generated or reset password is temporary: the admin API refuses other commands (exit code 3)\nuntil it is replaced. The server checks the new password's strength.",
    examples: ["$ authly admin auth change-password", '$ authly admin auth change-password --current-password "$OLD" --new-password "$NEW"'],
    security: "Passwords given as options show in shell history and process lists: prefer the prompts.",
  }),
  async run({ args }) {
    const ctx = createContext();
    requireTokens(ctx);
    let current = args["current-password"];
    let next = args["new-password"];
    if (current === undefined || next === undefined) {
      if (!isInteractive()) throw new CliError("Passwords required", ExitCode.validation, "Not a terminal: pass --current-password and --new-password.");
      if (current === undefined) current = await promptPassword("Current password: ");
      if (next === undefined) next = await askNew();
    }
    await changePassword(ctx, current, next);
  },
});

function loginError(status: number, body: { error?: string; error_description?: string }, headers: Headers): CliError {
  const desc = body?.error_description;
  switch (body?.error) {
    case "invalid_grant":
      return new CliError("Login failed: invalid username or password", ExitCode.auth, desc && !/invalid username or password/i.test(desc) ? desc : "Check both and try again; repeated failures lock the account for a while.");
    case "invalid_client":
    case "unauthorized_client":
      return new CliError("Login failed: the server does not accept CLI logins", ExitCode.auth, desc ?? `The first-party client ${CLI_CLIENT} is missing or may not use the password grant.`);
    case "invalid_scope":
      return new CliError("Login failed: this account may not use the admin API", ExitCode.permission, desc);
    case "access_denied":
      return new CliError("Login failed: access denied", ExitCode.permission, desc);
  }
  if (status === 429) {
    const retry = headers.get("retry-after");
    return new CliError("Login failed: too many attempts", ExitCode.auth, desc ?? (retry ? `Try again in ${retry} s.` : "Try again later."));
  }
  if (status === 401) return new CliError("Login failed", ExitCode.auth, desc);
  if (status === 404) return new CliError("Login failed: no token endpoint at this URL", ExitCode.general, "Check --api-url / AUTHLY_ADMIN_API_URL.");
  return new CliError(`Login failed: the server answered ${status}`, ExitCode.general, desc ?? body?.error);
}

const logout = defineAdminCommand({
  meta: { name: "logout", description: "Logout from the Authly Admin API." },
  args: {},
  help: helpText({
    details: "Revokes the refresh and access tokens at the server (RFC 7009) and deletes the token file.",
    examples: ["$ authly admin auth logout"],
  }),
  async run() {
    const ctx = createContext();
    let tokens;
    try {
      tokens = ctx.tokens();
    } catch {
      tokens = undefined;
    }
    if (!ctx.store.exists()) {
      console.log("Not logged in (no stored tokens)");
      return;
    }
    if (tokens) {
      const warnings: string[] = [];
      for (const [token, hint] of [
        [tokens.refresh_token, "refresh_token"],
        [tokens.access_token, "access_token"],
      ] as const) {
        if (!token) continue;
        try {
          const r = await ctx.api.send("POST", "/oauth/revoke", { form: { token, token_type_hint: hint, client_id: CLI_CLIENT } });
          if (r.status !== 200) warnings.push(`${hint}: server answered ${r.status}`);
        } catch (err) {
          warnings.push(`${hint}: ${(err as Error).message}`);
        }
      }
      if (warnings.length) console.error(`Warning: could not revoke the tokens at the server (${warnings.join("; ")}); they expire on their own.`);
    }
    ctx.store.clear();
    success("Successfully logged out");
    console.log(`Tokens cleared from ${ctx.store.file}`);
  },
});

function requireTokens(ctx: AdminContext) {
  const t = ctx.tokens();
  if (!t) throw notLoggedIn();
  return t;
}

const whoami = defineAdminCommand({
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

const refresh = defineAdminCommand({
  meta: { name: "refresh", description: "Refresh authentication tokens." },
  args: {},
  help: helpText({
    details: "Exchanges the stored refresh token for new tokens and checks them against the admin API.\nCommands do this by themselves shortly before the access token expires ([auth] auto_refresh).",
    examples: ["$ authly admin auth refresh"],
  }),
  async run() {
    const ctx = createContext();
    requireTokens(ctx);
    const t = await ctx.refresh();
    success("Token refreshed successfully");
    console.log(`New expiration: ${formatUtc(t.expires_at)}`);
    await verifyToken(ctx);
    console.log("Token verified - authentication active");
  },
});

/** Any admin answer but 401 proves the token works (403 = valid token, narrower scopes). */
async function verifyToken(ctx: AdminContext): Promise<void> {
  try {
    await ctx.api.get("/admin/status");
  } catch (err) {
    if ((err as { exitCode?: number }).exitCode === ExitCode.permission) return;
    throw err;
  }
}

interface Health {
  status?: string;
  database?: string;
}

const status = defineAdminCommand({
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

const info = defineAdminCommand({
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

export default defineCommand({
  meta: { name: "auth", description: "Authentication commands for admin access." },
  subCommands: { login, logout, whoami, status, refresh, info, "change-password": changePasswordCmd },
});
