// The metrics every part of Authly may count: `metrics.inc(name, labels)`, `metrics.observe(...)`.
// One registry per process; `serve --workers N` merges the workers' snapshots on each scrape.
import { labelKey, mergeSnapshots, Registry, type Labels, type MetricDef, type Snapshot } from "./registry";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const METRICS = {
  authly_http_requests_total: { type: "counter", help: "HTTP requests by method, route template and status code." },
  authly_http_request_duration_seconds: { type: "histogram", help: "HTTP request latency by method and route template.", buckets: LATENCY_BUCKETS },
  authly_tokens_issued_total: { type: "counter", help: "Successful token endpoint responses by grant type." },
  authly_logins_total: { type: "counter", help: "Password logins by result (success, failure, lockout)." },
  authly_refresh_token_reuse_total: { type: "counter", help: "Refresh-token reuse detections (the token family was revoked)." },
  authly_key_rotations_total: { type: "counter", help: "Signing key rotations by algorithm." },
  authly_admin_denials_total: { type: "counter", help: "Refused admin API requests, by whether an audit row was written (audited=false: over the per-source bound)." },
  authly_db_pool_max_connections: { type: "gauge", help: "Configured PostgreSQL pool size, summed over this server's worker processes." },
  authly_db_connections: { type: "gauge", help: "Authly's PostgreSQL connections by state, database-wide (every worker and node; pg_stat_activity)." },
  authly_processes: { type: "gauge", help: "Server processes that answered this scrape (the workers of one node)." },
  authly_process_resident_memory_bytes: { type: "gauge", help: "Resident memory, summed over the worker processes." },
  authly_build_info: { type: "gauge", help: "Always 1; the version label names the running build." },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;

const registry = new Registry<MetricName>(METRICS);

/** Count, observe or set a metric. Label values must come from a small fixed set (no ids, no paths). */
export const metrics = {
  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    registry.inc(name, labels, by);
  },
  observe(name: MetricName, labels: Labels, value: number): void {
    registry.observe(name, labels, value);
  },
  set(name: MetricName, labels: Labels, value: number): void {
    registry.set(name, labels, value);
  },
  snapshot(): Snapshot {
    return registry.snapshot();
  },
};

/** One finished HTTP request (app.ts calls this), labelled by route template, never the raw path. */
export function recordHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
  const r = route || "unmatched";
  // Rendering label sets was half the CPU of a metadata request: each combination is rendered once.
  const id = `${method} ${status} ${r}`;
  let keys = httpLabelKeys.get(id);
  if (!keys) {
    keys = { requests: labelKey({ method, route: r, status }), duration: labelKey({ method, route: r }) };
    if (httpLabelKeys.size < MAX_CACHED_LABEL_SETS) httpLabelKeys.set(id, keys);
  }
  registry.incKey("authly_http_requests_total", keys.requests);
  registry.observeKey("authly_http_request_duration_seconds", keys.duration, seconds);
}

/** Methods x route templates x statuses: a bounded set; the bound only guards against surprises. */
const MAX_CACHED_LABEL_SETS = 4096;
const httpLabelKeys = new Map<string, { requests: string; duration: string }>();

/** Security events from the audit trail that are also metrics (audit/service.ts calls this). */
export function recordAuditEvent(action: string, details?: Record<string, unknown>): void {
  if (action === "login.success") metrics.inc("authly_logins_total", { result: "success" });
  else if (action === "login.failure") metrics.inc("authly_logins_total", { result: "failure" });
  else if (action === "login.lockout") metrics.inc("authly_logins_total", { result: "lockout" });
  else if (action === "login.throttle") metrics.inc("authly_logins_total", { result: "throttle" });
  else if (action === "token.family_revoked" ? details?.reason === "refresh_token_reuse" : /reuse/.test(action)) metrics.inc("authly_refresh_token_reuse_total");
}

/** Gathers the snapshots of every process serving this port; a worker replaces the default. */
type Collector = (local: Snapshot) => Promise<Snapshot[]>;
let collector: Collector = async (local) => [local];

export function setMetricsCollector(fn: Collector): void {
  collector = fn;
}

/** This process's snapshot, with its process gauges up to date (also what a worker sends). */
export function processSnapshot(): Snapshot {
  metrics.set("authly_processes", {}, 1);
  metrics.set("authly_process_resident_memory_bytes", {}, process.memoryUsage.rss());
  return registry.snapshot();
}

/** This process's snapshot merged with its sibling workers' (when a collector is installed). */
export async function collectMetrics(): Promise<Snapshot> {
  const local = processSnapshot();
  let snaps: Snapshot[];
  try {
    snaps = await collector(local);
  } catch {
    snaps = [local];
  }
  return mergeSnapshots(snaps.length ? snaps : [local]);
}
