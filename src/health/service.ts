// Database reachability, bounded in time so that a health probe never hangs.
import type { Deps } from "../deps";
import { ping } from "../db/sql";

const PING_TIMEOUT_MS = 2000;

export async function pingDatabase(deps: Deps): Promise<{ ok: boolean; ms: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ping(deps.sql),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("database ping timed out")), PING_TIMEOUT_MS);
      }),
    ]);
    deps.health.lastDatabaseError = undefined;
    return { ok: true, ms: performance.now() - start };
  } catch (err) {
    deps.health.lastDatabaseError = err instanceof Error ? err.message : String(err);
    return { ok: false, ms: performance.now() - start };
  } finally {
    clearTimeout(timer);
  }
}
