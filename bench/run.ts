// `bun run bench`: the token service under load on loopback. Starts `authly serve` on the local
// PostgreSQL (a throw-away database, dropped afterwards) and a raw Bun.serve "hello" as the ceiling, then
// drives each with Debian's `wrk` and prints requests/second and p50/p99 latency per endpoint.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench [--duration 10] [--rounds 3] [--connections 64]
//     [--workers 1] [--threads 1] [--pin true|servers|false] [--only discovery,jwks,client,intro,refresh]
//
// "client_credentials DPoP EdDSA|ES256" is client_credentials with a DPoP proof (RFC 9449) per
// request, signed beforehand (wrk cannot sign) just before its run, so each iat is fresh and each
// jti new; its share of plain client_credentials (measured in the same run) has a 70 % target.
// Each Authly run also prints the server's CPU per answered request (from /proc, --workers 1): its
// event loop's and all its threads' (signatures run on a helper thread, lib/crypto-threads.ts), a
// cost that a busy machine blurs far less than requests per second.
//
// Needs `wrk` (apt-get install -y wrk); when it is missing and we are root, it is installed.
// Then the companion benches (bench/companions.ts), first of them Authly side by side with
// node-oidc-provider 9 (bench/peer.ts: installs the peer into bench/.peer with npm, runs it under
// Node.js; --peer false skips it).
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSql } from "../src/db/sql";
import { deriveKey, hashSecret, randomToken } from "../src/lib/crypto";
import { runCompanionBenches } from "./companions";
import { createDpopProof, generateDpopKey, type DpopAlg } from "../src/lib/dpop-proof";
import { benchDatabase, cpuTimes, freePort, parseArgs, spawnLogged, waitReady } from "./load-support";
import { ensureWrk, luaPost, luaQueuedHeader, luaRefresh, runWrk as wrkRun, writeScript, type WrkResult as Result } from "./wrk";

const args = parseArgs(process.argv.slice(2));
const DURATION = Number(args.duration ?? 10);
const CONNECTIONS = Number(args.connections ?? 64);
const WORKERS = Number(args.workers ?? 1);
const THREADS = Number(args.threads ?? 1);
// Each endpoint is measured in ROUNDS pairs (raw Bun, then the endpoint) and the median share is
// kept: the machine's own speed swings ±15 % between runs.
const ROUNDS = Math.max(1, Number(args.rounds ?? 3));
// With two or more CPUs wrk runs on CPU 1 (taskset) so that it cannot land on the core of the
// server it measures, run after run; --pin servers also confines the servers to CPU 0 (harder on
// Authly: its helper threads and PostgreSQL then share one core); --pin false turns pinning off.
const PIN = args.pin !== "false" && navigator.hardwareConcurrency >= 2 && Bun.which("taskset") !== null;
const PIN_SERVERS = PIN && args.pin === "servers";
const onServerCpu = (cmd: string[]) => (PIN_SERVERS ? ["taskset", "-c", "0", ...cmd] : cmd);
const onLoadCpu = (cmd: string[]) => (PIN ? ["taskset", "-c", "1", ...cmd] : cmd);
const SECRETS = { JWT_SECRET_KEY: `bench-jwt-secret-${randomToken(24)}`, JWT_REFRESH_SECRET_KEY: `bench-refresh-secret-${randomToken(24)}` };

interface Pair {
  r: Result & { cost?: Cost };
  raw: Result;
}

/** The server's CPU per answered request during a run: its event loop, and all its threads. */
interface Cost {
  eventLoopUs: number;
  processUs: number;
}

/** The round with the median share of raw Bun stands for the endpoint; errors add up over rounds. */
function summarize(runs: Pair[]): Pair & { pct: number; pcts: number[]; eventLoopUs: number; processUs: number } {
  const share = (p: Pair) => (p.raw.rps ? (p.r.rps / p.raw.rps) * 100 : 0);
  const sorted = [...runs].sort((a, b) => share(a) - share(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const errors = runs.reduce((n, p) => n + p.r.errors, 0);
  return { r: { ...median.r, errors }, raw: median.raw, pct: share(median), pcts: runs.map(share), eventLoopUs: medianCost(runs, "eventLoopUs"), processUs: medianCost(runs, "processUs") };
}

/** `count` DPoP proofs for POST `htu`, from 16 keys of `alg` (a client keeps its key), one per line. */
async function writeProofs(file: string, alg: DpopAlg, htu: string, count: number): Promise<void> {
  const keys = await Promise.all(Array.from({ length: 16 }, () => generateDpopKey(alg)));
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await createDpopProof(keys[i % keys.length]!, { htm: "POST", htu }));
  writeFileSync(file, out.join("\n") + "\n");
}

const costText = (c?: Cost) => (c ? `   server CPU/request: event loop ${c.eventLoopUs.toFixed(0)} µs, all threads ${c.processUs.toFixed(0)} µs` : "");
/** The median over rounds of a cost (rounds with a cost only). */
const medianCost = (runs: Pair[], key: keyof Cost) => {
  const xs = runs.flatMap((p) => (p.r.cost ? [p.r.cost[key]] : [])).sort((a, b) => a - b);
  return xs.length ? xs[Math.floor((xs.length - 1) / 2)]! : Number.NaN;
};

async function main(): Promise<void> {
  const wrk = await ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), "authly-bench-"));
  const db = await benchDatabase();
  const url = new URL(db.url);
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  const cleanup = async () => {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    const rawPort = await freePort();
    const raw = spawnLogged(onServerCpu([process.execPath, "-e", `Bun.serve({ port: ${rawPort}, hostname: "127.0.0.1", fetch: () => new Response("hello") })`]), {});
    procs.push(raw.proc);
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const server = spawnLogged(
      onServerCpu([process.execPath, "src/main.ts", "serve", "--migrate", "--port", String(port), "--host", "127.0.0.1", "--no-access-log", "--log-level", "warn", "--workers", String(WORKERS)]),
      { ...SECRETS, DATABASE_URL: url.toString(), AUTHLY_MODE: "production", AUTHLY_ISSUER: issuer, AUTHLY_ADMIN_PASSWORD: `bench-${randomToken(12)}`, AUTHLY_ACCESS_TOKEN_ALG: "ES256" },
    );
    procs.push(server.proc);
    await waitReady("raw Bun.serve", `http://127.0.0.1:${rawPort}/`, raw.proc, raw.output);
    await waitReady("authly serve", `${issuer}/health/ready`, server.proc, server.output);

    // Clients and refresh-token chains, written the way the server stores them.
    const sql = createSql({ url: url.toString(), pool: { min: 1, max: 2, connectTimeout: 10, idleTimeout: 10 } });
    const secretPepper = deriveKey(SECRETS.JWT_SECRET_KEY, "secret-hash-pepper");
    const tokenPepper = deriveKey(SECRETS.JWT_REFRESH_SECRET_KEY, "token-hash-pepper");
    const secret = `cs_${randomToken(32)}`;
    await sql`INSERT INTO clients (client_id, client_type, client_name, secret_hash, grant_types, scopes, token_endpoint_auth_method)
      VALUES ('bench-service', 'confidential', 'bench service', ${hashSecret(secretPepper, secret)}, ${["client_credentials"]}, ${["api:read", "api:write"]}, 'client_secret_basic')`;
    await sql`INSERT INTO clients (client_id, client_type, client_name, grant_types, scopes, token_endpoint_auth_method, redirect_uris)
      VALUES ('bench-app', 'public', 'bench app', ${["authorization_code", "refresh_token"]}, ${["api:read"]}, 'none', ${["http://127.0.0.1/cb"]})`;
    const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('bench-user') RETURNING id`;
    // Two sets of chains: one for the warm-up, one for the measured run (a reused token would
    // rightly revoke its family).
    const chains = CONNECTIONS * 2;
    const tokens: string[] = [];
    for (let i = 0; i < chains * 2; i++) {
      const [g] = await sql<{ id: string }[]>`INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES ('bench-app', ${user!.id}, 'authorization_code', 'api:read', now() + interval '1 day') RETURNING id`;
      const t = randomToken(32);
      await sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES (${hashSecret(tokenPepper, t)}, ${g!.id}, 'bench-app', ${user!.id}, 'api:read', now() + interval '1 day')`;
      tokens.push(t);
    }
    await sql.end({ timeout: 1 });
    const tokensFile = join(dir, "refresh-tokens.txt");
    writeFileSync(tokensFile, tokens.slice(0, chains).join("\n") + "\n");
    const warmTokensFile = join(dir, "refresh-tokens-warm.txt");
    writeFileSync(warmTokensFile, tokens.slice(chains).join("\n") + "\n");

    const basicAuth = `Basic ${Buffer.from(`bench-service:${secret}`).toString("base64")}`;
    const form = { "Content-Type": "application/x-www-form-urlencoded", Authorization: basicAuth };
    const issued = await fetch(`${issuer}/oauth/token`, { method: "POST", headers: form, body: "grant_type=client_credentials&scope=api:read" });
    if (!issued.ok) throw new Error(`client_credentials failed: ${issued.status} ${await issued.text()}`);
    const accessToken = ((await issued.json()) as { access_token: string }).access_token;
    const check = await fetch(`${issuer}/oauth/introspect`, { method: "POST", headers: form, body: `token=${accessToken}` });
    if (!((await check.json()) as { active: boolean }).active) throw new Error("introspection of the bench token is not active");

    const script = (name: string, lua: string) => writeScript(dir, name, lua);
    const ccScript = script("cc", luaPost("/oauth/token", "grant_type=client_credentials&scope=api:read", form));
    const inScript = script("introspect", luaPost("/oauth/introspect", `token=${accessToken}&token_type_hint=access_token`, form));
    const rtScript = script("refresh", luaRefresh("/oauth/token", "bench-app", tokensFile, Math.floor(chains / THREADS)));
    const rtWarmScript = script("refresh-warm", luaRefresh("/oauth/token", "bench-app", warmTokensFile, chains));

    console.log(`wrk ${THREADS} thread(s), ${CONNECTIONS} connections, ${DURATION} s per run; authly serve --workers ${WORKERS}; ${navigator.hardwareConcurrency} CPUs${PIN ? `; wrk on CPU 1${PIN_SERVERS ? ", servers on CPU 0" : ""}` : ""}\n`);
    // The machine is shared: each endpoint run is paired with a raw Bun.serve run right before it,
    // and its share is taken against that raw figure (less sensitive to load that comes and goes).
    const rawUrl = `http://127.0.0.1:${rawPort}/`;
    const runWrk = async (_wrk: string, name: string, target: string, lua?: string): Promise<Result & { cost?: Cost }> => {
      const before = cpuTimes(server.proc.pid);
      const r = wrkRun({ wrk, threads: THREADS, connections: CONNECTIONS, duration: DURATION, pin: PIN }, name, target, lua);
      if (!target.startsWith(issuer) || WORKERS !== 1 || !r.requests) return r;
      const after = cpuTimes(server.proc.pid);
      return { ...r, cost: { eventLoopUs: ((after.eventLoop - before.eventLoop) * 1e6) / r.requests, processUs: ((after.process - before.process) * 1e6) / r.requests } };
    };
    const results: ReturnType<typeof summarize>[] = [];
    const only = args.only ? args.only.split(",") : undefined;
    const warm = (target: string, lua?: string) => Bun.spawnSync(onLoadCpu([wrk, "-t1", "-c8", "-d1s", ...(lua ? ["-s", lua] : []), target]), { stdout: "ignore", stderr: "ignore" });
    warm(rawUrl);
    const run = async (name: string, target: string, lua?: string, warmLua = lua, rounds = ROUNDS) => {
      if (only && !only.some((o) => name.startsWith(o))) return;
      // A short warm-up so that JIT, pools and caches are in their steady state.
      warm(target, warmLua);
      const runs: Pair[] = [];
      for (let round = 1; round <= rounds; round++) {
        const raw = await runWrk(wrk, "raw Bun.serve hello", rawUrl);
        const r = await runWrk(wrk, name, target, lua);
        runs.push({ r, raw });
        console.log(`  ${name.padEnd(20)} ${r.rps.toFixed(0).padStart(8)} req/s   (raw Bun.serve hello just before: ${raw.rps.toFixed(0)} req/s)${costText(r.cost)}${rounds > 1 ? `   round ${round}/${rounds}` : ""}`);
      }
      results.push(summarize(runs));
    };
    await run("discovery", `${issuer}/.well-known/openid-configuration`);
    await run("jwks", `${issuer}/.well-known/jwks.json`);
    await run("client_credentials", `${issuer}/oauth/token`, ccScript);
    // DPoP-bound client_credentials, paired with the plain one just measured (same run, same client).
    const dpopShares: Record<string, number> = {};
    for (const alg of ["EdDSA", "ES256"] as const) {
      const name = `client_credentials DPoP ${alg}`;
      if (only && !only.some((o) => name.startsWith(o))) continue;
      const plain = results.find((x) => x.r.name === "client_credentials");
      // Enough proofs for the warm-up and every round at up to twice the plain rate.
      const perRound = Math.ceil(Math.max(plain?.r.rps ?? 4000, 2000) * DURATION * 2);
      const runs: Pair[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const file = join(dir, `proofs-${alg}-${round}.txt`);
        const started = performance.now();
        await writeProofs(file, alg, `${issuer}/oauth/token`, perRound);
        const signMs = performance.now() - started;
        const lua = script(`cc-dpop-${alg}-${round}`, luaQueuedHeader("/oauth/token", "grant_type=client_credentials&scope=api:read", form, "DPoP", file, Math.floor(perRound / THREADS)));
        const rawR = await runWrk(wrk, "raw Bun.serve hello", rawUrl);
        const r = await runWrk(wrk, name, `${issuer}/oauth/token`, lua);
        runs.push({ r, raw: rawR });
        console.log(`  ${name.padEnd(20)} ${r.rps.toFixed(0).padStart(8)} req/s   (raw Bun.serve hello just before: ${rawR.rps.toFixed(0)} req/s; ${perRound} proofs signed in ${(signMs / 1000).toFixed(1)} s)${costText(r.cost)}   round ${round}/${ROUNDS}`);
      }
      const s = summarize(runs);
      results.push(s);
      if (plain) dpopShares[name] = plain.pct ? (s.pct / plain.pct) * 100 : 0;
    }
    await run("introspection", `${issuer}/oauth/introspect`, inScript);
    // One round: a second run would present the chains' first tokens again (reuse revokes them).
    await run("refresh rotation", `${issuer}/oauth/token`, rtScript, rtWarmScript, 1);

    const targets: Record<string, number> = { discovery: 50, jwks: 50, client_credentials: 8, introspection: 8 };
    console.log(`\n${ROUNDS > 1 ? `Median of ${ROUNDS} rounds (refresh: 1); each round's share is taken against the raw run just before it.\n` : ""}`);
    console.log(`| endpoint | req/s | p50 | p99 | errors | raw Bun req/s (p50) | % of raw | rounds' % | server CPU µs/request: event loop / all threads | target |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|---|---:|---|`);
    let missed = 0;
    for (const { r, raw, pct, pcts, eventLoopUs, processUs } of results) {
      const t = targets[r.name];
      const met = t !== undefined && pct >= t && r.errors === 0;
      if (t !== undefined && !met) missed++;
      const ok = t === undefined ? "" : `≥ ${t} % ${met ? "✓" : "✗"}`;
      console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${raw.rps.toFixed(0)} (${raw.p50}) | ${pct.toFixed(1)} % | ${pcts.map((p) => p.toFixed(0)).join(", ")} | ${Number.isFinite(eventLoopUs) ? `${eventLoopUs.toFixed(0)} / ${processUs.toFixed(0)}` : "—"} | ${ok} |`);
    }
    for (const [name, share] of Object.entries(dpopShares)) {
      const r = results.find((x) => x.r.name === name)!;
      const met = share >= 70 && r.r.errors === 0;
      if (!met) missed++;
      const plain = results.find((x) => x.r.name === "client_credentials")!;
      const loopShare = (plain.eventLoopUs / r.eventLoopUs) * 100;
      console.log(`\n${name}: ${share.toFixed(1)} % of plain client_credentials (median shares of raw), ${r.r.errors} errors; target ≥ 70 % with zero errors ${met ? "✓" : "✗"}`);
      if (Number.isFinite(loopShare)) console.log(`  cost: ${r.eventLoopUs.toFixed(0)} µs of event loop per request vs ${plain.eventLoopUs.toFixed(0)} µs plain (the event loop bounds a worker: ${loopShare.toFixed(0)} % of plain's rate by that measure); all threads ${r.processUs.toFixed(0)} vs ${plain.processUs.toFixed(0)} µs`);
    }
    console.log(missed ? `\n${missed} target(s) missed.` : "\nAll targets met.");
  } finally {
    await cleanup();
  }
  // Refresh-rotation cost, CLI start-up, memory, growth (bench/companions.ts).
  runCompanionBenches(args);
}

await main();
