// A request without a body that waits on an unanswering database longer than Bun's default 10 s
// idle timeout still gets the documented 503 at the request deadline, not a connection reset: the
// listener's idle timeout is above the deadline (issue 12, item 8).
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { ConfigError } from "../../src/errors";
import { testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { seedFixtures, startProxiedServer } from "./harness";

// Above Bun's default idle timeout (10 s), as short as that allows.
const DEADLINE_SECONDS = 12;

describe("listener idle timeout", () => {
  test("a body-less request waiting on a silent database past 10 s gets 503 temporarily_unavailable at the deadline, not a reset", async () => {
    const s = await startProxiedServer({ AUTHLY_REQUEST_TIMEOUT_SECONDS: String(DEADLINE_SECONDS) });
    const f = await seedFixtures(s.deps);
    s.proxy.blackhole();
    try {
      const outcome = await fetch(`${s.url}/admin/clients`, { headers: { authorization: `Bearer ${f.adminToken}` }, signal: AbortSignal.timeout((DEADLINE_SECONDS + 20) * 1000) }).then(
        async (r) => ({ status: r.status, error: ((await r.json()) as { error?: string }).error }),
        (e: Error) => ({ status: 0, error: `${e.name}: ${e.message}` }),
      );
      expect(outcome).toEqual({ status: 503, error: "temporarily_unavailable" });
    } finally {
      await s.proxy.restore();
    }
  }, 60_000);

  test("refuses a request deadline the listener's idle timeout cannot cover (Bun's limit is 255 s)", async () => {
    const db = await createTestDatabase({ migrated: false });
    expect(() => loadConfig(testEnv(db, { AUTHLY_REQUEST_TIMEOUT_SECONDS: "300" }), { purpose: "server" })).toThrow(ConfigError);
    expect(loadConfig(testEnv(db, { AUTHLY_REQUEST_TIMEOUT_SECONDS: "240" }), { purpose: "server" }).requestTimeoutSeconds).toBe(240);
  });
});
