// GET /metrics: Prometheus text, protected by AUTHLY_METRICS_TOKEN or answered to loopback only.
import { describe, expect, test } from "bun:test";
import { createTestApp, startTestServer } from "../support/app";

const TOKEN = "metrics-token-0123456789abcdef";

describe("/metrics", () => {
  test("with AUTHLY_METRICS_TOKEN: 401 without or with a wrong bearer token, 200 with it", async () => {
    const t = await createTestApp({ env: { AUTHLY_METRICS_TOKEN: TOKEN } });
    const none = await t.request("/metrics");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await t.request("/metrics", { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    await (await t.request("/health")).text();
    await (await t.request("/no/such/path")).text();
    // Elysia records a request after its response is sent: poll (bounded) until both are counted.
    let ok!: Response;
    let text = "";
    for (let i = 0; i < 100 && !/route="unmatched",status="404"/.test(text); i++) {
      ok = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      text = await ok.text();
    }
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text).toMatch(/^authly_http_requests_total\{method="GET",route="\/health",status="200"\} \d+$/m);
    expect(text).toMatch(/^authly_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
    expect(text).toMatch(/^authly_http_request_duration_seconds_bucket\{method="GET",route="\/health",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^authly_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
    expect(text).toMatch(/^authly_db_pool_max_connections \d+$/m);
    expect(text).toContain("# TYPE authly_db_connections gauge");
    // PGlite has one backend and no per-connection pg_stat_activity rows; PostgreSQL has them.
    if (t.db.engine === "postgres") expect(text).toMatch(/^authly_db_connections\{state="[a-z ]+"\} \d+$/m);
    for (const name of ["authly_tokens_issued_total", "authly_logins_total", "authly_refresh_token_reuse_total", "authly_key_rotations_total"]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    // The raw path of an unknown URL never becomes a label (cardinality, and no data leaks).
    expect(text).not.toContain("/no/such/path");
  }, 60_000);

  test("a key rotation is counted by algorithm", async () => {
    const t = await createTestApp({ env: { AUTHLY_METRICS_TOKEN: TOKEN } });
    const count = async () => {
      const text = await (await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      return Number(/^authly_key_rotations_total\{alg="ES256"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await count();
    await t.deps.keys.rotate("ES256");
    expect(await count()).toBe(before + 1);
  }, 60_000);

  test("without a token: loopback clients only", async () => {
    const srv = await startTestServer();
    const res = await fetch(`${srv.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE authly_http_requests_total counter");
    const t = await createTestApp();
    // app.handle has no socket: the client address is unknown, so not loopback.
    const remote = await t.request("/metrics");
    expect(remote.status).toBe(403);
    expect((await remote.json()).error).toBe("forbidden");
  }, 60_000);
});
