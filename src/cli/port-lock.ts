// Port ownership for `authly serve`: workers share their port through SO_REUSEPORT, so a second
// `authly serve` on the same port would join it silently (and serve another database's clients).
// The embedded engine's data folder gets the same kind of lock (two PGlite on one folder corrupt it).
// The single-process server or the supervisor holds one lock per port — on Linux an abstract unix
// socket `\0authly-port-<port>`, which the kernel frees when the process dies, however it dies; on
// other systems a lock file with the holder's pid, taken over when that pid is gone. Workers never
// take it: they run under the supervisor that does.
import net from "node:net";
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { CliError, ExitCode } from "../errors";

export interface PortLock {
  release(): void;
}

/** Attempts to take a lock whose holder vanished meanwhile (bounded). */
const ATTEMPTS = 3;
/** How long a second process waits for the holder to say its pid. */
const ASK_TIMEOUT_MS = 1000;

/** Builds the refusal for a lock held by another authly process (pid when it said). */
type Refusal = (pid: number | undefined) => CliError;

/**
 * Takes the port's lock for this process, or throws a CliError naming the authly process that holds
 * it (exit code 1). Port 0 (the system picks a free port) needs no lock.
 */
export async function acquirePortLock(port: number, platform: string = process.platform, lockDir = tmpdir()): Promise<PortLock> {
  if (port === 0) return { release() {} };
  const refuse: Refusal = (pid) => new CliError(`port ${port} is already served by another authly process${pid ? ` (pid ${pid})` : ""}`, ExitCode.general, "Stop it first, or choose another --port (AUTHLY_PORT).");
  return acquireLock(`port-${port}`, refuse, platform, lockDir);
}

/**
 * The same for the embedded engine's data folder: two PGlite instances on one folder both open it
 * and corrupt it. Keyed by the folder's absolute path (one machine, one network namespace).
 */
export async function acquireDataDirLock(dataDir: string, platform: string = process.platform, lockDir = tmpdir()): Promise<PortLock> {
  const path = resolve(dataDir);
  const refuse: Refusal = (pid) => new CliError(`the embedded database in ${path} is already used by another authly process${pid ? ` (pid ${pid})` : ""}`, ExitCode.general, "Stop it first, or choose another --data-dir.");
  return acquireLock(`data-${createHash("sha256").update(path).digest("hex").slice(0, 32)}`, refuse, platform, lockDir);
}

function acquireLock(key: string, refuse: Refusal, platform: string, lockDir: string): Promise<PortLock> | PortLock {
  return platform === "linux" ? abstractSocketLock(key, refuse) : lockFile(join(lockDir, `authly-${key}.lock`), refuse);
}

async function abstractSocketLock(key: string, refuse: Refusal): Promise<PortLock> {
  const name = `\0authly-${key}`;
  for (let attempt = 1; ; attempt++) {
    // Whoever connects learns who holds the lock.
    const server = net.createServer((c) => {
      c.on("error", () => c.destroy());
      c.end(`${JSON.stringify({ app: "authly", pid: process.pid })}\n`);
    });
    const taken = await new Promise<boolean>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(false) : reject(err)));
      server.listen({ path: name }, () => resolve(true));
    });
    if (taken) {
      server.unref();
      return { release: () => void server.close() };
    }
    const holder = await askHolder(name);
    if (holder !== "gone" || attempt >= ATTEMPTS) throw refuse(holder === "gone" ? undefined : holder);
  }
}

/** The pid the holder of `name` reports; "gone" when nobody answers (it just exited). */
function askHolder(name: string): Promise<number | undefined | "gone"> {
  return new Promise((resolve) => {
    let text = "";
    const socket = net.connect({ path: name });
    const timer = setTimeout(() => finish(undefined), ASK_TIMEOUT_MS);
    const finish = (v: number | undefined | "gone") => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    socket.on("data", (d) => (text += d.toString()));
    socket.on("end", () => {
      try {
        const pid = Number(JSON.parse(text).pid);
        finish(Number.isInteger(pid) && pid > 0 ? pid : undefined);
      } catch {
        finish(undefined);
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(err.code === "ECONNREFUSED" || err.code === "ENOENT" ? "gone" : undefined));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockFile(path: string, refuse: Refusal): PortLock {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once("exit", release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(path, "utf8").trim()) || undefined;
    } catch {
      continue; // removed meanwhile: try again
    }
    if (pid && pid !== process.pid && alive(pid)) throw refuse(pid);
    // Left by a process that died without cleaning up: take it over.
    try {
      unlinkSync(path);
    } catch {
      // another starter removed it first
    }
  }
  throw refuse(undefined);
}

/**
 * Fails clearly when a process that is not ours holds the port: workers bind with SO_REUSEPORT and
 * would share it with any process that did too, so probe without it first.
 */
export async function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  let probe: ReturnType<typeof Bun.serve>;
  try {
    probe = Bun.serve({ hostname: host, port, reusePort: false, fetch: () => new Response(null, { status: 503 }) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError(`Cannot listen on ${host}:${port}: the port is already in use by another process`, ExitCode.general);
    if (code === "EACCES") throw new CliError(`Cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges)`, ExitCode.general);
    throw new CliError(`Cannot listen on ${host}:${port}: ${(err as Error).message}`, ExitCode.general);
  }
  await probe.stop(true);
}
