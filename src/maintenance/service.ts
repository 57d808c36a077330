// The background purge job: expired codes, tokens, grants, sessions, interactions, assertion jtis,
// rate-limit windows, login failures and remembered login sources, deleted in bounded batches so tables do not grow without
// limit. Runs on every node (the SQL is safe to run concurrently); a failed run is retried later.
import type { Deps } from "../deps";
import { isDatabaseUnavailable } from "../errors";
import { log } from "../log";
import { PURGE_RULES } from "./store";

export interface PurgeOptions {
  /** Rows per DELETE (one short transaction each). */
  batchSize?: number;
  /** Batches per table per run: bounds one run's work; the rest waits for the next run. */
  maxBatches?: number;
  /** Seconds a row is kept past its expiry. */
  graceSeconds?: number;
}

export interface PurgeReport {
  deleted: Record<string, number>;
  /** Tables that still had purgeable rows when the run's batch budget ran out. */
  unfinished: string[];
  ms: number;
}

export const PURGE_DEFAULTS = { batchSize: 1000, maxBatches: 50, graceSeconds: 3600 } as const;

/** One purge run over every table. Throws when the database fails (the scheduler logs it). */
export async function purgeExpired(deps: Pick<Deps, "sql" | "config">, opts: PurgeOptions = {}): Promise<PurgeReport> {
  const batchSize = opts.batchSize ?? PURGE_DEFAULTS.batchSize;
  const maxBatches = opts.maxBatches ?? PURGE_DEFAULTS.maxBatches;
  const grace = opts.graceSeconds ?? PURGE_DEFAULTS.graceSeconds;
  const loginWindow = deps.config.loginLockoutSeconds;
  const start = performance.now();
  const deleted: Record<string, number> = {};
  const unfinished: string[] = [];
  for (const rule of PURGE_RULES) {
    let total = 0;
    let batches = 0;
    for (;;) {
      const n = await rule.purge(deps.sql, batchSize, grace, loginWindow);
      total += n;
      batches++;
      if (n < batchSize) break;
      if (batches >= maxBatches) {
        unfinished.push(rule.table);
        break;
      }
    }
    deleted[rule.table] = total;
  }
  return { deleted, unfinished, ms: performance.now() - start };
}

export interface PurgeJob {
  /** Runs once now (tests, `serve` start); resolves with the report, or undefined on failure. */
  runNow(): Promise<PurgeReport | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts the periodic purge: every `intervalSeconds` (jittered so that nodes started together do
 * not run together), sooner again when a run left work behind. 0 disables it.
 */
export function startPurgeJob(deps: Pick<Deps, "sql" | "config">, intervalSeconds: number, opts: PurgeOptions = {}): PurgeJob {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<PurgeReport | undefined> | undefined;
  let stopped = false;
  const run = (): Promise<PurgeReport | undefined> => {
    running ??= purgeExpired(deps, opts)
      .then((report) => {
        const n = Object.values(report.deleted).reduce((a, b) => a + b, 0);
        if (n > 0) log.debug(`purge: deleted ${n} expired row(s) in ${Math.round(report.ms)} ms`, { deleted: report.deleted });
        return report;
      })
      .catch((err) => {
        if (isDatabaseUnavailable(err)) log.debug("purge skipped: database unavailable");
        else log.warn("purge failed", { error: err instanceof Error ? err.message : String(err) });
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = (seconds: number) => {
    if (stopped || intervalSeconds <= 0) return;
    const ms = seconds * 1000 * (0.75 + Math.random() / 2);
    timer = setTimeout(async () => {
      const report = await run();
      schedule(report?.unfinished.length ? Math.min(intervalSeconds, 5) : intervalSeconds);
    }, ms);
    (timer as { unref?: () => void }).unref?.();
  };
  schedule(intervalSeconds);
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
