// One worker of `serve --workers N`: the supervisor already migrated and bootstrapped, so a worker
// only opens its pool and listens on the shared port (SO_REUSEPORT), with or without the database. Over the IPC channel it says
// when it is ready, answers metrics requests, and stops if the supervisor disappears.
import { ExitCode } from "../errors";
import { log, setLogLevel } from "../log";
import { processSnapshot, setMetricsCollector } from "../metrics/index";
import type { Snapshot } from "../metrics/registry";
import { buildDeps, connectDatabase, listen, serveConfig, type ServeOptions } from "../server";
import type { SupervisorMessage, WorkerMessage } from "./supervisor";

const METRICS_WAIT_MS = 2000;

export async function runWorker(opts: ServeOptions, workerId: string): Promise<number> {
  const config = serveConfig({ ...opts, embedded: false });
  setLogLevel(config.logLevel);
  // A worker (re)started during a database outage comes up all the same and answers 503 on
  // database routes until the database returns; exiting would only make the supervisor restart it.
  const sql = await connectDatabase(config, { allowUnavailable: true });
  const deps = buildDeps(config, sql);
  deps.health.worker = Number(workerId);
  const running = await listen(deps, { reusePort: true });
  const ipc = typeof process.send === "function";
  const send = (msg: WorkerMessage) => {
    try {
      process.send?.(msg);
    } catch {
      // channel closed: the disconnect handler stops this worker
    }
  };
  const stop = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
    // The supervisor is gone (killed with SIGKILL): never keep serving as an orphan.
    if (ipc) process.once("disconnect", () => resolve("supervisor gone"));
  });
  if (ipc) {
    let nextReq = 1;
    const waiting = new Map<number, (s: Snapshot[]) => void>();
    process.on("message", (msg: SupervisorMessage) => {
      if (msg?.type === "ping") send({ type: "pong" });
      else if (msg?.type === "metrics:request") send({ type: "metrics:snapshot", req: msg.req, snapshot: processSnapshot() });
      else if (msg?.type === "metrics:result") waiting.get(msg.req)?.(msg.snapshots);
    });
    setMetricsCollector(
      (local) =>
        new Promise<Snapshot[]>((resolve) => {
          const req = nextReq++;
          const timer = setTimeout(() => finish([local]), METRICS_WAIT_MS);
          const finish = (s: Snapshot[]) => {
            clearTimeout(timer);
            waiting.delete(req);
            resolve(s.length ? s : [local]);
          };
          waiting.set(req, finish);
          send({ type: "metrics:collect", req });
        }),
    );
    send({ type: "ready", id: Number(workerId), pid: process.pid });
  }
  log.info(`worker ${workerId} (pid ${process.pid}) listening on ${running.address}`);
  const why = await stop;
  if (why === "supervisor gone") log.warn(`worker ${workerId}: supervisor gone; stopping`);
  await running.stop();
  return ExitCode.ok;
}
