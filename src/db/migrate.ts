// Forward-only migrations, applied in order in one transaction under a PostgreSQL advisory lock so
// that workers or nodes starting at once never race; each applied migration is recorded.
import type { Sql } from "./sql";
import { MIGRATIONS, type Migration } from "./migrations";

export interface MigrationStatus {
  version: number;
  name: string;
  applied: boolean;
  applied_at: string | null;
}

function checksum(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** Applies pending migrations; returns the ones applied now. */
export async function migrate(sql: Sql, migrations: Migration[] = MIGRATIONS): Promise<Migration[]> {
  return sql.begin(async (tx) => {
    // Per schema, so per-test schemas do not wait on each other.
    await tx`SELECT pg_advisory_xact_lock(hashtext('authly_migrations:' || current_schema()))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const rows = await tx<{ version: number; checksum: string; name: string }[]>`SELECT version, name, checksum FROM schema_migrations`;
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior && prior.checksum !== checksum(m.sql)) {
        throw new Error(`Migration ${m.name} was changed after it was applied; migrations are forward-only: add a new one instead`);
      }
    }
    const applied: Migration[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${checksum(m.sql)})`;
      applied.push(m);
    }
    return applied;
  }) as Promise<Migration[]>;
}

/** Which migrations are applied, and when. */
export async function migrationStatus(sql: Sql, migrations: Migration[] = MIGRATIONS): Promise<MigrationStatus[]> {
  const [exists] = await sql<{ t: string | null }[]>`SELECT to_regclass('schema_migrations')::text AS t`;
  const rows = exists?.t
    ? await sql<{ version: number; applied_at: Date }[]>`SELECT version, applied_at FROM schema_migrations`
    : [];
  const at = new Map(rows.map((r) => [r.version, r.applied_at]));
  return migrations.map((m) => ({
    version: m.version,
    name: m.name,
    applied: at.has(m.version),
    applied_at: at.get(m.version)?.toISOString() ?? null,
  }));
}

export async function pendingCount(sql: Sql): Promise<number> {
  return (await migrationStatus(sql)).filter((m) => !m.applied).length;
}
