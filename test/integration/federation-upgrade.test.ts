// An existing database with upstream providers (registered before migration 0016) keeps how each
// authenticated at its token endpoint: client_secret_basic with a secret, a public client without.
import { expect, test } from "bun:test";
import { migrate } from "../../src/db/migrate";
import { MIGRATIONS } from "../../src/db/migrations";
import { createTestDatabase } from "../support/db";

test("migration 0016 gives existing providers the method they used, and sessions no upstream sub/sid", async () => {
  const db = await createTestDatabase({ migrated: false });
  await migrate(db.sql, MIGRATIONS.filter((m) => m.version < 16));
  await db.sql`
    INSERT INTO upstream_idps (slug, name, kind, authorization_endpoint, token_endpoint, client_id, client_secret_sealed)
    VALUES ('with-secret', 'S', 'oauth2', 'https://idp.example/a', 'https://idp.example/t', 'c', 'v1.sealed'),
           ('public', 'P', 'oauth2', 'https://idp.example/a', 'https://idp.example/t', 'c', NULL)`;
  await migrate(db.sql);
  const rows = await db.sql<{ slug: string; token_endpoint_auth_method: string; client_key_kid: string | null }[]>`
    SELECT slug, token_endpoint_auth_method, client_key_kid FROM upstream_idps ORDER BY slug`;
  expect(rows.map((r) => ({ ...r }))).toEqual([
    { slug: "public", token_endpoint_auth_method: "none", client_key_kid: null },
    { slug: "with-secret", token_endpoint_auth_method: "client_secret_basic", client_key_kid: null },
  ]);
  // The method is constrained.
  await expect(db.sql`UPDATE upstream_idps SET token_endpoint_auth_method = 'client_secret_jwt'`).rejects.toThrow();
  const [cols] = await db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'sessions' AND column_name IN ('upstream_sub', 'upstream_sid')`;
  expect(cols!.n).toBe(2);
});
