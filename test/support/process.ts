// Runs the real `authly` executable (from source, or the compiled binary when AUTHLY_BIN is set)
// as a subprocess, bounded in time.
import { TEST_SECRETS, testDataDir } from "./app";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const MAIN = resolve(ROOT, "src/main.ts");

export function authlyCommand(args: string[]): string[] {
  const bin = process.env.AUTHLY_BIN;
  return bin ? [bin, ...args] : [process.execPath, MAIN, ...args];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (killed after timeoutMs). */
export async function runAuthly(args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number; stdin?: string; cwd?: string; cleanEnv?: boolean } = {}): Promise<RunResult> {
  const start = performance.now();
  const baseEnv = opts.cleanEnv ? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } : process.env;
  const proc = Bun.spawn(authlyCommand(args), {
    env: { ...baseEnv, NO_COLOR: "1", ...opts.env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    cwd: opts.cwd ?? ROOT,
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - start };
}

export interface ServerProcess {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `authly serve ...` and waits until `readyPath` answers 200 (or fails with its output). */
export async function startServerProcess(args: string[], opts: { env?: Record<string, string | undefined>; port: number; readyPath?: string; timeoutMs?: number; cleanEnv?: boolean; cwd?: string }): Promise<ServerProcess> {
  const baseEnv = opts.cleanEnv ? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } : process.env;
  const proc = Bun.spawn(authlyCommand(args), {
    env: { ...baseEnv, NO_COLOR: "1", ...opts.env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    cwd: opts.cwd ?? ROOT,
  });
  const output = captureOutput(proc);
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let exited = false;
  proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited early (code ${proc.exitCode}):\n${output()}`);
    try {
      const r = await fetch(url + (opts.readyPath ?? "/health/ready"));
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  if (Date.now() >= deadline) {
    proc.kill("SIGKILL");
    throw new Error(`server did not become ready in time:\n${output()}`);
  }
  return {
    url,
    proc,
    output,
    async stop(signal = "SIGTERM") {
      if (exited) return proc.exitCode ?? -1;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The environment of an `authly serve` subprocess on a test database (testing mode, info logs
 *  so that tests can read the workers' lines, no access log). */
export function serveProcessEnv(db: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { ...TEST_SECRETS, AUTHLY_DATA_DIR: testDataDir(), AUTHLY_MODE: "testing", AUTHLY_LOG_LEVEL: "info", AUTHLY_ACCESS_LOG: "false", DATABASE_URL: db.url, ...extra };
}

/** Collects a piped subprocess's stdout and stderr as they come; returns the text so far. */
export function captureOutput(proc: { stdout: unknown; stderr: unknown }): () => string {
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return () => out;
}
