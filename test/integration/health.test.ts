import { describe, expect, test } from "bun:test";
import { createTestApp } from "../support/app";

describe("health and error shapes", () => {
  test("/health, /health/live and /health/ready answer 200 with a reachable database", async () => {
    const t = await createTestApp();
    const h = await t.request("/health");
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: "healthy", database: "connected" });
    expect((await t.request("/health/live")).status).toBe(200);
    const r = await t.request("/health/ready");
    expect(r.status).toBe(200);
    expect((await r.json()).ready).toBe(true);
    expect(h.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("/health/ready is false while not ready (migrating or stopping)", async () => {
    const t = await createTestApp();
    t.deps.health.migrating = true;
    const r = await t.request("/health/ready");
    expect(r.status).toBe(503);
    expect((await r.json()).ready).toBe(false);
    t.deps.health.migrating = false;
  });

  test("unknown paths answer a JSON 404, not a stack trace", async () => {
    const t = await createTestApp();
    const r = await t.request("/no/such/path");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "not_found", error_description: "No such endpoint" });
  });
});
