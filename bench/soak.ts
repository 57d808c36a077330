// `bun run bench:soak`: a bounded soak of mixed traffic against a real `authly serve` on loopback —
// browser logins with authorization-code flows, refresh rotations, client_credentials,
// introspection, UserInfo and admin calls — sampling the server's memory and PostgreSQL connections.
// Reports p50/p99 per operation, errors, and memory growth after warm-up (a leak shows as growth).
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench:soak [--seconds 180] [--users 12] [--warmup 30]
import { createOidcClient, createOidcUser, type OidcTestUser } from "../test/support/oidc-fixtures";
import { Browser, exchangeCode, signIn } from "../test/support/oidc-flow";
import { issueAccessToken } from "../src/tokens/access-token";
import { ADMIN_SCOPES } from "../src/scopes/model";
import { connectionsTo, fmt, parseArgs, rssMiB, startBenchServer, Stats, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const SECONDS = Number(args.seconds ?? 180);
const USERS = Number(args.users ?? 12);
const WARMUP = Number(args.warmup ?? 30);
const SAMPLE_EVERY = 5;
const PG_PORT = Number(new URL(process.env.DATABASE_URL || "postgresql://127.0.0.1:5432/x").port || 5432);

const server = await startBenchServer();
const { deps, url } = server;
console.log(`authly serve pid ${server.pid} on ${url} (schema ${server.schema}); ${USERS} virtual users for ${SECONDS} s, warm-up ${WARMUP} s`);

// --- fixtures ------------------------------------------------------------------------------------
await deps.sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'soak') ON CONFLICT DO NOTHING`;
const REDIRECT = "https://rp.soak.example/cb";
const rp = await createOidcClient(deps, {
  redirect_uris: [REDIRECT],
  require_consent: false,
  grant_types: ["authorization_code", "refresh_token", "client_credentials"],
  scopes: ["openid", "profile", "email", "offline_access", "api:read"],
});
const users: OidcTestUser[] = [];
for (let i = 0; i < USERS; i++) users.push(await createOidcUser(deps));
const [adminRow] = await deps.sql<{ id: string }[]>`INSERT INTO users (username, is_admin) VALUES ('soak-admin', true) RETURNING id`;
const adminToken = (await issueAccessToken(deps, { clientId: "authly-cli", sub: adminRow!.id, userId: adminRow!.id, scope: ADMIN_SCOPES.join(" "), ttlSeconds: SECONDS + 600 })).token;
const basic = `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}`;
const FORM = "application/x-www-form-urlencoded";
const t = { request: (path: string, init?: RequestInit) => fetch(url + path, init) };

// --- operations ----------------------------------------------------------------------------------
const stats = new Map<string, Stats>();
const stat = (name: string) => stats.get(name) ?? (stats.set(name, new Stats()), stats.get(name)!);
let measuring = false;

async function op(name: string, fn: () => Promise<boolean | string>): Promise<void> {
  const start = performance.now();
  let result: boolean | string;
  try {
    result = await fn();
  } catch (err) {
    result = err instanceof Error ? err.message : String(err);
  }
  if (!measuring) return;
  const s = stat(name);
  if (result === true) s.add(performance.now() - start);
  else s.fail(typeof result === "string" ? result : "failed");
}

async function tokenForm(form: Record<string, string>): Promise<Response> {
  return fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams(form).toString() });
}

interface Vu {
  user: OidcTestUser;
  refresh?: string;
  access?: string;
}

const OPS: [number, string, (vu: Vu) => Promise<boolean | string>][] = [
  [8, "login + code flow", async (vu) => {
    const flow = await signIn(Browser.forServer(url), rp, vu.user, { scope: "openid profile offline_access" });
    if (!flow.callback.code) return `no code: ${flow.location}`;
    const ex = await exchangeCode(t, rp, flow.callback.code, flow.verifier);
    if (ex.status !== 200) return `exchange ${ex.status} ${JSON.stringify(ex.body)}`;
    vu.refresh = ex.body.refresh_token;
    vu.access = ex.body.access_token;
    return true;
  }],
  [20, "refresh", async (vu) => {
    if (!vu.refresh) return true;
    const r = await tokenForm({ grant_type: "refresh_token", refresh_token: vu.refresh });
    const body = (await r.json()) as Record<string, string>;
    if (r.status !== 200) return `refresh ${r.status} ${JSON.stringify(body)}`;
    vu.refresh = body.refresh_token;
    vu.access = body.access_token;
    return true;
  }],
  [30, "client_credentials", async () => {
    const r = await tokenForm({ grant_type: "client_credentials", scope: "api:read" });
    await r.arrayBuffer();
    return r.status === 200 || `client_credentials ${r.status}`;
  }],
  [20, "introspect", async (vu) => {
    if (!vu.access) return true;
    const r = await fetch(`${url}/oauth/introspect`, { method: "POST", headers: { "content-type": FORM, authorization: basic }, body: new URLSearchParams({ token: vu.access }).toString() });
    const body = (await r.json()) as { active?: boolean };
    return (r.status === 200 && body.active === true) || `introspect ${r.status} ${JSON.stringify(body)}`;
  }],
  [10, "userinfo", async (vu) => {
    if (!vu.access) return true;
    const r = await fetch(`${url}/oidc/userinfo`, { headers: { authorization: `Bearer ${vu.access}` } });
    await r.arrayBuffer();
    return r.status === 200 || `userinfo ${r.status}`;
  }],
  [12, "admin", async () => {
    const r = await fetch(`${url}/admin/${Math.random() < 0.5 ? "clients?limit=5" : "status"}`, { headers: { authorization: `Bearer ${adminToken}` } });
    await r.arrayBuffer();
    return r.status === 200 || `admin ${r.status}`;
  }],
];
const totalWeight = OPS.reduce((a, [w]) => a + w, 0);
function pick(): (typeof OPS)[number] {
  let x = Math.random() * totalWeight;
  for (const o of OPS) if ((x -= o[0]) < 0) return o;
  return OPS[0]!;
}

// --- run -----------------------------------------------------------------------------------------
interface Sample {
  t: number;
  rss: number;
  dbConnections: number;
  requests: number;
  errors: number;
}
const samples: Sample[] = [];
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const totals = () => [...stats.values()].reduce((a, s) => ({ n: a.n + s.ms.length, e: a.e + s.errors }), { n: 0, e: 0 });
const sampler = setInterval(() => {
  const { n, e } = totals();
  const s = { t: Math.round(elapsed()), rss: rssMiB(server.pid), dbConnections: connectionsTo(server.pid, PG_PORT), requests: n, errors: e };
  samples.push(s);
  console.log(`t=${String(s.t).padStart(4)}s rss=${fmt(s.rss)} MiB pg_connections=${s.dbConnections} ok=${n} errors=${e}${elapsed() < WARMUP ? " (warm-up)" : ""}`);
}, SAMPLE_EVERY * 1000);

setTimeout(() => (measuring = true), 0);
await Promise.all(
  users.map(async (user) => {
    const vu: Vu = { user };
    await op("login + code flow", () => OPS[0]![2](vu));
    while (elapsed() < SECONDS) {
      const [, name, fn] = pick();
      await op(name, () => fn(vu));
    }
  }),
);
clearInterval(sampler);

// --- report --------------------------------------------------------------------------------------
const rows = [...stats].map(([name, s]) => ({ operation: name, ok: s.ms.length, errors: s.errors, "p50 ms": fmt(s.pct(50)), "p99 ms": fmt(s.pct(99)), "max ms": fmt(s.pct(100)) }));
const { n, e } = totals();
const after = samples.filter((s) => s.t >= WARMUP);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const third = Math.max(1, Math.floor(after.length / 3));
const early = median(after.slice(0, third).map((s) => s.rss));
const late = median(after.slice(-third).map((s) => s.rss));
const maxConn = Math.max(...samples.map((s) => s.dbConnections));
console.log(`\nSoak: ${SECONDS} s, ${USERS} virtual users, ${n} requests ok (${(n / SECONDS).toFixed(0)}/s), ${e} errors`);
console.log(table(rows));
console.log(`\nserver RSS after warm-up: first third median ${fmt(early)} MiB, last third median ${fmt(late)} MiB (growth ${fmt(((late - early) / early) * 100)} %); peak ${fmt(Math.max(...samples.map((s) => s.rss)))} MiB`);
console.log(`PostgreSQL connections held by the server: max ${maxConn} (pool max ${deps.config.mode.pool.max})`);
for (const [name, s] of stats) for (const x of s.errorSamples) console.log(`  error sample (${name}): ${x}`);
await server.stop();
process.exit(e > 0 ? 1 : 0);
