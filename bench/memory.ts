// `bun run bench/memory.ts`: the memory of one `authly serve` worker (targets: idle ≤ 64 MB RSS;
// under load ≤ 128 MB with no growth). Runs the compiled binary when it is built (or BENCH_AUTHLY_BIN),
// else the sources; production mode on a throw-away database of the local PostgreSQL. Prints the idle RSS
// split into anonymous memory (heap) and file pages (the executable's code and embedded files
// actually touched), then drives mixed traffic (client_credentials, introspection, refresh
// rotations, discovery) for --seconds, sampling RSS every second: the peak, and the growth between
// the medians of the first and last thirds after --warmup seconds (a leak shows as growth).
// bench/soak.ts is the longer soak with browser sign-ins.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run bench/memory.ts [--seconds 60] [--warmup 10] [--concurrency 16]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hashToken } from "../src/tokens/service";
import { randomToken } from "../src/lib/crypto";
import { issueAccessToken } from "../src/tokens/access-token";
import { createOidcClient } from "../test/support/oidc-fixtures";
import { fmt, parseArgs, ROOT, rssMiB, startBenchServer, table } from "./load-support";

const args = parseArgs(process.argv.slice(2));
const SECONDS = Number(args.seconds ?? 60);
const WARMUP = Number(args.warmup ?? 10);
const CONCURRENCY = Number(args.concurrency ?? 16);
const IDLE_TARGET = 64;
const LOAD_TARGET = 128;

const built = join(ROOT, "dist", `authly-${process.platform}-${process.arch === "arm64" ? "arm64" : "x64"}`);
if (!process.env.BENCH_AUTHLY_BIN && existsSync(built)) process.env.BENCH_AUTHLY_BIN = built;
const server = await startBenchServer();
const { deps, url, sql } = server;
const what = process.env.BENCH_AUTHLY_BIN ? `binary ${process.env.BENCH_AUTHLY_BIN}` : "sources (bun src/main.ts)";

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) / 1024;
  }
  return out;
}

try {
  await Bun.sleep(3000);
  const idle = status(server.pid);
  console.log(`authly serve (${what}), pid ${server.pid}\n`);
  console.log(table([{ state: "idle after start", "RSS MiB": fmt(idle.VmRSS!), "anonymous (heap) MiB": fmt(idle.RssAnon!), "file pages MiB": fmt(idle.RssFile!), target: `≤ ${IDLE_TARGET} MiB ${idle.VmRSS! <= IDLE_TARGET ? "✓" : "✗"}` }]));

  // Fixtures: a confidential client (client_credentials, introspection) and refresh chains.
  await sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'memory') ON CONFLICT DO NOTHING`;
  const rp = await createOidcClient(deps, { grant_types: ["authorization_code", "refresh_token", "client_credentials"], scopes: ["openid", "offline_access", "api:read"] });
  const basic = `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}`;
  const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('memory-user') RETURNING id`;
  const access = (await issueAccessToken(deps, { clientId: rp.client_id, sub: user!.id, userId: user!.id, scope: "openid", ttlSeconds: 86_400 })).token;
  const chains: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const [g] = await sql<{ id: string }[]>`INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES (${rp.client_id}, ${user!.id}, 'authorization_code', 'api:read', now() + interval '1 day') RETURNING id`;
    const t = randomToken(32);
    await sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES (${hashToken(deps, t)}, ${g!.id}, ${rp.client_id}, ${user!.id}, 'api:read', now() + interval '1 day')`;
    chains.push(t);
  }
  const form = { "content-type": "application/x-www-form-urlencoded", authorization: basic };
  const ops = [
    () => fetch(`${url}/oauth/token`, { method: "POST", headers: form, body: "grant_type=client_credentials&scope=api%3Aread" }),
    () => fetch(`${url}/oauth/introspect`, { method: "POST", headers: form, body: `token=${access}` }),
    () => fetch(`${url}/.well-known/openid-configuration`),
  ];
  let requests = 0;
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const samples: { t: number; rss: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rss: rssMiB(server.pid) }), 1000);
  await Promise.all(chains.map(async (_, i) => {
    let n = 0;
    while (Date.now() < end) {
      n++;
      // Every fourth request of a virtual user is a refresh rotation of its own chain.
      const r = n % 4 === 0
        ? await fetch(`${url}/oauth/token`, { method: "POST", headers: form, body: `grant_type=refresh_token&refresh_token=${chains[i]}` })
        : await ops[n % ops.length]!();
      const body = (await r.json().catch(() => undefined)) as { refresh_token?: string } | undefined;
      if (r.status !== 200) errors++;
      if (body?.refresh_token) chains[i] = body.refresh_token;
      requests++;
    }
  }));
  clearInterval(sampler);
  const after = samples.filter((s) => s.t >= WARMUP).map((s) => s.rss);
  const third = Math.max(1, Math.floor(after.length / 3));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const early = median(after.slice(0, third));
  const late = median(after.slice(-third));
  const peak = Math.max(...samples.map((s) => s.rss));
  const growth = ((late - early) / early) * 100;
  await Bun.sleep(3000);
  const rest = status(server.pid);
  console.log("");
  console.log(table([
    { state: `under load (${SECONDS} s, ${CONCURRENCY} users, ${requests} requests, ${errors} errors)`, "peak RSS MiB": fmt(peak), "first third MiB": fmt(early), "last third MiB": fmt(late), growth: `${fmt(growth)} %`, target: `≤ ${LOAD_TARGET} MiB, no growth ${peak <= LOAD_TARGET && growth < 5 ? "✓" : "✗"}` },
    { state: "idle again (3 s after)", "peak RSS MiB": fmt(rest.VmRSS!), "first third MiB": "", "last third MiB": "", growth: "", target: `anonymous ${fmt(rest.RssAnon!)} MiB, file ${fmt(rest.RssFile!)} MiB` },
  ]));
} finally {
  await server.stop();
}
