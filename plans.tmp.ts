import { createSql } from "./src/db/sql";
import { migrate } from "./src/db/migrate";
import { rotateRefreshToken } from "./src/tokens/store";
const admin = createSql({ url: "postgresql://postgres@127.0.0.1:5432/test", pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 5 } });
await admin.unsafe("DROP SCHEMA IF EXISTS hr_plans CASCADE; CREATE SCHEMA hr_plans");
const sql = createSql({ url: "postgresql://postgres@127.0.0.1:5432/test", schema: "hr_plans", pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 5 } });
await migrate(sql);
await sql`INSERT INTO clients (client_id, client_type, client_name, grant_types, scopes, token_endpoint_auth_method, redirect_uris) VALUES ('c', 'public', 'c', ${["refresh_token"]}, ${["api:read"]}, 'none', ${["http://x/cb"]})`;
const [u] = await sql`INSERT INTO users (username) VALUES ('u') RETURNING id`;
const [g] = await sql`INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES ('c', ${u!.id}, 'authorization_code', 'api:read', now() + interval '30 days') RETURNING id`;
await sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES ('t0', ${g!.id}, 'c', ${u!.id}, 'api:read', now() + interval '1 day')`;
const N = Number(process.argv[2] ?? 200);
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const r = await rotateRefreshToken(sql, { tokenHash: "t" + i, clientId: "c", newTokenHash: "t" + (i + 1), newExpiresAt: new Date(Date.now() + 86400e3), accessTokenExpiresAt: new Date(Date.now() + 3600e3), grantMaxLifetimeSeconds: 31536000, stepSeconds: 86400 });
  if (!r) throw new Error("no row " + i);
}
console.log("ms per rotation (serial, autocommit)", ((performance.now() - t0) / N).toFixed(3));
console.log(await sql`SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 60) AS s FROM pg_prepared_statements WHERE statement LIKE '%rotated%'`);
await sql.end(); await admin.unsafe("DROP SCHEMA hr_plans CASCADE"); await admin.end();
