// Builds the /metrics document: the merged process metrics plus database-wide figures read at
// scrape time, bounded in time so that a slow database never hangs a scrape.
import type { Deps } from "../deps";
import { VERSION } from "../version";
import { collectMetrics, METRICS } from "./index";
import { labelKey, renderPrometheus } from "./registry";
import { countConnections } from "./store";

const DB_TIMEOUT_MS = 1000;

export async function renderMetrics(deps: Deps): Promise<string> {
  const snap = await collectMetrics();
  snap.authly_build_info = { [labelKey({ version: VERSION })]: 1 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const rows = await Promise.race([
      countConnections(deps.sql),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), DB_TIMEOUT_MS))),
    ]);
    snap.authly_db_connections = Object.fromEntries(rows.map((r) => [labelKey({ state: r.state }), r.n]));
  } catch {
    // The database did not answer in time: leave the gauge out rather than report zeros.
    delete snap.authly_db_connections;
  } finally {
    clearTimeout(timer);
  }
  return renderPrometheus(METRICS, snap);
}
