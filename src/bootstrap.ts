// Start-up data: the first admin account and the first-party CLI client (bootstrap, per mode),
// and sample data for `serve --embedded --seed`. Idempotent and safe with several starters: all of
// it runs in one transaction under an advisory lock, and only inserts what is missing.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Deps } from "./deps";
import type { Tx } from "./db/sql";
import { audit } from "./audit/service";
import { generatePassword } from "./accounts/admin-service";
import { hashPassword, passwordParams } from "./accounts/password";
import { countAdmins, findUserByLogin, insertUserIfMissing } from "./accounts/store";
import { lockBootstrap } from "./admin/store";
import { CLI_CLIENT_ID, DEVICE_CODE_GRANT } from "./clients/model";
import { generateClientSecret, hashClientSecret } from "./clients/secrets";
import { insertClientIfMissing, type NewClient } from "./clients/store";
import { log } from "./log";
import { ADMIN_SCOPES } from "./scopes/model";
import { insertScopeIfMissing } from "./scopes/store";

export interface BootstrapOptions {
  enabled: boolean;
  seed: boolean;
  /** Where credentials are printed once (default: stdout). */
  print?: (text: string) => void;
}

/**
 * The file a generated first-admin password is written to (once, mode 0600): in the data folder
 * (AUTHLY_DATA_DIR; the embedded database's folder; `/data` in the container image), so that the
 * password never reaches stdout and with it the container logs.
 */
export const ADMIN_PASSWORD_FILE = "initial-admin-password";

export function adminPasswordPath(deps: Deps): string {
  return resolve(join(deps.config.dataDir, ADMIN_PASSWORD_FILE));
}

/** Writes the password atomically to a 0600 file (folder 0700 when created); returns the path. */
function writeAdminPassword(deps: Deps, username: string, password: string): string {
  const path = adminPasswordPath(deps);
  mkdirSync(resolve(deps.config.dataDir), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${password}\n`, { mode: 0o600, flag: "w" });
  chmodSync(tmp, 0o600); // an old tmp file of another umask keeps its mode otherwise
  renameSync(tmp, path);
  return path;
}

export interface BootstrapResult {
  /** Set when this run created the first admin; `password` only when it was generated. */
  admin?: { username: string; password?: string; requiresPasswordChange: boolean; passwordFile?: string };
  cliClientCreated: boolean;
  seed?: { username: string; password: string; clients: { client_id: string; client_secret?: string }[] };
}

type Step = (deps: Deps, opts: BootstrapOptions) => Promise<void>;
const steps: Step[] = [];

/** Other domains may register extra bootstrap steps; they run after the built-in ones. */
export function registerBootstrapStep(step: Step): void {
  steps.push(step);
}

const SYSTEM = "system:bootstrap";

/** The built-in first-party client of `authly admin` (docs/contracts.md "First-party CLI login"). */
function cliClient(): NewClient {
  return {
    client_id: CLI_CLIENT_ID,
    client_type: "public",
    client_name: "Authly admin CLI",
    secret_hash: null,
    redirect_uris: [],
    post_logout_redirect_uris: [],
    grant_types: ["password", "refresh_token", DEVICE_CODE_GRANT],
    response_types: [],
    scopes: [...ADMIN_SCOPES],
    token_endpoint_auth_method: "none",
    jwks: null,
    jwks_uri: null,
    client_uri: null,
    logo_uri: null,
    tos_uri: null,
    policy_uri: null,
    contacts: [],
    id_token_signed_response_alg: "RS256",
    require_consent: false,
    is_first_party: true,
    is_active: true,
  };
}

async function ensureFirstAdmin(deps: Deps, tx: Tx, passwordHash: () => Promise<{ hash: string; generated?: string }>): Promise<BootstrapResult["admin"]> {
  if ((await countAdmins(tx)) > 0) return undefined;
  const username = deps.config.adminUsername;
  const existing = await findUserByLogin(tx, username);
  if (existing) {
    log.warn(`Bootstrap: no admin exists, but the user '${username}' does and is not an admin; not changing it. Set AUTHLY_ADMIN_USERNAME to a free name.`);
    return undefined;
  }
  const pw = await passwordHash();
  // A generated password is temporary: it must be changed at first login (not in dev mode).
  const requiresPasswordChange = Boolean(pw.generated) && !deps.config.devMode;
  const row = await insertUserIfMissing(tx, {
    username,
    email: deps.config.adminEmail ?? null,
    email_verified: Boolean(deps.config.adminEmail),
    password_hash: pw.hash,
    is_admin: true,
    requires_password_change: requiresPasswordChange,
  });
  if (!row) return undefined;
  await audit(deps, { action: "bootstrap.admin_created", actor: SYSTEM, targetType: "user", targetId: row.id, details: { username, password_generated: Boolean(pw.generated) } }, tx);
  return { username, password: pw.generated, requiresPasswordChange };
}

async function seed(deps: Deps, tx: Tx, userHash: { hash: string; password: string }): Promise<BootstrapResult["seed"]> {
  const user = await insertUserIfMissing(tx, {
    username: "user",
    email: "user@example.com",
    email_verified: true,
    password_hash: userHash.hash,
    name: "Sample User",
    given_name: "Sample",
    family_name: "User",
    locale: "en-US",
  });
  if (!user) return undefined; // seeded before
  await insertScopeIfMissing(tx, { name: "api:read", description: "Read API resources", is_default: false });
  await insertScopeIfMissing(tx, { name: "api:write", description: "Write API resources", is_default: false });
  const base = { ...cliClient(), is_first_party: false, require_consent: true, post_logout_redirect_uris: [] as string[] };
  const webSecret = generateClientSecret();
  const serviceSecret = generateClientSecret();
  const clients: NewClient[] = [
    { ...base, client_id: "demo-spa", client_name: "Demo SPA (public, PKCE)", redirect_uris: ["http://localhost:3000/callback"], post_logout_redirect_uris: ["http://localhost:3000/"], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], scopes: ["openid", "profile", "email", "offline_access", "api:read"] },
    { ...base, client_id: "demo-web", client_type: "confidential", client_name: "Demo web app (confidential)", secret_hash: hashClientSecret(deps, webSecret), token_endpoint_auth_method: "client_secret_basic", redirect_uris: ["http://localhost:8080/callback"], post_logout_redirect_uris: ["http://localhost:8080/"], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], scopes: ["openid", "profile", "email", "address", "phone", "offline_access", "api:read", "api:write"] },
    { ...base, client_id: "demo-service", client_type: "confidential", client_name: "Demo service (client credentials)", secret_hash: hashClientSecret(deps, serviceSecret), token_endpoint_auth_method: "client_secret_basic", grant_types: ["client_credentials"], scopes: ["api:read"], require_consent: false },
  ];
  for (const c of clients) await insertClientIfMissing(tx, c);
  await audit(deps, { action: "bootstrap.seeded", actor: SYSTEM, targetType: "user", targetId: user.id, details: { clients: clients.map((c) => c.client_id) } }, tx);
  return {
    username: "user",
    password: userHash.password,
    clients: [{ client_id: "demo-spa" }, { client_id: "demo-web", client_secret: webSecret }, { client_id: "demo-service", client_secret: serviceSecret }],
  };
}

function banner(r: BootstrapResult): string | undefined {
  const lines: string[] = [];
  if (r.admin) {
    lines.push(`Admin account created: ${r.admin.username}`);
    if (r.admin.password) {
      // Only a development server prints the password itself; elsewhere logs must not carry it.
      if (!r.admin.requiresPasswordChange) lines.push(`  Generated password: ${r.admin.password}`);
      else if (r.admin.passwordFile) lines.push(`  Generated password written to ${r.admin.passwordFile} (mode 0600). Read it with: cat ${r.admin.passwordFile}`);
      else lines.push("  The generated password could not be written to a file (see the warning above); set a new one with `authly admin recover --username " + r.admin.username + "`.");
      lines.push(r.admin.requiresPasswordChange ? "  It must be changed at first login; delete the file afterwards." : "  (dev mode: no change required)");
    }
  }
  if (r.seed) {
    lines.push(`Sample user: ${r.seed.username} / ${r.seed.password}`);
    for (const c of r.seed.clients) lines.push(`Sample client: ${c.client_id}${c.client_secret ? `  secret: ${c.client_secret}` : "  (public)"}`);
  }
  if (!lines.length) return undefined;
  const shown = r.seed || (r.admin?.password && !r.admin.requiresPasswordChange);
  return ["", "=".repeat(72), ...lines, ...(shown ? ["These credentials are shown only this once. Store them now."] : []), "=".repeat(72), ""].join("\n");
}

export async function runBootstrap(deps: Deps, opts: BootstrapOptions): Promise<BootstrapResult> {
  const params = passwordParams(deps.config);
  // Hash outside the lock where we can: argon2id takes tens of milliseconds.
  const given = deps.config.adminPassword;
  const adminPassword = opts.enabled ? (given ?? generatePassword()) : undefined;
  const adminHash = adminPassword ? await hashPassword(adminPassword, params) : undefined;
  const seedPassword = opts.seed ? generatePassword() : undefined;
  const seedHash = seedPassword ? await hashPassword(seedPassword, params) : undefined;

  const result = await deps.sql.begin(async (tx) => {
    await lockBootstrap(tx);
    const r: BootstrapResult = { cliClientCreated: false };
    // The CLI client is infrastructure (like the system scopes): always present.
    r.cliClientCreated = await insertClientIfMissing(tx, cliClient());
    if (r.cliClientCreated) await audit(deps, { action: "bootstrap.cli_client_created", actor: SYSTEM, targetType: "client", targetId: CLI_CLIENT_ID }, tx);
    if (adminHash) r.admin = await ensureFirstAdmin(deps, tx, async () => ({ hash: adminHash, generated: given ? undefined : adminPassword }));
    if (seedHash) r.seed = await seed(deps, tx, { hash: seedHash, password: seedPassword! });
    return r;
  });
  // Dev mode prints the password (a local server; no file left behind); elsewhere only the file has it.
  if (result.admin?.password && result.admin.requiresPasswordChange) {
    try {
      result.admin.passwordFile = writeAdminPassword(deps, result.admin.username, result.admin.password);
    } catch (err) {
      log.warn(`Bootstrap: cannot write the generated admin password to ${adminPasswordPath(deps)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const text = banner(result);
  if (text) (opts.print ?? ((s: string) => process.stdout.write(`${s}\n`)))(text);
  for (const step of steps) await step(deps, opts);
  return result;
}
