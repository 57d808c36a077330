// `bun run bench:growth`: do a user's token operations stay flat as the token tables grow?
// Two real `authly serve` processes on two schemas: one with near-empty tables, one seeded with
// 1 million rows each in refresh_tokens and access_tokens (plus grants and codes) in bulk with
// generate_series, then VACUUM ANALYZEd. Measures p50/p99 of user-token issuance
// (authorization-code exchange: a grant and a refresh token written), refresh rotation, and
// introspection of a user's access token (its grant read) on each, in alternating rounds (empty,
// grown, empty, grown, ...) so that the load of a shared machine falls on both alike; prints each
// round and the median of the rounds. Finally times one purge run over the grown tables. Client
// tokens (client_credentials) write no row at all and are not measured here.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench:growth [--rows 1000000] [--requests 1000] [--rounds 3] [--concurrency 8]
import { purgeExpired } from "../src/maintenance/service";
import { createOidcClient } from "../test/support/oidc-fixtures";
import { createCode } from "../test/support/fixtures";
import { fmt, parseArgs, startBenchServer, Stats, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const ROWS = Number(args.rows ?? 1_000_000);
const REQUESTS = Number(args.requests ?? 1000);
const ROUNDS = Math.max(1, Number(args.rounds ?? 3));
const CONCURRENCY = Number(args.concurrency ?? 8);
const CHUNK = 250_000;

const FORM = "application/x-www-form-urlencoded";
const REDIRECT = "https://rp.growth.example/cb";

/** A server with its client and user: where the measured requests go. */
async function setUp(label: string) {
  const server = await startBenchServer();
  const { deps, sql } = server;
  console.log(`${label}: authly serve pid ${server.pid} on ${server.url} (schema ${server.schema})`);
  await sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'growth') ON CONFLICT DO NOTHING`;
  const rp = await createOidcClient(deps, { redirect_uris: [REDIRECT], require_consent: false, grant_types: ["authorization_code", "refresh_token", "client_credentials"], scopes: ["openid", "offline_access", "api:read"] });
  const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('growth-user') RETURNING id`;
  return { server, deps, sql, url: server.url, rp, userId: user!.id, basic: `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}` };
}
type Target = Awaited<ReturnType<typeof setUp>>;

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

async function measure(x: Target, phase: string): Promise<Record<string, string | number>[]> {
  const { url, basic, deps, rp, userId } = x;
  const token = (body: Record<string, string>) => fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams(body).toString() });
  /** Codes written the way the authorization endpoint stores them, used up by the exchange runs. */
  const codes = (n: number) => Promise.all(Array.from({ length: n }, () => createCode(deps, { clientId: rp.client_id, userId, scope: "openid offline_access api:read", redirectUri: REDIRECT, nonce: null })));
  const warm = await codes(100);
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
    ["user token issuance (code exchange)", exchanges],
    ["refresh rotation (user token)", rotations],
    ["introspection (user access token)", await run("introspect", REQUESTS, introspect, (r, b) => r.status === 200 && b?.active === true)],
    ["introspection (unknown refresh token)", await run("introspect-rt", REQUESTS, introspectUnknownRefresh, (r, b) => r.status === 200 && b?.active === false)],
  ];
  return results.map(([name, s]) => ({ phase, operation: name, requests: s.ms.length, errors: s.errors, "p50 ms": fmt(s.pct(50)), "p99 ms": fmt(s.pct(99)) }));
}

const empty = await setUp("empty");
const grown = await setUp("grown");
const { sql, deps } = grown;
const user = { id: grown.userId };

async function counts(): Promise<string> {
  const [r] = await sql<{ a: number; rt: number; g: number; c: number }[]>`
    SELECT (SELECT count(*) FROM access_tokens)::int AS a, (SELECT count(*) FROM refresh_tokens)::int AS rt,
           (SELECT count(*) FROM grants)::int AS g, (SELECT count(*) FROM authorization_codes)::int AS c`;
  return `access_tokens=${r!.a} refresh_tokens=${r!.rt} grants=${r!.g} authorization_codes=${r!.c}`;
}


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
// As a server that has run for a while: vacuumed and analysed (not autovacuum running mid-measure).
for (const t of ["grants", "refresh_tokens", "access_tokens", "authorization_codes"]) await sql.unsafe(`VACUUM ANALYZE ${t}`);
const seedSeconds = (performance.now() - seedStart) / 1000;
const [size] = await sql<{ mb: number }[]>`
  SELECT (pg_total_relation_size('access_tokens') + pg_total_relation_size('refresh_tokens') + pg_total_relation_size('grants') + pg_total_relation_size('authorization_codes')) / 1048576.0 AS mb`;
console.log(`seeded in ${seedSeconds.toFixed(1)} s: ${await counts()} (${Number(size!.mb).toFixed(0)} MiB with indexes)`);

const grownLabel = `${ROWS.toLocaleString("en")} rows`;
const rows: Record<string, string | number>[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  rows.push(...(await measure(empty, `empty, round ${round}`)), ...(await measure(grown, `${grownLabel}, round ${round}`)));
}

// One purge run over the grown tables (bounded batches; what each node does every few minutes).
const purge = await purgeExpired(deps, { batchSize: 5000, maxBatches: 20, graceSeconds: 0 });
console.log(`\npurge run: ${Math.round(purge.ms)} ms, deleted ${JSON.stringify(purge.deleted)}${purge.unfinished.length ? `, more left in ${purge.unfinished.join(", ")}` : ""}`);

console.log(`\nGrowth: ${REQUESTS} requests per operation and round, ${ROUNDS} alternating rounds, concurrency ${CONCURRENCY}`);
console.log(table(rows));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const ops = [...new Set(rows.map((r) => String(r.operation)))];
console.log(`\nMedian of the rounds (p50 / p99 ms):`);
console.log(table(ops.map((op) => {
  const of = (prefix: string, col: string) => median(rows.filter((r) => r.operation === op && String(r.phase).startsWith(prefix)).map((r) => Number(r[col])));
  const e99 = of("empty", "p99 ms");
  const g99 = of(grownLabel, "p99 ms");
  return { operation: op, empty: `${fmt(of("empty", "p50 ms"))} / ${fmt(e99)}`, [grownLabel]: `${fmt(of(grownLabel, "p50 ms"))} / ${fmt(g99)}`, "p99 ratio": `x${(g99 / e99).toFixed(2)}` };
})));
const errors = rows.reduce((n, r) => n + Number(r.errors), 0);
await empty.server.stop();
await grown.server.stop();
process.exit(errors > 0 ? 1 : 0);
