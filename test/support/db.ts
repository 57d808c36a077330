// A fresh PostgreSQL schema per test file, on TEST_DATABASE_URL / DATABASE_URL when set, else on
// one in-process embedded PGlite shared by the whole `bun test` run. The URL carries the schema
// (`?search_path=`), so subprocesses (server, CLI, binary) reach the same isolated data.
import { afterAll } from "bun:test";
import { createSql, type Sql } from "../../src/db/sql";
import { migrate } from "../../src/db/migrate";
import { POOL_SETTINGS } from "../../src/modes";

export interface TestDatabase {
  /** URL including ?search_path=<schema>. */
  url: string;
  schema: string;
  sql: Sql;
  engine: "postgres" | "pglite";
  drop(): Promise<void>;
}

let embedded: Promise<{ url: string }> | undefined;

/** The server URL tests use: the configured PostgreSQL, or the shared embedded engine. */
export async function baseDatabaseUrl(): Promise<{ url: string; engine: "postgres" | "pglite" }> {
  const configured = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (configured) return { url: configured, engine: "postgres" };
  embedded ??= import("../../src/db/embedded").then((m) => m.startPglite({ maxConnections: 200 }));
  return { url: (await embedded).url, engine: "pglite" };
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("search_path", schema);
  return u.toString();
}

/** Creates an empty schema (migrated unless `migrated: false`), dropped after the file's tests. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const base = await baseDatabaseUrl();
  const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = createSql({ url: base.url, pool: { ...POOL_SETTINGS.testing, max: 1 } });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.end({ timeout: 1 });
  const url = withSearchPath(base.url, schema);
  const sql = createSql({ url, pool: POOL_SETTINGS.testing });
  if (opts.migrated !== false) await migrate(sql);
  let dropped = false;
  const db: TestDatabase = {
    url,
    schema,
    sql,
    engine: base.engine,
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 1 }).catch(() => {});
      const a = createSql({ url: base.url, pool: { ...POOL_SETTINGS.testing, max: 1 } });
      await a.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await a.end({ timeout: 1 }).catch(() => {});
    },
  };
  afterAll(() => db.drop());
  return db;
}
