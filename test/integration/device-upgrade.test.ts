// An existing database (bootstrapped before the device grant) gets it for the built-in CLI client
// when migration 0006 runs, so `authly admin auth login --device` works after an upgrade.
import { expect, test } from "bun:test";
import { migrate } from "../../src/db/migrate";
import { MIGRATIONS } from "../../src/db/migrations";
import { createTestDatabase } from "../support/db";

test("migration 0006 adds the device grant to an existing authly-cli client, once", async () => {
  const db = await createTestDatabase({ migrated: false });
  await migrate(db.sql, MIGRATIONS.filter((m) => m.version < 6));
  await db.sql`
    INSERT INTO clients (client_id, client_type, client_name, redirect_uris, grant_types, response_types, scopes, token_endpoint_auth_method, is_first_party, require_consent)
    VALUES ('authly-cli', 'public', 'Authly admin CLI', '{}', '{password,refresh_token}', '{}', '{admin:system:read}', 'none', true, false)`;
  await migrate(db.sql);
  const [cli] = await db.sql<{ grant_types: string[] }[]>`SELECT grant_types FROM clients WHERE client_id = 'authly-cli'`;
  expect(cli!.grant_types).toEqual(["password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]);
  const [table] = await db.sql<{ t: string | null }[]>`SELECT to_regclass('device_codes')::text AS t`;
  expect(table!.t).toBe("device_codes");
});
