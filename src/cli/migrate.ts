// `authly migrate` (apply pending migrations) and `authly migrate --status` (list them).
import { defineCommand } from "citty";
import { loadConfig, processEnv } from "../config";
import { createSql } from "../db/sql";
import { migrate, migrationStatus } from "../db/migrate";
import { CliError, ExitCode } from "../errors";

export default defineCommand({
  meta: { name: "migrate", description: "Apply pending database migrations (or show their status)." },
  args: {
    status: { type: "boolean", description: "Only show which migrations are applied", default: false },
    output: { type: "string", description: "Output format: table|json", default: "table" },
  },
  async run({ args }) {
    const config = loadConfig(processEnv(), { purpose: "migrate" });
    const sql = createSql({ url: config.databaseUrl!, pool: config.mode.pool });
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
    }
  },
});
