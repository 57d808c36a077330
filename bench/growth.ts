// `bun run bench:growth`: do a user's token operations stay flat as the token tables grow?
// Measures p50/p99 of user-token issuance (authorization-code exchange: a grant and a refresh
// token written), refresh rotation, and introspection of a user's access token (its grant read)
// against a real `authly serve` on near-empty tables, then seeds 1 million rows each into
// refresh_tokens and access_tokens (plus grants and codes) in bulk with generate_series, ANALYZEs,
// and measures again; finally times one purge run over the grown tables. Client tokens
// (client_credentials) write no row at all and are not measured here.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench:growth [--rows 1000000] [--requests 3000] [--concurrency 8]
import { purgeExpired } from "../src/maintenance/service";
import { createOidcClient } from "../test/support/oidc-fixtures";
import { createCode } from "../test/support/fixtures";
import { fmt, parseArgs, startBenchServer, Stats, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const ROWS = Number(args.rows ?? 1_000_000);
const REQUESTS = Number(args.requests ?? 3000);
const CONCURRENCY = Number(args.concurrency ?? 8);
const CHUNK = 250_000;

const server = await startBenchServer();
const { deps, url, sql } = server;
console.log(`authly serve pid ${server.pid} on ${url} (schema ${server.schema})`);

await sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'growth') ON CONFLICT DO NOTHING`;
const REDIRECT = "https://rp.growth.example/cb";
const rp = await createOidcClient(deps, { redirect_uris: [REDIRECT], require_consent: false, grant_types: ["authorization_code", "refresh_token", "client_credentials"], scopes: ["openid", "offline_access", "api:read"] });
const basic = `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}`;
const FORM = "application/x-www-form-urlencoded";
const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('growth-user') RETURNING id`;

async function run(label: string, n: number, fn: (worker: number) => Promise<Response>, ok: (r: Response, body: any, worker: number) => boolean): Promise<Stats> {
  const s = new Stats();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < n) {
        next++;
        const start = performance.now();
        const r = await fn(worker);
        const body = await r.json().catch(() => undefined);
        if (ok(r, body, worker)) s.add(performance.now() - start);
        else s.fail(`${label}: ${r.status} ${JSON.stringify(body)}`);
      }
    }),
  );
  return s;
}

const token = (body: Record<string, string>) => fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams(body).toString() });
/** Codes written the way the authorization endpoint stores them, used up by the exchange runs. */
async function codes(n: number) {
  return Promise.all(Array.from({ length: n }, () => createCode(deps, { clientId: rp.client_id, userId: user!.id, scope: "openid offline_access api:read", redirectUri: REDIRECT, nonce: null })));
}

async function measure(phase: string): Promise<Record<string, string | number>[]> {
  const warm = await codes(200);
  const pending = await codes(REQUESTS);
  const exchange = (c: { code: string; verifier: string }) => token({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT });
  // Warm-up (JIT, prepared statements, key cache), then the measured runs.
  await run("warm-up", warm.length, () => exchange(warm.pop()!), (r) => r.status === 200);
  // One refresh chain and one access token per worker, from the exchanges.
  const chains: string[] = [];
  let access = "";
  const exchanges = await run("exchange", REQUESTS, () => exchange(pending.pop()!), (r, b, w) => {
    if (r.status !== 200 || !b?.refresh_token) return false;
    chains[w] = b.refresh_token;
    access = b.access_token;
    return true;
  });
  const rotations = await run("refresh", REQUESTS, (w) => token({ grant_type: "refresh_token", refresh_token: chains[w]! }), (r, b, w) => {
    if (r.status !== 200 || !b?.refresh_token) return false;
    chains[w] = b.refresh_token;
    return true;
  });
  const introspect = () => fetch(`${url}/oauth/introspect`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams({ token: access }).toString() });
  const introspectUnknownRefresh = () =>
    fetch(`${url}/oauth/introspect`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams({ token: `rt-${crypto.randomUUID()}`, token_type_hint: "refresh_token" }).toString() });
  const results: [string, Stats][] = [
    ["user token issuance (code exchange: grant + refresh token written)", exchanges],
    ["refresh rotation (user token)", rotations],
    ["introspection (user access token: its grant read)", await run("introspect", REQUESTS, introspect, (r, b) => r.status === 200 && b?.active === true)],
    ["introspection (unknown refresh token)", await run("introspect-rt", REQUESTS, introspectUnknownRefresh, (r, b) => r.status === 200 && b?.active === false)],
  ];
  return results.map(([name, s]) => ({ phase, operation: name, requests: s.ms.length, errors: s.errors, "p50 ms": fmt(s.pct(50)), "p99 ms": fmt(s.pct(99)) }));
}

async function counts(): Promise<string> {
  const [r] = await sql<{ a: number; rt: number; g: number; c: number }[]>`
    SELECT (SELECT count(*) FROM access_tokens)::int AS a, (SELECT count(*) FROM refresh_tokens)::int AS rt,
           (SELECT count(*) FROM grants)::int AS g, (SELECT count(*) FROM authorization_codes)::int AS c`;
  return `access_tokens=${r!.a} refresh_tokens=${r!.rt} grants=${r!.g} authorization_codes=${r!.c}`;
}

console.log(`baseline: ${await counts()}`);
const before = await measure("empty");

// Seed in bulk: grants first (refresh and access tokens reference them), 4 tokens per grant, a
// spread of expiries (a quarter already expired, as in a server that has run for a while).
const seedStart = performance.now();
const grants = Math.ceil(ROWS / 4);
for (let from = 1; from <= grants; from += CHUNK) {
  const to = Math.min(grants, from + CHUNK - 1);
  await sql`
    INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at)
    SELECT md5('g' || i)::uuid, 'seed-client-' || (i % 100), ${user!.id}, 'authorization_code', 'openid offline_access',
           now() + (random() * 40 - 10) * interval '1 day'
    FROM generate_series(${from}::int, ${to}::int) i`;
}
for (const table of ["refresh_tokens", "access_tokens"]) {
  for (let from = 1; from <= ROWS; from += CHUNK) {
    const to = Math.min(ROWS, from + CHUNK - 1);
    if (table === "refresh_tokens") {
      await sql`
        INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at, rotated_at)
        SELECT encode(sha256(('rt' || i)::bytea), 'base64'), md5('g' || ((i - 1) / 4 + 1))::uuid, 'seed-client-' || (((i - 1) / 4 + 1) % 100), ${user!.id},
               'openid offline_access', now() + (random() * 40 - 10) * interval '1 day', CASE WHEN i % 4 <> 0 THEN now() END
        FROM generate_series(${from}::int, ${to}::int) i`;
    } else {
      await sql`
        INSERT INTO access_tokens (jti, grant_id, client_id, user_id, scope, expires_at)
        SELECT 'seed-' || i, md5('g' || ((i - 1) / 4 + 1))::uuid, 'seed-client-' || (((i - 1) / 4 + 1) % 100), ${user!.id}, 'openid',
               now() + (random() * 2 - 1) * interval '1 hour'
        FROM generate_series(${from}::int, ${to}::int) i`;
    }
    process.stdout.write(`\r  ${table}: ${to.toLocaleString()} rows`);
  }
  process.stdout.write("\n");
}
await sql`
  INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, auth_time, expires_at, consumed_at)
  SELECT encode(sha256(('code' || i)::bytea), 'base64'), 'seed-client-' || (i % 100), ${user!.id}, 'https://rp/cb', 'openid', 'x', now(),
         now() + (random() * 2 - 1) * interval '10 minutes', CASE WHEN i % 2 = 0 THEN now() END
  FROM generate_series(1, ${Math.ceil(ROWS / 5)}::int) i`;
await sql`ANALYZE grants`;
await sql`ANALYZE refresh_tokens`;
await sql`ANALYZE access_tokens`;
await sql`ANALYZE authorization_codes`;
const seedSeconds = (performance.now() - seedStart) / 1000;
const [size] = await sql<{ mb: number }[]>`
  SELECT (pg_total_relation_size('access_tokens') + pg_total_relation_size('refresh_tokens') + pg_total_relation_size('grants') + pg_total_relation_size('authorization_codes')) / 1048576.0 AS mb`;
console.log(`seeded in ${seedSeconds.toFixed(1)} s: ${await counts()} (${Number(size!.mb).toFixed(0)} MiB with indexes)`);

const afterRows = await measure(`${ROWS.toLocaleString("en")} rows`);

// One purge run over the grown tables (bounded batches; what each node does every few minutes).
const purge = await purgeExpired(deps, { batchSize: 5000, maxBatches: 20, graceSeconds: 0 });
console.log(`\npurge run: ${Math.round(purge.ms)} ms, deleted ${JSON.stringify(purge.deleted)}${purge.unfinished.length ? `, more left in ${purge.unfinished.join(", ")}` : ""}`);

console.log(`\nGrowth: ${REQUESTS} requests per operation, concurrency ${CONCURRENCY}`);
console.log(table([...before, ...afterRows]));
for (let i = 0; i < before.length; i++) {
  const a = Number(before[i]!["p99 ms"]);
  const b = Number(afterRows[i]!["p99 ms"]);
  console.log(`  ${before[i]!.operation}: p99 ${fmt(a)} -> ${fmt(b)} ms (x${(b / a).toFixed(2)})`);
}
const errors = [...before, ...afterRows].reduce((n, r) => n + Number(r.errors), 0);
await server.stop();
process.exit(errors > 0 ? 1 : 0);
