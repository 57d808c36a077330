// Health endpoints for load balancers and orchestrators: /health (database reachable),
// /health/live (process answers), /health/ready (migrated and database reachable).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { pingDatabase } from "./service";

export function healthRoutes(deps: Deps) {
  return new Elysia({ name: "health" })
    .get("/health", async ({ set }) => {
      const db = await pingDatabase(deps);
      set.headers["cache-control"] = "no-store";
      if (!db.ok) set.status = 503;
      return { status: db.ok ? "healthy" : "unhealthy", database: db.ok ? "connected" : "unreachable" };
    }, { detail: { tags: ["health"], summary: "Liveness and database check" } })
    .get("/health/live", ({ set }) => {
      set.headers["cache-control"] = "no-store";
      return deps.health.worker ? { status: "alive", worker: deps.health.worker } : { status: "alive" };
    }, { detail: { tags: ["health"], summary: "The process answers" } })
    .get("/health/ready", async ({ set }) => {
      set.headers["cache-control"] = "no-store";
      const db = deps.health.migrating ? { ok: false } : await pingDatabase(deps);
      const ready = deps.health.ready && !deps.health.migrating && db.ok;
      if (!ready) set.status = 503;
      return { ready, migrating: deps.health.migrating, database: db.ok ? "connected" : "unreachable" };
    }, { detail: { tags: ["health"], summary: "Ready to serve traffic" } });
}
