// GET /metrics: Prometheus text, protected by AUTHLY_METRICS_TOKEN or answered to loopback only.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createTestApp, sendRaw, startTestServer } from "../support/app";
import { createClient, post } from "../support/fixtures";

const TOKEN = "metrics-token-0123456789abcdef";
const tokenEndpoint = existsSync(resolve(import.meta.dir, "../../src/oauth/token.ts"));

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

  test.skipIf(!tokenEndpoint)("tokens issued by grant type, logins by result and refresh-token reuse are counted", async () => {
    const password = "Metrics-admin-password-1";
    const t = await createTestApp({ env: { AUTHLY_METRICS_TOKEN: TOKEN, AUTHLY_ADMIN_PASSWORD: password, AUTHLY_BOOTSTRAP_ENABLED: "true" } });
    const scrape = async () => (await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"+.]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    const before = await scrape();
    const svc = await createClient(t.deps, { client_id: `svc-${crypto.randomUUID().slice(0, 8)}`, grant_types: ["client_credentials"], scopes: ["openid"] });
    const cc = await t.request("/oauth/token", post({ grant_type: "client_credentials" }, { id: svc.clientId, secret: svc.secret! }));
    expect(cc.status).toBe(200);
    await cc.text();
    const bad = await t.request("/oauth/token", post({ grant_type: "password", client_id: "authly-cli", username: "admin", password: "wrong-password-123", scope: "admin:system:read" }));
    expect(bad.status).toBe(400);
    await bad.text();
    const good = await t.request("/oauth/token", post({ grant_type: "password", client_id: "authly-cli", username: "admin", password, scope: "admin:system:read" }));
    expect(good.status).toBe(200);
    const rt = (await good.json()).refresh_token as string;
    const first = await t.request("/oauth/token", post({ grant_type: "refresh_token", client_id: "authly-cli", refresh_token: rt }));
    expect(first.status).toBe(200);
    await first.text();
    const replay = await t.request("/oauth/token", post({ grant_type: "refresh_token", client_id: "authly-cli", refresh_token: rt }));
    expect(replay.status).toBe(400);
    await replay.text();
    // Counted just after each response is sent: poll (bounded).
    const want = [
      ['authly_tokens_issued_total{grant_type="client_credentials"}', 1],
      ['authly_tokens_issued_total{grant_type="password"}', 1],
      ['authly_tokens_issued_total{grant_type="refresh_token"}', 1],
      ['authly_logins_total{result="success"}', 1],
      ['authly_logins_total{result="failure"}', 1],
      ["authly_refresh_token_reuse_total", 1],
    ] as const;
    let after = await scrape();
    for (let i = 0; i < 100 && want.some(([s, n]) => value(after, s) - value(before, s) < n); i++) after = await scrape();
    for (const [series, n] of want) expect(`${series} +${value(after, series) - value(before, series)}`).toBe(`${series} +${n}`);
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

  test("without a token, a request relayed by an untrusted same-host proxy (X-Forwarded-For, Forwarded, X-Real-IP from 127.0.0.1) is not loopback", async () => {
    const srv = await startTestServer();
    for (const header of ["X-Forwarded-For: 203.0.113.9", "Forwarded: for=203.0.113.9", "X-Real-IP: 203.0.113.9"]) {
      const raw = await sendRaw(srv.url, `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\nConnection: close\r\n\r\n`);
      expect(`${header} -> ${raw.split("\r\n")[0]}`).toBe(`${header} -> HTTP/1.1 403 Forbidden`);
    }
    const direct = await sendRaw(srv.url, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(direct.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    // A proxy named in AUTHLY_TRUSTED_PROXIES is believed: its forwarded loopback client is loopback.
    const trusted = await startTestServer({ env: { AUTHLY_TRUSTED_PROXIES: "loopback" } });
    expect((await fetch(`${trusted.url}/metrics`, { headers: { "x-forwarded-for": "127.0.0.1" } })).status).toBe(200);
    expect((await fetch(`${trusted.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(403);
  }, 60_000);
});
