// GET /metrics (Prometheus text format). With AUTHLY_METRICS_TOKEN set it needs that bearer token;
// without it only loopback clients are answered (a scraper on the same host or a sidecar).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { isLoopbackClient } from "../http/request-context";
import { safeEqual } from "../lib/crypto";
import { metrics } from "./index";
import { renderMetrics } from "./service";

export function metricsRoutes(deps: Deps) {
  metrics.set("authly_db_pool_max_connections", {}, deps.config.mode.pool.max);
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async ({ request }) => {
      const denied = checkAccess(deps, request);
      if (denied) return denied;
      return new Response(await renderMetrics(deps), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
      });
    },
    { detail: { tags: ["operations"], summary: "Prometheus metrics (bearer AUTHLY_METRICS_TOKEN, or loopback only)" } },
  );
}

function checkAccess(deps: Deps, request: Request): Response | undefined {
  const token = deps.config.metricsToken;
  const json = (status: number, error: string, description: string, extra: Record<string, string> = {}) =>
    new Response(JSON.stringify({ error, error_description: description }), {
      status,
      headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
    });
  if (token) {
    const auth = request.headers.get("authorization") ?? "";
    const given = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (given && safeEqual(given, token)) return undefined;
    return json(401, "unauthorized", "a valid metrics bearer token is required", { "www-authenticate": 'Bearer realm="metrics"' });
  }
  // A request relayed by a same-host proxy that is not in AUTHLY_TRUSTED_PROXIES is not loopback.
  if (isLoopbackClient(request)) return undefined;
  return json(403, "forbidden", "metrics are served to loopback clients only (not through an untrusted proxy); set AUTHLY_METRICS_TOKEN to scrape from elsewhere");
}
