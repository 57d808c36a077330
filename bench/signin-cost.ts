// `bun run bench/signin-cost.ts`: what one sign-in costs, measured so that a busy machine does not
// blur it: CPU time of the `authly serve` process, of its PostgreSQL backends and of the driver
// (this process: the flow of bench/flow.ts) per first sign-in (fresh browser: login form, code, token,
// UserInfo; consent is remembered after the warm-up) and per second sign-in (SSO session), next to
// the CPU time of one argon2id verification (Bun.password, the configured parameters) measured in
// this process; per server thread (the hash runs on "Bun Pool" threads, JavaScript on the main
// thread), the page faults of the server, and the rows each flow writes per table.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench/signin-cost.ts [--first 200] [--second 1000] [--users 16]
//   (or `bun run bench:signin`)
import { readdirSync, readFileSync } from "node:fs";
import { hashPassword, passwordParams } from "../src/accounts/password";
import { randomToken } from "../src/lib/crypto";
import { closedLoop, CookieJar, discover, signIn, type FlowClient } from "./flow";
import { BASE_URL, localPortsTo, parseArgs, processCpuSeconds, startBenchServer, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const FIRST = Number(args.first ?? 200);
const SECOND = Number(args.second ?? 1000);
const USERS = Number(args.users ?? 16);
const TICK = 100; // clock ticks per second (Linux USER_HZ)
const REDIRECT_URI = "http://127.0.0.1/cb";

/** Fields of /proc/<pid>/stat (Linux), after the command name; [] when the process is gone. */
function stat(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  } catch {
    return [];
  }
}
const cpuSeconds = processCpuSeconds;
/** system CPU seconds and minor page faults of a process (the kernel's share: faulting in memory). */
const kernel = (pid: number) => {
  const f = stat(pid);
  return { sys: Number(f[12]) / TICK, faults: Number(f[7]) };
};
/** CPU seconds per thread name of a process (hashing runs on "Bun Pool N", JavaScript on the main thread). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const raw = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
      const name = t === String(pid) ? "main thread" : /\((.*)\)/.exec(raw)![1]!.replace(/\s*\d+$/, "");
      const f = raw.split(") ")[1]!.split(" ");
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / TICK);
    } catch {
      // thread gone
    }
  }
  return out;
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const server = await startBenchServer({ AUTHLY_ACCESS_TOKEN_ALG: "ES256", AUTHLY_ID_TOKEN_ALG: "ES256", AUTHLY_AUTHORIZE_RATE_LIMIT: "100000000" });
const { deps, url, sql } = server;
const dbPort = Number(new URL(BASE_URL).port || 5432);
try {
  const password = `bench-${randomToken(12)}`;
  const params = passwordParams(deps.config);
  const passwordHash = await hashPassword(password, params);
  await sql`INSERT INTO clients (client_id, client_type, client_name, grant_types, response_types, scopes, token_endpoint_auth_method, redirect_uris)
    VALUES ('bench-app', 'public', 'bench app', ${["authorization_code", "refresh_token"]}, ${["code"]}, ${["openid", "profile", "email", "offline_access"]}, 'none', ${[REDIRECT_URI]})`;
  const logins: { username: string; password: string }[] = [];
  for (let i = 0; i < USERS * 2; i++) {
    const username = `bench-user-${i}`;
    await sql`INSERT INTO users (username, email, email_verified, password_hash, is_active, name)
      VALUES (${username}, ${`${username}@example.test`}, true, ${passwordHash}, true, ${username})`;
    logins.push({ username, password });
  }
  const s = await discover("Authly", url);
  const client: FlowClient = { clientId: "bench-app", redirectUri: REDIRECT_URI, scope: "openid profile email offline_access" };

  // One argon2id verification's CPU, in this process (the same library and parameters).
  await Bun.password.verify(password, passwordHash);
  const h0 = selfCpu();
  for (let i = 0; i < 10; i++) await Bun.password.verify(password, passwordHash);
  const hashCpu = (selfCpu() - h0) / 10;

  let n = 0;
  const first = () => closedLoop(USERS, 600, FIRST, async (w) => {
    const r = await signIn(s, client, new CookieJar(), logins[(w + USERS * (n++ % 2)) % logins.length]!);
    if (r.forms < 1) throw new Error("no login form on a first sign-in");
  });
  const jars = Array.from({ length: USERS }, () => new CookieJar());
  const second = () => closedLoop(USERS, 600, SECOND, async (w) => {
    const r = await signIn(s, client, jars[w]!, logins[w]!);
    if (r.forms !== 0) throw new Error("a form was shown on a second sign-in");
  });
  await closedLoop(USERS, 600, USERS * 2, async (w) => void (await signIn(s, client, new CookieJar(), logins[w]!))); // warm-up
  await Promise.all(jars.map((j, i) => signIn(s, client, j, logins[i]!)));

  const pgPids = (await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE client_port = ANY(${localPortsTo(server.pid, dbPort)}::int[])`).map((r) => r.pid);
  // Rows written per table of this schema (statistics are flushed about once a second).
  const writes = async () => {
    await Bun.sleep(1100);
    await sql`SELECT pg_stat_clear_snapshot()`;
    const rows = await sql<{ t: string; ins: number; upd: number; del: number }[]>`
      SELECT relname AS t, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd, n_tup_del::float8 AS del FROM pg_stat_user_tables WHERE schemaname = ${server.schema}`;
    return new Map(rows.map((r) => [r.t, r]));
  };
  const measure = async (name: string, run: () => Promise<{ done: number; errors: number; perSecond: number; firstError?: string }>) => {
    const w0 = await writes();
    const lsn = (await sql<{ l: string }[]>`SELECT pg_current_wal_lsn()::text AS l`)[0]!.l;
    const k0 = kernel(server.pid);
    const th0 = threadCpu(server.pid);
    const b = { server: cpuSeconds(server.pid), db: pgPids.map(cpuSeconds).reduce((x, y) => x + y, 0), self: selfCpu(), t: performance.now() };
    const r = await run();
    const k1 = kernel(server.pid);
    const th1 = threadCpu(server.pid);
    const threads = [...th1].map(([t, v]) => `${t} ${(((v - (th0.get(t) ?? 0)) / r.done) * 1000).toFixed(2)} ms`).filter((x) => !x.endsWith(" 0.00 ms")).join(", ");
    const thread = (name: string) => (th1.get(name) ?? 0) - (th0.get(name) ?? 0);
    const hashing = thread("Bun Pool");
    const main = thread("main thread");
    const a = { server: cpuSeconds(server.pid), db: pgPids.map(cpuSeconds).reduce((x, y) => x + y, 0), self: selfCpu(), t: performance.now() };
    const wal = (await sql<{ b: number }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::float8 AS b`)[0]!.b;
    const w1 = await writes();
    const written = [...w1]
      .map(([t, x]) => ({ t, ins: (x.ins - (w0.get(t)?.ins ?? 0)) / r.done, upd: (x.upd - (w0.get(t)?.upd ?? 0)) / r.done, del: (x.del - (w0.get(t)?.del ?? 0)) / r.done }))
      .filter((x) => x.ins + x.upd + x.del > 0.01);
    const per = (x: number) => `${((x / r.done) * 1000).toFixed(2)} ms`;
    if (r.errors) console.log(`${name}: ${r.errors} errors, first: ${r.firstError}`);
    const total = (a.server - b.server + a.db - b.db + a.self - b.self) / r.done;
    return { name, done: r.done, total, server: per(a.server - b.server), serverSys: per(k1.sys - k0.sys), faults: ((k1.faults - k0.faults) / r.done).toFixed(0), hashing: per(hashing), main: per(main), other: per(a.server - b.server - hashing - main), db: per(a.db - b.db), driver: per(a.self - b.self), wal: `${(wal / r.done).toFixed(0)} B`, perSecondNow: r.perSecond.toFixed(1), written, threads, serverCpuShare: `${(((a.server - b.server) / ((a.t - b.t) / 1000)) * 100).toFixed(0)} %` };
  };
  const f = await measure("first sign-in", first);
  const sc = await measure("second sign-in (SSO)", second);
  console.log(`\nargon2id m=${params.memoryCost} t=${params.timeCost}: one Bun.password.verify costs ${(hashCpu * 1000).toFixed(2)} ms of CPU here; ${USERS} browsers; PostgreSQL backends of the server: ${pgPids.length}\n`);
  console.log(table([f, sc].map((r) => ({ flow: r.name, "sign-ins": r.done, "server CPU": r.server, "hashing threads": r.hashing, "main thread": r.main, "other threads": r.other, "server system": r.serverSys, "page faults": r.faults, "PostgreSQL CPU": r.db, "driver CPU": r.driver, "WAL": r.wal, "server busy": r.serverCpuShare, "/s now": r.perSecondNow }))));
  // With every core busy with this flow, sign-ins/s = cores / CPU per sign-in; the hash ceiling =
  // cores / CPU per hash: their ratio is the share of the ceiling a saturated machine can reach.
  console.log(`\nCPU per first sign-in, server + PostgreSQL + driver: ${(f.total * 1000).toFixed(2)} ms = ${(f.total / hashCpu).toFixed(2)} hashes: at most ${((hashCpu / f.total) * 100).toFixed(0)} % of the hash ceiling; second sign-in ${(sc.total * 1000).toFixed(2)} ms (${(f.total / sc.total).toFixed(1)}× cheaper than the first)`);
  for (const r of [f, sc]) console.log(`\nserver CPU per ${r.name} by thread: ${r.threads}`);
  for (const r of [f, sc]) console.log(`\nrows written per ${r.name} (insert/update/delete): ${r.written.map((x) => `${x.t} ${x.ins.toFixed(2)}/${x.upd.toFixed(2)}/${x.del.toFixed(2)}`).join(", ")}`);
} finally {
  await server.stop();
}
