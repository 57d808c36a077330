// An isolated test database: on TEST_DATABASE_URL / DATABASE_URL when set, a fresh schema (the URL
// carries `?search_path=`, so subprocesses — server, CLI, binary — reach the same isolated data);
// otherwise (a fresh machine with only Bun) a clone of a migrated in-process PGlite template,
// served on its own loopback port. PGlite is one session, so a schema per test would not isolate.
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

type PGliteInstance = import("@electric-sql/pglite").PGlite;
let templates: Promise<{ fresh: PGliteInstance; migrated: PGliteInstance }> | undefined;

/** The engine tests use: the configured PostgreSQL, or (without one) embedded PGlite. */
export async function baseDatabaseUrl(): Promise<{ url: string; engine: "postgres" | "pglite" }> {
  const configured = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (configured) return { url: configured, engine: "postgres" };
  return { url: "", engine: "pglite" };
}

/** initdb once, migrate a copy once; every test database is a clone of one of the two. */
function pgliteTemplates() {
  templates ??= (async () => {
    const { createPglite, serveOverSocket } = await import("../../src/db/embedded");
    const fresh = await createPglite();
    const migrated = await fresh.clone();
    const served = await serveOverSocket(migrated as PGliteInstance, 2);
    const sql = createSql({ url: served.url, pool: { ...POOL_SETTINGS.testing, max: 1 } });
    await migrate(sql);
    await sql.end({ timeout: 1 });
    await served.stop({ closeDatabase: false });
    return { fresh, migrated: migrated as PGliteInstance };
  })();
  return templates;
}

async function createPgliteDatabase(migrated: boolean): Promise<TestDatabase> {
  const { serveOverSocket } = await import("../../src/db/embedded");
  const t = await pgliteTemplates();
  const instance = (await (migrated ? t.migrated : t.fresh).clone()) as PGliteInstance;
  const served = await serveOverSocket(instance, 200);
  const sql = createSql({ url: served.url, pool: POOL_SETTINGS.testing });
  let dropped = false;
  const db: TestDatabase = {
    url: served.url,
    schema: "public",
    sql,
    engine: "pglite",
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 1 }).catch(() => {});
      await served.stop().catch(() => {});
    },
  };
  afterAll(() => db.drop());
  return db;
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("search_path", schema);
  return u.toString();
}

/** Creates an empty schema (migrated unless `migrated: false`), dropped after the file's tests. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const base = await baseDatabaseUrl();
  if (base.engine === "pglite") return createPgliteDatabase(opts.migrated !== false);
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
