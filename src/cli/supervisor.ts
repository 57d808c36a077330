// The worker supervisor of `serve --workers N`: N processes of this same executable bound to one
// port with SO_REUSEPORT (Linux spreads connections across them), talking to the supervisor over
// an IPC channel (ready, metrics). A worker that dies is restarted with exponential back-off (capped
// at 10 s). A healthy worker is never stopped for another's failure: the supervisor gives up (stops
// them all, exits 1) only when every worker slot keeps crashing and none is serving. A worker does
// not exit when the database is away (it answers 503), so an outage causes no crashes to count.
// SIGTERM/SIGINT drain them.
import { listenAddress, listeningLine } from "../lib/listen-address";
import { log } from "../log";
import { processEnv } from "../config";
import { METRICS, type MetricName } from "../metrics/index";
import { mergeSnapshots, type Snapshot } from "../metrics/registry";

export interface SuperviseOptions {
  count: number;
  env: Record<string, string>;
  port: number;
  /** Crashes of one worker slot within CRASH_WINDOW_MS after which that slot is crash-looping. */
  maxCrashes?: number;
  /** Seconds a worker gets to drain on SIGTERM before it is killed (its own grace + a margin). */
  graceSeconds?: number;
  /** A ready worker that answers no ping for this long is killed (and so restarted); 0: never. */
  heartbeatSeconds?: number;
}

/** Messages on the supervisor <-> worker IPC channel. */
export type WorkerMessage =
  | { type: "ready"; id: number; pid: number }
  | { type: "metrics:collect"; req: number }
  | { type: "metrics:snapshot"; req: number; snapshot: Snapshot }
  | { type: "pong" };
export type SupervisorMessage =
  | { type: "ping" }
  | { type: "metrics:request"; req: number }
  | { type: "metrics:result"; req: number; snapshots: Snapshot[] };

const CRASH_WINDOW_MS = 60_000;
/** A worker that ran this long without dying starts its back-off again from the beginning. */
const STABLE_MS = 30_000;
const METRICS_TIMEOUT_MS = 1500;

/** The command that starts this executable again (source run or compiled binary). */
export function selfCommand(args: string[], main = Bun.main, execPath = process.execPath): string[] {
  // A `bun build --compile` executable runs its bundled entry from a virtual file system:
  // /$bunfs/root/... on Linux and macOS, B:\~BUN\root\... on Windows.
  const compiled = main.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/i.test(main);
  return compiled ? [execPath, ...args] : [execPath, main, ...args];
}

/**
 * How many processes to start. SO_REUSEPORT balances connections only on Linux; elsewhere (macOS
 * binds but does not balance, Windows ignores it) the documented fallback is one process: scale
 * out with several nodes behind the load balancer instead.
 */
export function planWorkers(requested: number, platform: string = process.platform): { count: number; note?: string } {
  if (requested <= 1 || platform === "linux") return { count: requested };
  return { count: 1, note: `--workers ${requested}: SO_REUSEPORT load balancing needs Linux; on ${platform} Authly runs one process (run more nodes on other ports behind your load balancer instead)` };
}

/** Back-off before restart number `attempt` (0-based): 100 ms doubling, at most 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 100 * 2 ** Math.min(attempt, 7));
}

/** The counters and histograms of a snapshot (gauges describe live processes only). */
function cumulativeOnly(snap: Snapshot): Snapshot {
  return Object.fromEntries(Object.entries(snap).filter(([name]) => METRICS[name as MetricName]?.type !== "gauge"));
}

export async function superviseWorkers(opts: SuperviseOptions): Promise<number> {
  const maxCrashes = opts.maxCrashes ?? 5;
  const killAfterMs = ((opts.graceSeconds ?? 10) + 5) * 1000;
  /** Recent crash times per worker slot (1..count), within CRASH_WINDOW_MS. */
  const crashes = new Map<number, number[]>();
  /** Slots already reported as crash-looping (reported once until they recover). */
  const looping = new Set<number>();
  const procs = new Map<number, ReturnType<typeof Bun.spawn>>();
  const ready = new Set<number>();
  let announced = false;
  let stopping = false;
  let failed = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // Heartbeat: a worker whose event loop is stuck (or that was stopped) still holds its share of the
  // port's connections; one that answers no ping for heartbeatSeconds is killed and restarted.
  const heartbeatMs = (opts.heartbeatSeconds ?? 30) * 1000;
  const lastSeen = new Map<number, number>();
  const heartbeat = heartbeatMs > 0 ? setInterval(() => checkHeartbeats(), Math.max(250, Math.min(5000, heartbeatMs / 4))) : undefined;
  const finish = () => {
    clearTimeout(killTimer);
    clearInterval(heartbeat);
    resolveDone(failed ? 1 : 0);
  };

  // Metrics scrapes: a worker asks, every live worker answers with its snapshot, the asker merges.
  // The counters of a worker that exited stay in `retired` (as last seen), so that a restart does
  // not make the node's counters go backwards.
  let nextReq = 1;
  const lastSnapshot = new Map<number, Snapshot>();
  let retired: Snapshot = {};
  const pending = new Map<number, { from: number; askerReq: number; want: number; snapshots: Snapshot[]; timer: ReturnType<typeof setTimeout> }>();
  const send = (id: number, msg: SupervisorMessage) => {
    try {
      procs.get(id)?.send(msg);
    } catch {
      // the worker is gone; `exited` handles it
    }
  };
  const answer = (req: number) => {
    const p = pending.get(req);
    if (!p) return;
    pending.delete(req);
    clearTimeout(p.timer);
    send(p.from, { type: "metrics:result", req: p.askerReq, snapshots: Object.keys(retired).length ? [...p.snapshots, retired] : p.snapshots });
  };

  const onMessage = (id: number, msg: WorkerMessage) => {
    lastSeen.set(id, Date.now());
    if (msg.type === "ready") {
      ready.add(id);
      if (!announced && ready.size === opts.count) {
        announced = true;
        log.success(`All ${opts.count} workers ready. ${listeningLine(listenAddress(opts.env.AUTHLY_HOST ?? "0.0.0.0", opts.port), opts.env.AUTHLY_ISSUER ?? "")}`);
      }
    } else if (msg.type === "metrics:collect") {
      const req = nextReq++;
      const live = [...procs.keys()];
      pending.set(req, { from: id, askerReq: msg.req, want: live.length, snapshots: [], timer: setTimeout(() => answer(req), METRICS_TIMEOUT_MS) });
      for (const w of live) send(w, { type: "metrics:request", req });
    } else if (msg.type === "metrics:snapshot") {
      const p = pending.get(msg.req);
      if (!p) return;
      p.snapshots.push(msg.snapshot);
      lastSnapshot.set(id, msg.snapshot);
      if (p.snapshots.length >= p.want) answer(msg.req);
    }
  };

  const checkHeartbeats = () => {
    if (stopping) return;
    const now = Date.now();
    for (const [id, proc] of procs) {
      if (!ready.has(id)) continue; // still starting: its start-up has its own timeouts
      const seen = lastSeen.get(id) ?? now;
      if (now - seen > heartbeatMs) {
        log.error(`worker ${id} (pid ${proc.pid}) answered no heartbeat for ${Math.round((now - seen) / 1000)} s; killing it`);
        ready.delete(id);
        proc.kill("SIGKILL");
        continue;
      }
      send(id, { type: "ping" });
    }
  };

  const slots = () => Array.from({ length: opts.count }, (_, i) => i + 1);
  /** Records a crash of slot `id` (when `add`) and returns its crashes within the window. */
  const countCrash = (id: number, now: number, add = true): number => {
    const list = crashes.get(id) ?? [];
    if (add) list.push(now);
    while (list.length && now - list[0]! > CRASH_WINDOW_MS) list.shift();
    crashes.set(id, list);
    return list.length;
  };

  const start = (id: number, attempt: number) => {
    const startedAt = Date.now();
    const proc = Bun.spawn(selfCommand(["serve"]), {
      env: { ...processEnv(), ...opts.env, AUTHLY_WORKER_ID: String(id) },
      stdout: "inherit",
      stderr: "inherit",
      stdin: "ignore",
      serialization: "json",
      ipc: (message) => onMessage(id, message as WorkerMessage),
    });
    procs.set(id, proc);
    proc.exited.then((code) => {
      procs.delete(id);
      ready.delete(id);
      lastSeen.delete(id);
      const last = lastSnapshot.get(id);
      if (last) retired = mergeSnapshots([retired, cumulativeOnly(last)]);
      lastSnapshot.delete(id);
      if (stopping) {
        if (procs.size === 0) finish();
        return;
      }
      const now = Date.now();
      const recent = countCrash(id, now);
      // A worker that had been running for a while starts its back-off over.
      const restart = now - startedAt >= STABLE_MS ? 0 : attempt;
      const delay = backoffMs(restart);
      const how = proc.signalCode ? `was killed by ${proc.signalCode}` : `exited with code ${code}`;
      if (recent > maxCrashes) {
        const loopingSlots = slots().filter((s) => countCrash(s, now, false) > maxCrashes);
        if (loopingSlots.length === opts.count && ready.size === 0) {
          const counts = loopingSlots.map((s) => `worker ${s}: ${crashes.get(s)!.length}`).join(", ");
          log.error(`Every worker keeps crashing (${counts} times within ${CRASH_WINDOW_MS / 1000} s) and none is serving; giving up`);
          failed = true;
          shutdown("SIGTERM");
          return;
        }
        if (!looping.has(id)) {
          looping.add(id);
          const serving = [...ready].sort((a, b) => a - b);
          log.error(`worker ${id} keeps crashing (${recent} times within ${CRASH_WINDOW_MS / 1000} s); ${serving.length ? `worker(s) ${serving.join(", ")} keep serving; ` : ""}restarting it with back-off up to ${backoffMs(Infinity) / 1000} s`);
        }
      } else looping.delete(id);
      log.warn(`worker ${id} (pid ${proc.pid}) ${how}; restarting in ${delay} ms`);
      setTimeout(() => !stopping && start(id, restart + 1), delay);
    });
  };

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: stop waiting for the drain.
      log.warn(`Second ${signal}: killing ${procs.size} worker(s) now`);
      for (const p of procs.values()) p.kill("SIGKILL");
      return;
    }
    stopping = true;
    log.info(`Stopping ${procs.size} worker(s) (${signal}): draining in-flight requests`);
    if (procs.size === 0) return finish();
    for (const p of procs.values()) p.kill(signal);
    killTimer = setTimeout(() => {
      if (procs.size === 0) return;
      log.warn(`${procs.size} worker(s) still running after ${killAfterMs / 1000} s; killing them`);
      for (const p of procs.values()) p.kill("SIGKILL");
    }, killAfterMs);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGTERM"));

  log.info(`Starting ${opts.count} workers on port ${opts.port} (SO_REUSEPORT)`);
  for (let i = 1; i <= opts.count; i++) start(i, 0);
  return done;
}
