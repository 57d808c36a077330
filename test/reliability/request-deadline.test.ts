// A silent network partition (the database keeps its connections open and answers nothing): no
// request hangs past the request deadline (AUTHLY_REQUEST_TIMEOUT_SECONDS, default the mode's
// connect timeout); each answers 503 temporarily_unavailable, and service resumes afterwards.
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { leaks, mountedRoutes, probes, seedFixtures, startProxiedServer } from "./harness";

const DEADLINE_SECONDS = 2;
const s = await startProxiedServer({ AUTHLY_REQUEST_TIMEOUT_SECONDS: String(DEADLINE_SECONDS) });
const f = await seedFixtures(s.deps);
const list = probes(f, mountedRoutes(createApp(s.deps, { accessLog: false })));

async function waitUntilReady(timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await fetch(`${s.url}/health/ready`).then((r) => r.status, () => 0)) === 200) return;
    await Bun.sleep(50);
  }
  throw new Error("not ready again in time");
}

describe("request deadline", () => {
  test("during a partition every request answers within the deadline: 503 temporarily_unavailable, no hang", async () => {
    expect(list.length).toBeGreaterThanOrEqual(5);
    s.proxy.blackhole();
    try {
      const outcomes = await Promise.all(
        list.map(async (p) => {
          const start = performance.now();
          const r = await p.request(s.url);
          const body = await r.text();
          return { name: p.name, ok: p.okStatus ?? 200, status: r.status, ms: performance.now() - start, body, retryAfter: r.headers.get("retry-after") };
        }),
      );
      for (const o of outcomes) {
        // Answered by the deadline (plus scheduling slack on a busy machine), never hanging.
        expect({ name: o.name, late: o.ms > DEADLINE_SECONDS * 1000 + 3000 }).toEqual({ name: o.name, late: false });
        expect(leaks(o.body)).toBeUndefined();
      }
      const unavailable = outcomes.filter((o) => o.status === 503);
      // Everything that needs the database (all of these probes) is refused truthfully.
      expect(unavailable.map((o) => o.name).sort()).toEqual(outcomes.map((o) => o.name).sort());
      for (const o of unavailable) {
        if (o.name === "ready" || o.name === "health") continue; // health documents report their own shape
        expect(JSON.parse(o.body).error).toBe("temporarily_unavailable");
        expect(o.retryAfter).toBe("1");
      }
    } finally {
      await s.proxy.restore();
    }
    await waitUntilReady(15_000);
    for (const p of list) expect({ name: p.name, status: (await p.request(s.url)).status }).toEqual({ name: p.name, status: p.okStatus ?? 200 });
  }, 60_000);
});
