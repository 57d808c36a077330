// `authly admin recover --username NAME`: the way back when no admin can sign in. It runs on the
// server host with the server's own configuration (DATABASE_URL and the JWT secrets, or the
// embedded data folder, read as `authly serve` reads them), not through the admin API, so it lives
// beside serve and migrate rather than in cli/admin (which stays API-only).
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { defineCommand } from "citty";
import { CliError, ExitCode, NotFoundError, ValidationError } from "../errors";
import { helpText } from "./help";

// `admin --help` reads this file's meta: the server, db/ and the domains load only in run().

function operatorName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

const recoverCommand = defineCommand({
  meta: { name: "recover", description: "On the server host: give an admin a new temporary password and clear its login lock (no API login needed)." },
  args: {
    username: { type: "string", valueHint: "NAME", description: "Username of the account to recover", required: true },
    "allow-non-admin": { type: "boolean", description: "Also recover an account that is not an admin", default: false },
    embedded: { type: "boolean", description: "Use the embedded database (PGlite) in --data-dir instead of DATABASE_URL (stop its server first)", default: false },
    "data-dir": { type: "string", valueHint: "PATH", description: "Folder of the embedded database (default: AUTHLY_DATA_DIR, ~/.authly/embedded)" },
    output: { type: "enum", options: ["table", "json"], description: "Output format", default: "table" },
  },
  async run({ args }) {
    if (args["data-dir"] !== undefined && !args.embedded) throw new CliError("--data-dir works only with --embedded", ExitCode.validation);
    const { buildDeps, connectDatabase, serveConfig } = await import("../server");
    const { migrationStatus } = await import("../db/migrate");
    const { recoverAccount } = await import("../accounts/recovery");
    const { subscribeToEndedSessions } = await import("../accounts/sessions-ended");
    const { backchannelLogoutSubscriber, settleBackgroundLogouts } = await import("../oidc/backchannel-logout");
    const username = String(args.username ?? "").trim();
    if (!username) throw new CliError("--username must not be empty", ExitCode.validation);
    const opts = { embedded: args.embedded, ...(args["data-dir"] !== undefined ? { dataDir: args["data-dir"] } : {}) };
    let stopEmbedded = async () => {};
    let url: string | undefined;
    let secrets: { jwtSecretKey: string; jwtRefreshSecretKey: string } | undefined;
    if (args.embedded) {
      const probe = serveConfig(opts, "postgresql://embedded/placeholder", { jwtSecretKey: "x".repeat(32), jwtRefreshSecretKey: "y".repeat(32) });
      if (!existsSync(join(probe.dataDir, "pgdata", "PG_VERSION"))) throw new CliError(`No embedded database in ${probe.dataDir}`, ExitCode.general, "Pass the --data-dir of your `authly serve --embedded`.");
      const { acquireDataDirLock } = await import("./port-lock");
      // A running `authly serve --embedded` holds this folder: its lock refuses us with its pid.
      const lock = await acquireDataDirLock(probe.dataDir);
      const { startPglite, embeddedSecrets } = await import("../db/embedded");
      const db = await startPglite({ dataDir: probe.dataDir, maxConnections: probe.mode.pool.max + 1 });
      url = db.url;
      secrets = embeddedSecrets(probe.dataDir);
      stopEmbedded = async () => {
        await db.stop().catch(() => {});
        lock.release();
      };
    }
    try {
      const config = serveConfig(opts, url, secrets);
      const sql = await connectDatabase(config).catch((err) => {
        throw new CliError(err instanceof Error ? err.message : String(err), ExitCode.general);
      });
      try {
        const pending = (await migrationStatus(sql)).filter((m) => !m.applied);
        if (pending.length) throw new CliError(`The database has ${pending.length} pending migration(s)`, ExitCode.general, "Run `authly migrate` (or start the server once) first.");
        const deps = buildDeps(config, sql);
        // As in the server (app.ts): the sessions a recovery ends reach their clients' back-channel logout.
        subscribeToEndedSessions(backchannelLogoutSubscriber);
        const r = await recoverAccount(deps, { username, allowNonAdmin: args["allow-non-admin"], operator: operatorName() }).catch((err) => {
          if (err instanceof NotFoundError) throw new CliError(err.message, ExitCode.notFound);
          if (err instanceof ValidationError) throw new CliError(err.message, ExitCode.validation);
          throw err;
        });
        // The back-channel logouts of the ended sessions go out before the process ends.
        await settleBackgroundLogouts();
        if (args.output === "json") console.log(JSON.stringify(r, null, 2));
        else {
          console.log(`✓ Recovered '${r.username}'${r.is_admin ? " (admin)" : ""}: its sessions and refresh tokens are revoked${r.cleared_login_failures ? ", its login lock is cleared" : ""}.`);
          console.log(`Temporary password: ${r.password}`);
          console.log("It must be changed at the next sign-in: `authly admin auth login`, then `authly admin auth change-password`.");
          if (!r.is_active) console.log(`Warning: '${r.username}' is deactivated and cannot sign in until another admin reactivates it.`);
        }
        return ExitCode.ok;
      } finally {
        await sql.end({ timeout: 2 });
      }
    } finally {
      await stopEmbedded();
    }
  },
});

export default Object.assign(recoverCommand, {
  help: helpText({
    details:
      "For an admin who lost the password (or the bootstrap's initial-admin-password file) when no other admin can reset it.\nRun it on the server host with the server's configuration: DATABASE_URL, JWT_SECRET_KEY and JWT_REFRESH_SECRET_KEY as `authly serve` gets them, or --embedded with the server stopped.\nThe account gets a new temporary password (printed once; it must be changed at the next sign-in); every session and refresh token of it is revoked (with back-channel logout); its login throttle is cleared. Audited as user.password_reset and user.unlock by system:recover.",
    security: "Anyone who can run this has the database's credentials and so the whole server already; the new password is printed to this terminal only.",
    examples: [
      "# A server on PostgreSQL (the same environment as `authly serve`)\n$ authly admin recover --username admin",
      "# The embedded database of `authly serve --embedded` (stop the server first)\n$ authly admin recover --username admin --embedded --data-dir ~/.authly/embedded",
    ],
    json: '{ "id": "…", "username": "admin", "is_admin": true, "is_active": true, "password": "…", "requires_password_change": true, "cleared_login_failures": 1 }',
    exitCodes: [
      [0, "Success (the temporary password printed)"],
      [1, "Database unreachable, migrations pending, or the embedded data folder is in use or missing"],
      [4, "No user with that username"],
      [5, "Validation error (not an admin without --allow-non-admin, bad options, bad configuration)"],
    ],
  }),
});
