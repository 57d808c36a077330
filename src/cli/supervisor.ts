// The worker supervisor of `serve --workers N`: N processes of this same executable bound to one
// port with SO_REUSEPORT (Linux spreads connections across them). A worker that dies is restarted
// with exponential back-off; if workers keep crashing the supervisor gives up with exit code 1.
import { log } from "../log";
import { processEnv } from "../config";

export interface SuperviseOptions {
  count: number;
  env: Record<string, string>;
  port: number;
  /** Crashes allowed within CRASH_WINDOW_MS before giving up. */
  maxCrashes?: number;
}

const CRASH_WINDOW_MS = 60_000;

/** The command that starts this executable again (source run or compiled binary). */
export function selfCommand(args: string[]): string[] {
  const compiled = Bun.main.startsWith("/$bunfs") || Bun.main.startsWith("B:/~BUN");
  return compiled ? [process.execPath, ...args] : [process.execPath, Bun.main, ...args];
}

export async function superviseWorkers(opts: SuperviseOptions): Promise<number> {
  const maxCrashes = opts.maxCrashes ?? Math.max(5, opts.count * 3);
  const crashes: number[] = [];
  const procs = new Map<number, ReturnType<typeof Bun.spawn>>();
  let stopping = false;
  let failed = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const start = (id: number, attempt: number) => {
    const proc = Bun.spawn(selfCommand(["serve"]), {
      env: { ...processEnv(), ...opts.env, AUTHLY_WORKER_ID: String(id) },
      stdout: "inherit",
      stderr: "inherit",
      stdin: "ignore",
    });
    procs.set(id, proc);
    proc.exited.then((code) => {
      procs.delete(id);
      if (stopping) {
        if (procs.size === 0) resolveDone(failed ? 1 : 0);
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length && now - crashes[0]! > CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length > maxCrashes) {
        log.error(`Workers crashed ${crashes.length} times within ${CRASH_WINDOW_MS / 1000} s; giving up`);
        failed = true;
        shutdown("SIGTERM");
        return;
      }
      const delay = Math.min(10_000, 100 * 2 ** Math.min(attempt, 7));
      log.warn(`worker ${id} exited with code ${code}; restarting in ${delay} ms`);
      setTimeout(() => !stopping && start(id, attempt + 1), delay);
    });
  };

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`Stopping ${procs.size} worker(s) (${signal})`);
    if (procs.size === 0) resolveDone(failed ? 1 : 0);
    for (const p of procs.values()) p.kill(signal);
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGTERM"));

  log.info(`Starting ${opts.count} workers on port ${opts.port} (SO_REUSEPORT)`);
  for (let i = 1; i <= opts.count; i++) start(i, 0);
  return done;
}
