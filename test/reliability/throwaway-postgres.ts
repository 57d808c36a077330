// A throwaway PostgreSQL cluster of a test's own (initdb into a temporary folder, its own port; the
// shared cluster is never touched), from Debian's server binaries, run as the `postgres` OS user
// when the tests run as root. `available` is false where the binaries or that user are missing.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const PG_ROOT = "/usr/lib/postgresql";
const version = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).sort().at(-1) : undefined;
export const BIN = version ? join(PG_ROOT, version, "bin") : "";
const asRoot = process.getuid?.() === 0;
const hasPostgresUser = Bun.spawnSync(["id", "postgres"]).exitCode === 0;
export const available = Boolean(version) && existsSync(join(BIN, "initdb")) && (!asRoot || hasPostgresUser);

/** Runs a PostgreSQL binary (as the postgres user when we are root), bounded in time. */
export function pg(cmd: string[], timeoutMs = 30_000): { code: number; out: string } {
  const argv = asRoot ? ["su", "postgres", "-s", "/bin/sh", "-c", cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")] : cmd;
  const r = Bun.spawnSync(argv, { timeout: timeoutMs, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

/** pg_ctl on one data folder, waiting up to 30 s. */
export function pgCtl(data: string): (action: string, extra?: string[]) => { code: number; out: string } {
  return (action, extra = []) => pg([join(BIN, "pg_ctl"), "-D", data, "-w", "-t", "30", ...extra, action]);
}
