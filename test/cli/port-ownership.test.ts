// One `authly serve` per port: workers share their port through SO_REUSEPORT, so a second server
// (or another program that also set SO_REUSEPORT) would silently share it and answer some of its
// clients from another database. The supervisor or single process holds the port's lock.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../support/db";
import { freePort } from "../support/app";
import { runAuthly, serveProcessEnv, startServerProcess, type ServerProcess } from "../support/process";
import { acquirePortLock } from "../../src/cli/port-lock";
import { CliError } from "../../src/errors";

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("port ownership", () => {
  test("a second `authly serve` on a port another authly serves exits 1 naming its pid; the first keeps serving; once it stops, the port is free again", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const env = serveProcessEnv(db);
    // The first runs two workers: they share the port under their supervisor, which holds the lock.
    const first = await startServerProcess(["serve", "--workers", "2", "--port", String(port)], { env, port });
    servers.push(first);
    await until(() => first.output().includes("All 2 workers ready"), 30_000, "the first server's workers");
    for (const args of [["serve", "--workers", "2"], ["serve"]]) {
      // Before the fix, a second `--workers 2` joined the port silently and kept running.
      const second = await runAuthly([...args, "--port", String(port)], { env, timeoutMs: 20_000 });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`port ${port} is already served by another authly process (pid ${first.proc.pid})`);
      expect(second.stdout + second.stderr).not.toContain("listening");
      expect(second.stdout + second.stderr).not.toMatch(/\n\s+at /);
    }
    expect(first.proc.exitCode).toBeNull();
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    expect(await first.stop("SIGTERM")).toBe(0);
    // The lock went with the first server: a new one takes the port.
    const next = await startServerProcess(["serve", "--port", String(port)], { env, port });
    servers.push(next);
    expect((await fetch(`${next.url}/health`)).status).toBe(200);
    // A SIGKILLed holder leaves no lock behind either.
    next.proc.kill("SIGKILL");
    await next.proc.exited;
    const after = await startServerProcess(["serve", "--port", String(port)], { env, port });
    servers.push(after);
    expect(await after.stop("SIGTERM")).toBe(0);
  }, 120_000);

  test("a port held by another program (even with SO_REUSEPORT) fails with a bind error, exit 1, before any worker starts", async () => {
    const db = await createTestDatabase();
    for (const reusePort of [false, true]) {
      const port = await freePort();
      const squatter = Bun.serve({ hostname: "0.0.0.0", port, reusePort, fetch: () => new Response("squatter") });
      try {
        for (const args of [["serve", "--workers", "2"], ["serve"]]) {
          const r = await runAuthly([...args, "--port", String(port)], { env: serveProcessEnv(db), timeoutMs: 30_000 });
          expect(r.code).toBe(1);
          expect(r.stderr).toContain(`Cannot listen on 0.0.0.0:${port}: the port is already in use by another process`);
          expect(r.stdout + r.stderr).not.toContain("Starting 2 workers");
        }
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("squatter");
      } finally {
        await squatter.stop(true);
      }
    }
  }, 120_000);

  test("without abstract sockets (macOS, Windows): a lock file with the holder's pid, taken over when that pid is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authly-lock-"));
    try {
      const port = await freePort();
      const lock = await acquirePortLock(port, "darwin", dir);
      const file = join(dir, `authly-port-${port}.lock`);
      expect(readFileSync(file, "utf8")).toBe(String(process.pid));
      // Another process holding it: this test process stands in for that process (it is alive).
      lock.release();
      const other = Bun.spawn(["sleep", "30"]);
      try {
        writeFileSync(file, String(other.pid));
        const refused = await acquirePortLock(port, "darwin", dir).then(() => undefined, (e: unknown) => e);
        expect(refused).toBeInstanceOf(CliError);
        expect((refused as CliError).message).toBe(`port ${port} is already served by another authly process (pid ${other.pid})`);
        expect((refused as CliError).exitCode).toBe(1);
      } finally {
        other.kill("SIGKILL");
        await other.exited;
      }
      // The holder died without cleaning up: its stale lock is taken over.
      const taken = await acquirePortLock(port, "darwin", dir);
      expect(readFileSync(file, "utf8")).toBe(String(process.pid));
      taken.release();
      expect(() => readFileSync(file)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
