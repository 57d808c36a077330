// Shared by bench/soak.ts and bench/growth.ts: a real `authly serve` process on a throw-away database of
// the local PostgreSQL (dropped afterwards), in-process Deps on the same schema for seeding,
// latency statistics, and process/connection sampling from /proc (Linux).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { loadConfig } from "../src/config";
import { createSql, type Sql } from "../src/db/sql";
import type { Deps } from "../src/deps";
import { randomToken } from "../src/lib/crypto";
import { buildDeps } from "../src/server";

export const ROOT = resolve(import.meta.dir, "..");
export const BASE_URL = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test";

export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) out[a.slice(2)] = argv[i + 1] ?? "";
  }
  return out;
}

/**
 * A throw-away database of the local PostgreSQL for one run, holding one schema (`search_path` in
 * `url`), dropped by `drop()`. A database of its own, not a schema of the shared one: every schema
 * created or dropped in a database (the test suite makes many) invalidates the cached plans of all
 * its backends, and re-planning was measured at about a quarter of PostgreSQL's CPU per rotation in
 * the shared `test` database against about 4 % in a database of its own. Falls back to a schema of
 * DATABASE_URL's database where CREATE DATABASE is not allowed.
 */
export async function benchDatabase(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const name = `authly_bench_${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
  const schema = "bench";
  const admin = createSql({ url: BASE_URL, pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 5 } });
  const own = await admin.unsafe(`CREATE DATABASE ${name}`).then(
    () => true,
    () => false,
  );
  const u = new URL(BASE_URL);
  if (own) u.pathname = `/${name}`;
  const target = own ? schema : name;
  const inTarget = own ? createSql({ url: u.toString(), pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 5 } }) : admin;
  await inTarget.unsafe(`CREATE SCHEMA ${target}`);
  if (own) await inTarget.end({ timeout: 2 });
  u.searchParams.set("search_path", target);
  return {
    url: u.toString(),
    schema: target,
    async drop() {
      await admin.unsafe(own ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP SCHEMA IF EXISTS ${target} CASCADE`).catch(() => {});
      await admin.end({ timeout: 2 });
    },
  };
}

export interface BenchServer {
  url: string;
  pid: number;
  deps: Deps;
  sql: Sql;
  schema: string;
  output(): string;
  stop(): Promise<void>;
}

/** `authly serve` (production mode) on a throw-away database (benchDatabase); Deps for seeding in this process. */
export async function startBenchServer(extraEnv: Record<string, string> = {}): Promise<BenchServer> {
  const db = await benchDatabase();
  const { schema, url: dbUrl } = db;
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: dbUrl,
    JWT_SECRET_KEY: `bench-jwt-secret-${randomToken(24)}`,
    JWT_REFRESH_SECRET_KEY: `bench-refresh-secret-${randomToken(24)}`,
    AUTHLY_MODE: "production",
    AUTHLY_ISSUER: `http://127.0.0.1:${port}`,
    AUTHLY_DEV_MODE: "true",
    AUTHLY_ADMIN_RATE_LIMIT: "100000000",
    AUTHLY_BOOTSTRAP_ENABLED: "false",
    ...extraEnv,
  };
  // BENCH_BUN_FLAGS: extra flags for the server's bun (e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof").
  const bunFlags = (process.env.BENCH_BUN_FLAGS ?? "").split(" ").filter(Boolean);
  // BENCH_AUTHLY_BIN: run a compiled binary (dist/authly-...) instead of the sources.
  const entry = process.env.BENCH_AUTHLY_BIN ? [resolve(process.env.BENCH_AUTHLY_BIN)] : [process.execPath, ...bunFlags, "src/main.ts"];
  const { proc, output } = spawnLogged([...entry, "serve", "--migrate", "--port", String(port), "--host", "127.0.0.1", "--no-access-log", "--log-level", "warn"], env);
  const url = `http://127.0.0.1:${port}`;
  await waitReady("authly serve", `${url}/health/ready`, proc, output);
  const config = loadConfig({ ...env, AUTHLY_LOG_LEVEL: "warn" }, { purpose: "server" });
  const sql = createSql({ url: dbUrl, pool: { min: 1, max: 4, connectTimeout: 10, idleTimeout: 30 } });
  const deps = buildDeps(config, sql);
  await deps.keys.refresh();
  return {
    url,
    pid: proc.pid,
    deps,
    sql,
    schema,
    output,
    async stop() {
      await stopProcess(proc, 15_000);
      await sql.end({ timeout: 2 });
      await db.drop();
    },
  };
}

/** A process of the bench (in ROOT, with `env` over ours) whose last 20 kB of output is kept for
 *  the error that says why it stopped. */
export function spawnLogged(cmd: string[], env: Record<string, string>): { proc: Subprocess; output: () => string } {
  let out = "";
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const c of s) out = (out + dec.decode(c)).slice(-20_000);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return { proc, output: () => out };
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
export async function stopProcess(proc: Subprocess, graceMs: number): Promise<void> {
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Waits (60 s at most) until `url` answers 2xx; fails with the process's output if it exits first. */
export async function waitReady(name: string, url: string, proc: Subprocess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited early:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready in time:\n${output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await Bun.sleep(100);
  }
}

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

/** Latency samples of one operation. */
export class Stats {
  readonly ms: number[] = [];
  errors = 0;
  readonly errorSamples: string[] = [];
  add(ms: number) {
    this.ms.push(ms);
  }
  fail(what: string) {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(what.slice(0, 200));
  }
  pct(p: number): number {
    if (!this.ms.length) return Number.NaN;
    const sorted = [...this.ms].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  }
}

export function table(rows: Record<string, string | number>[]): string {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join("  ");
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join("\n");
}

/** user+system CPU seconds of a process, all its threads (Linux /proc/<pid>/stat); 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** user+system CPU seconds in a /proc stat file (a process's or a thread's), 0 when it is gone. */
function statCpuSeconds(path: string): number {
  try {
    const f = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Local ports of the ESTABLISHED TCP connections a process holds to `remotePort` (PostgreSQL: to
 *  find its backends), from /proc/<pid>/fd and /proc/net/tcp{,6}. */
export function localPortsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = remotePort.toString(16).toUpperCase().padStart(4, "0");
  const ports: number[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      // state 01 = ESTABLISHED
      if (f[2]!.endsWith(`:${hexPort}`) && f[3] === "01" && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** TCP connections a process holds to `remotePort` (PostgreSQL). */
export function connectionsTo(pid: number, remotePort: number): number {
  return localPortsTo(pid, remotePort).length;
}

export const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");

/** CPU seconds (user + system) of a process, all threads and its first thread (the event loop of a
 *  Bun server), from /proc; zeros when it is gone. A cost per request that a busy machine does not
 *  blur the way it blurs requests per second. */
export function cpuTimes(pid: number): { process: number; eventLoop: number } {
  return { process: statCpuSeconds(`/proc/${pid}/stat`), eventLoop: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`) };
}
