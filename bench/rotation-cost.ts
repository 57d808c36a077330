// `bun run bench/rotation-cost.ts`: where a refresh rotation's cost goes, measured so that a busy
// machine does not blur it: CPU time of the `authly serve` process and of its own PostgreSQL
// backends per rotation (from /proc, so PostgreSQL must run on this host), WAL bytes per rotation
// (pg_current_wal_lsn), the HOT share of refresh_tokens updates, and, where pg_stat_statements is
// loaded, each statement's calls, time and WAL per rotation (a before/after difference: nothing is
// reset). Requests/second is printed too, but it moves with the machine's other load.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench/rotation-cost.ts [--rotations 3000] [--chains 32] [--openid] [--exchange]
//
// --openid: the grants have scope "openid profile email offline_access" (as in bench/peer.ts), so
// every rotation also issues an ID token (ES256, like the access token).
// --exchange: authorization-code exchanges instead of rotations (codes stored beforehand, each
// with a PKCE challenge; with --openid an ID token and a refresh token per exchange).
import { hashToken } from "../src/tokens/service";
import { randomToken } from "../src/lib/crypto";
import { s256Challenge } from "../src/oauth/pkce";
import { BASE_URL, fmt, localPortsTo, parseArgs, processCpuSeconds, startBenchServer, Stats, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const ROTATIONS = Number(args.rotations ?? 3000);
const CHAINS = Number(args.chains ?? 32);
const OPENID = "openid" in args;
const EXCHANGE = "exchange" in args;
const WHAT = EXCHANGE ? "code exchange" : "rotation";
const SCOPE = OPENID ? "openid profile email offline_access" : "api:read";

const server = await startBenchServer({ AUTHLY_ACCESS_TOKEN_ALG: "ES256", AUTHLY_ID_TOKEN_ALG: "ES256" });
const { deps, url, sql, schema } = server;
const dbPort = Number(new URL(BASE_URL).port || 5432);
try {
  // ID tokens in ES256 (the column's default is RS256, OIDC Core's default: ~0.5 ms of CPU a signature).
  await sql`INSERT INTO clients (client_id, client_type, client_name, grant_types, scopes, token_endpoint_auth_method, redirect_uris, id_token_signed_response_alg)
    VALUES ('rot-app', 'public', 'rotation bench', ${["authorization_code", "refresh_token"]}, ${SCOPE.split(" ")}, 'none', ${["http://127.0.0.1/cb"]}, 'ES256')`;
  const [user] = await sql<{ id: string }[]>`INSERT INTO users (username, email, email_verified, name) VALUES ('rot-user', 'rot-user@example.test', true, 'Rot User') RETURNING id`;
  const chains: string[] = [];
  for (let i = 0; i < CHAINS; i++) {
    const [g] = await sql<{ id: string }[]>`INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES ('rot-app', ${user!.id}, 'authorization_code', ${SCOPE}, now() + interval '1 day') RETURNING id`;
    const t = randomToken(32);
    await sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES (${hashToken(deps, t)}, ${g!.id}, 'rot-app', ${user!.id}, ${SCOPE}, now() + interval '1 day')`;
    chains.push(t);
  }
  const stats = new Stats();
  const WARM_UP = Math.min(500, ROTATIONS / 5);
  // --exchange: one stored code per request, each with its own verifier (S256).
  const codes: string[] = [];
  if (EXCHANGE) {
    const rows = Array.from({ length: WARM_UP + ROTATIONS }, () => {
      const code = randomToken(32);
      const verifier = randomToken(32);
      codes.push(`${code} ${verifier}`);
      return { code_hash: hashToken(deps, code), client_id: "rot-app", user_id: user!.id, redirect_uri: "http://127.0.0.1/cb", scope: SCOPE, code_challenge: s256Challenge(verifier), code_challenge_method: "S256", auth_time: new Date(), expires_at: new Date(Date.now() + 3_600_000) };
    });
    for (let i = 0; i < rows.length; i += 500) await sql`INSERT INTO authorization_codes ${sql(rows.slice(i, i + 500))}`;
  }
  const request = (i: number): string => {
    if (!EXCHANGE) return `grant_type=refresh_token&client_id=rot-app&refresh_token=${chains[i]}`;
    const [code, verifier] = codes.pop()!.split(" ");
    return `grant_type=authorization_code&client_id=rot-app&redirect_uri=${encodeURIComponent("http://127.0.0.1/cb")}&code=${code}&code_verifier=${verifier}`;
  };
  let left = 0;
  const drive = (n: number) => {
    left = n;
    return Promise.all(chains.map(async (_, i) => {
      while (left > 0) {
        left--;
        const start = performance.now();
        const r = await fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: request(i) });
        const body = (await r.json()) as { refresh_token?: string; id_token?: string };
        if (r.status === 200 && body.refresh_token && (!OPENID || body.id_token)) {
          if (!EXCHANGE) chains[i] = body.refresh_token;
          stats.add(performance.now() - start);
        } else stats.fail(`${r.status} ${JSON.stringify(body)}`);
      }
    }));
  };
  await drive(WARM_UP); // warm-up: JIT, pool, prepared statements
  stats.ms.length = 0;

  const backends = async () => {
    const ports = localPortsTo(server.pid, dbPort);
    return (await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE client_port = ANY(${ports}::int[])`).map((r) => r.pid);
  };
  const statements = async () => {
    try {
      return await sql<{ queryid: string; calls: number; ms: number; wal: number; query: string }[]>`
        SELECT queryid::text, calls::float8 AS calls, total_exec_time AS ms, wal_bytes::float8 AS wal, query FROM public.pg_stat_statements`;
    } catch {
      return undefined; // not loaded (shared_preload_libraries) or not created
    }
  };
  const tableStats = async () => {
    await sql`SELECT pg_stat_clear_snapshot()`;
    const [r] = await sql<{ upd: number; hot: number }[]>`SELECT n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot FROM pg_stat_user_tables WHERE schemaname = ${schema} AND relname = ${EXCHANGE ? "authorization_codes" : "refresh_tokens"}`;
    return r ?? { upd: 0, hot: 0 };
  };

  const pgPids = await backends();
  const before = { server: processCpuSeconds(server.pid), db: pgPids.map(processCpuSeconds), lsn: (await sql<{ l: string }[]>`SELECT pg_current_wal_lsn()::text AS l`)[0]!.l, st: await statements(), t: await tableStats() };
  const started = performance.now();
  await drive(ROTATIONS);
  const seconds = (performance.now() - started) / 1000;
  const after = { server: processCpuSeconds(server.pid), db: pgPids.map(processCpuSeconds), wal: (await sql<{ b: number }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${before.lsn}::pg_lsn)::float8 AS b`)[0]!.b, st: await statements() };
  await Bun.sleep(1500); // table statistics are flushed about once a second
  const t = await tableStats();
  const n = stats.ms.length;
  const dbCpu = after.db.reduce((a, b) => a + b, 0) - before.db.reduce((a, b) => a + b, 0);

  console.log(`\n${EXCHANGE ? "Code exchange" : "Refresh rotation"} cost${OPENID ? " (with an ID token)" : ""}: ${n} ${WHAT}s over ${CHAINS} ${EXCHANGE ? "clients" : "chains"}, ${stats.errors} errors, ${(n / seconds).toFixed(0)} req/s on this machine now (p50 ${fmt(stats.pct(50))} ms, p99 ${fmt(stats.pct(99))} ms)\n`);
  console.log(table([
    { measure: `authly serve CPU per ${WHAT}`, value: `${((after.server - before.server) / n * 1000).toFixed(3)} ms` },
    { measure: `PostgreSQL CPU per ${WHAT} (${pgPids.length} backends of the server)`, value: pgPids.length ? `${(dbCpu / n * 1000).toFixed(3)} ms` : "- (not local)" },
    { measure: `WAL per ${WHAT} (whole cluster)`, value: `${(after.wal / n).toFixed(0)} bytes` },
    { measure: `${EXCHANGE ? "authorization_codes" : "refresh_tokens"} updates that were HOT`, value: t.upd - before.t.upd ? `${(((t.hot - before.t.hot) / (t.upd - before.t.upd)) * 100).toFixed(0)} %` : "-" },
    { measure: "capacity at 2 busy cores (server + database only)", value: `${(2 / ((after.server - before.server + dbCpu) / n)).toFixed(0)} ${WHAT}s/s` },
  ]));
  if (before.st && after.st) {
    const old = new Map(before.st.map((s) => [s.queryid, s]));
    const rows = after.st
      .map((s) => ({ s, o: old.get(s.queryid) }))
      .map(({ s, o }) => ({ calls: s.calls - (o?.calls ?? 0), ms: s.ms - (o?.ms ?? 0), wal: s.wal - (o?.wal ?? 0), query: s.query }))
      .filter((r) => r.calls >= n / 2)
      .sort((a, b) => b.ms - a.ms);
    console.log(`\npg_stat_statements, per ${WHAT}:\n`);
    console.log(table(rows.map((r) => ({ "calls": (r.calls / n).toFixed(2), "exec ms": (r.ms / n).toFixed(3), "WAL bytes": (r.wal / n).toFixed(0), statement: r.query.replace(/\s+/g, " ").slice(0, 90) }))));
  } else console.log("\n(pg_stat_statements is not loaded here: no per-statement figures)");
  if (stats.errorSamples.length) console.log(`\nerrors: ${stats.errorSamples.join("\n")}`);
} finally {
  await server.stop();
}
