// `authly admin auth login|logout|refresh` (and the group): the first-party login of the admin
// CLI (password grant for client authly-cli, docs/contracts.md), its refresh and its logout.
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatUtc, success } from "../output";
import { ADMIN_SCOPES, CLI_CLIENT, createContext, requireTokens, tokensFrom, type AdminContext } from "./context";
import { changePasswordCmd, checkTemporaryPassword } from "./auth-password";
import { deviceLogin } from "./auth-device";
import { info, status, whoami } from "./auth-status";
import { isInteractive, promptPassword, promptText } from "./prompt";
import { apiUrlArgs, defineAdminCommand, helpText } from "./shared";

async function readStdin(): Promise<string> {
  return new Response(Bun.stdin.stream()).text();
}

/** --password-stdin and --otp-stdin share standard input: the password on the first line, the code on the next. */
function stdinLines(text: string, password: boolean, otp: boolean): { password?: string; otp?: string } {
  if (password && !otp) return { password: text.replace(/\r?\n$/, "") };
  const lines = text.split(/\r?\n/);
  if (password) return { password: lines[0] ?? "", otp: (lines[1] ?? "").trim() };
  return { otp: (lines[0] ?? "").trim() };
}

const login = defineAdminCommand({
  meta: { name: "login", description: "Login to the Authly Admin API." },
  args: {
    username: { type: "string", valueHint: "TEXT", description: "Admin username (prompted on a terminal when missing)" },
    password: { type: "string", valueHint: "TEXT", description: "Admin password (not recommended for security: prompted without echo when missing)" },
    "password-stdin": { type: "boolean", description: "Read the password from standard input (CI)" },
    device: { type: "boolean", description: "Sign in in a browser instead (device authorization grant, RFC 8628): prints a URL and a code to approve there" },
    qr: { type: "boolean", default: true, description: "With --device on a terminal: also print a QR code of the URL", negativeDescription: "No QR code" },
    "otp-stdin": { type: "boolean", description: "Read the one-time code (authenticator app or recovery code) from standard input; after the password's line with --password-stdin" },
    ...apiUrlArgs,
    "show-token": { type: "boolean", description: "Display the access and refresh tokens (use with caution)" },
  },
  help: helpText({
    details: `Signs in with the first-party client ${CLI_CLIENT} (OAuth password grant; with --device, the
device authorization grant: approve a code in any browser, RFC 8628) and stores the
tokens in ~/.authly/tokens.json (folder 0700, file 0600; encrypted with the system keyring when
one is available). The tokens refresh automatically before they expire.
An account with two-step verification is asked for the code of its authenticator app (or a
recovery code) after the password; --otp-stdin reads it from standard input instead. An admin
who must use two-step verification but has none set up is told to set it up at <issuer>/account.`,
    examples: [
      "# Interactive login (recommended)\n$ authly admin auth login",
      "# Sign in in a browser (over SSH, with a passkey or any other factor)\n$ authly admin auth login --device",
      '# Non-interactive (CI/CD environments only)\n$ authly admin auth login --username admin --password "$ADMIN_PASSWORD"\n$ printf %s "$ADMIN_PASSWORD" | authly admin auth login --username admin --password-stdin',
      '# With two-step verification: the prompt asks for the code; without a terminal\n$ printf \'%s\\n%s\\n\' "$ADMIN_PASSWORD" "$CODE" | authly admin auth login --username admin --password-stdin --otp-stdin',
      '# Custom API URL\n$ authly admin auth login --api-url "https://auth.mycompany.com"',
      "# Show tokens for debugging (careful - tokens are sensitive!)\n$ authly admin auth login --show-token",
    ],
    security: `--password leaves the password in your shell history and the process list: prefer the
prompt, or --password-stdin in CI. --show-token prints live credentials. Use a dedicated admin
account, and \`authly admin auth logout\` when done (it revokes the tokens at the server).`,
  }),
  async run({ args }) {
    const ctx = createContext({ apiUrl: args["api-url"] });
    if (args.device) {
      if (args.username || args.password !== undefined || args["password-stdin"]) throw new CliError("--device cannot be combined with --username, --password or --password-stdin", ExitCode.validation);
      const { username, scope } = await deviceLogin(ctx, { qr: args.qr !== false && Boolean(process.stdout.isTTY) });
      const t = ctx.tokens();
      if (args["show-token"] && t) {
        console.log(`   Access token: ${t.access_token}`);
        console.log(`   Refresh token: ${t.refresh_token ?? "-"}`);
      }
      console.log(`Token stored securely in ${ctx.store.file}`);
      if (!scope.split(" ").some((s) => s.startsWith("admin:"))) {
        console.error(`Warning: '${username}' was granted no admin scopes (not an admin?): admin commands will be refused (exit code 3).`);
      }
      return;
    }
    let username = args.username;
    let password = args.password;
    let otp: string | undefined;
    if (args["password-stdin"] || args["otp-stdin"]) {
      if (args["password-stdin"] && password !== undefined) throw new CliError("--password and --password-stdin cannot be used together", ExitCode.validation);
      const read = stdinLines(await readStdin(), Boolean(args["password-stdin"]), Boolean(args["otp-stdin"]));
      if (args["password-stdin"]) password = read.password;
      if (args["otp-stdin"]) {
        otp = read.otp;
        if (!otp) throw new CliError("No one-time code on standard input", ExitCode.validation, args["password-stdin"] ? "Put the password on the first line and the code on the second." : "Pipe the code of your authenticator app (or a recovery code).");
      }
    }
    const prompted = password === undefined && !args["password-stdin"];
    const interactive = isInteractive() && !args["otp-stdin"] && !args["password-stdin"];
    if (!username || password === undefined) {
      if (!isInteractive() || args["otp-stdin"]) {
        throw new CliError("Username and password required", ExitCode.validation, "Not a terminal: pass --username and --password (or --password-stdin), or sign in in a browser with --device.");
      }
      if (!username) username = (await promptText("Username: ")).trim();
      if (password === undefined) password = await promptPassword("Password: ");
    }
    if (!username) throw new CliError("A username is required", ExitCode.validation);
    if (!password) throw new CliError("A password is required", ExitCode.validation);
    const dpop = await ctx.prepareDpop();
    const grant = (code?: string) =>
      ctx.api.send("POST", "/oauth/token", {
        form: { grant_type: "password", client_id: CLI_CLIENT, username: username!, password: password!, scope: ADMIN_SCOPES.join(" "), ...(code ? { otp: code } : {}) },
      });
    let res = await grant(otp);
    // Two-step verification: the server asks for the code only after a right password.
    if (res.status !== 200 && (res.body as { error?: string })?.error === "mfa_required" && otp === undefined && interactive) {
      otp = (await promptText("One-time code (authenticator app, or a recovery code): ")).trim();
      if (otp) res = await grant(otp);
    }
    if (res.status !== 200) throw loginError(res.status, res.body as { error?: string; error_description?: string }, res.headers);
    const tokens = tokensFrom(res.body as Parameters<typeof tokensFrom>[0], { api_url: ctx.apiUrl, username, ...dpop });
    ctx.saveTokens(tokens);
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

function loginError(status: number, body: { error?: string; error_description?: string }, headers: Headers): CliError {
  const desc = body?.error_description;
  switch (body?.error) {
    case "mfa_required":
      // A passkey cannot go through the password grant: the device grant signs in with it in a browser.
      if (/passkey/.test(desc ?? "")) return new CliError("Login failed: this account's second factor is a passkey or security key", ExitCode.auth, `${desc} Sign in with it in a browser: authly admin auth login --device`);
      return new CliError("Login failed: a one-time code is required", ExitCode.auth, `${desc ?? ""} On a terminal the code is asked for; otherwise pass it with --otp-stdin.`.trim());
    case "mfa_enrollment_required":
      return new CliError("Login failed: two-step verification must be set up first", ExitCode.auth, desc);
    case "invalid_grant":
      if (desc && /one-time code/i.test(desc)) return new CliError("Login failed: wrong one-time code", ExitCode.auth, `${desc}. Each code works once; wait for the next one.`);
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
      // Revoke at the server that issued the tokens, whatever URL this command would use.
      const issuer = tokens.api_url && tokens.api_url !== ctx.apiUrl ? createContext({ apiUrl: tokens.api_url }) : ctx;
      const warnings: string[] = [];
      for (const [token, hint] of [
        [tokens.refresh_token, "refresh_token"],
        [tokens.access_token, "access_token"],
      ] as const) {
        if (!token) continue;
        try {
          const r = await issuer.api.send("POST", "/oauth/revoke", { form: { token, token_type_hint: hint, client_id: CLI_CLIENT } });
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


export default defineCommand({
  meta: { name: "auth", description: "Authentication commands for admin access." },
  subCommands: { login, logout, whoami, status, refresh, info, "change-password": changePasswordCmd },
});

