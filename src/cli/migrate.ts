// `authly migrate` (apply pending migrations) and `authly migrate --status` (list them), on
// DATABASE_URL or, with --embedded, on the embedded database's data folder (locked while in use).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { loadConfig, processEnv } from "../config";
import { createSql } from "../db/sql";
import { migrate, migrationStatus } from "../db/migrate";
import { CliError, ExitCode } from "../errors";
import { helpText } from "./help";

const migrateCommand = defineCommand({
  meta: { name: "migrate", description: "Apply pending database migrations (or show their status)." },
  args: {
    status: { type: "boolean", description: "Only show which migrations are applied", default: false },
    output: { type: "enum", options: ["table", "json"], description: "Output format", default: "table" },
    embedded: { type: "boolean", description: "Use the embedded database (PGlite) in --data-dir instead of DATABASE_URL", default: false },
    "data-dir": { type: "string", valueHint: "PATH", description: "Folder of the embedded database (default: AUTHLY_DATA_DIR, ~/.authly/embedded)" },
  },
  async run({ args }) {
    if (args["data-dir"] !== undefined && !args.embedded) throw new CliError("--data-dir works only with --embedded", ExitCode.validation);
    const config = loadConfig(processEnv(), { purpose: "migrate", embedded: args.embedded, overrides: args["data-dir"] !== undefined ? { dataDir: args["data-dir"] } : {} });
    let stopEmbedded = async () => {};
    let url = config.databaseUrl!;
    if (args.embedded) {
      const { acquireDataDirLock } = await import("./port-lock");
      // A running `authly serve --embedded` holds this folder: its lock refuses us with its pid.
      const lock = await acquireDataDirLock(config.dataDir);
      if (args.status && !existsSync(join(config.dataDir, "pgdata", "PG_VERSION"))) {
        lock.release();
        throw new CliError(`No embedded database in ${config.dataDir}`, ExitCode.general, "Create it with `authly serve --embedded` (or `authly migrate --embedded`), or pass the right --data-dir.");
      }
      const { startPglite } = await import("../db/embedded");
      const db = await startPglite({ dataDir: config.dataDir, maxConnections: config.mode.pool.max + 1 });
      url = db.url;
      stopEmbedded = async () => {
        await db.stop().catch(() => {});
        lock.release();
      };
    }
    const sql = createSql({ url, pool: config.mode.pool });
    try {
      if (!args.status) {
        const applied = await migrate(sql);
        if (args.output !== "json") console.log(applied.length ? `✓ Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(", ")}` : "✓ Database is up to date");
      }
      const status = await migrationStatus(sql);
      if (args.output === "json") console.log(JSON.stringify({ migrations: status }, null, 2));
      else for (const m of status) console.log(`${m.applied ? "applied" : "pending"}  ${m.name}${m.applied_at ? `  ${m.applied_at}` : ""}`);
    } catch (err) {
      throw new CliError(`Migration failed: ${err instanceof Error ? err.message : String(err)}`, ExitCode.general);
    } finally {
      await sql.end({ timeout: 2 });
      await stopEmbedded();
    }
  },
});

export default Object.assign(migrateCommand, {
  help: helpText({
    details: "Migrations are forward-only SQL files embedded in the binary; each is applied once, in order, in its own transaction.\n`authly serve --migrate` (and every `serve --embedded`) applies them at start instead.",
    examples: [
      "# Apply pending migrations to DATABASE_URL\n$ DATABASE_URL=postgresql://authly:secret@db:5432/authly authly migrate",
      "# What is applied, as JSON\n$ authly migrate --status --output json | jq -r '.migrations[] | select(.applied | not) | .name'",
      "# The embedded database of `authly serve --embedded` (stop the server first)\n$ authly migrate --status --embedded --data-dir ~/.authly/embedded",
    ],
    json: '{ "migrations": [ { "version": 1, "name": "0001_initial", "applied": true, "applied_at": "2025-07-10T10:00:00.000Z" } ] }',
    exitCodes: [
      [0, "Success (migrations applied, or the status printed)"],
      [1, "Migration failed, database unreachable, or the embedded data folder is in use or missing"],
      [5, "Validation error (bad options, bad configuration such as a missing DATABASE_URL)"],
    ],
  }),
});
