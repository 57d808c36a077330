// RFC 8628 §3.2: expires_in and interval are the server's settings (AUTHLY_DEVICE_CODE_TTL,
// AUTHLY_DEVICE_POLL_INTERVAL, issue 16), within documented bounds; slow_down grows the configured
// interval by 5 s (§3.5).
import { describe, expect, test } from "bun:test";
import { createTestApp } from "../support/app";
import { createOidcClient } from "../support/oidc-fixtures";
import { loadConfig } from "../../src/config";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";

const t = await createTestApp({ env: { AUTHLY_DEVICE_CODE_TTL: "120", AUTHLY_DEVICE_POLL_INTERVAL: "9" } });
const tv = await createOidcClient(t.deps, { client_type: "public", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
const form = (body: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });

describe("device code lifetime and polling interval are configurable", () => {
  test("the answer carries the configured expires_in and interval, the code expires then, and slow_down adds 5 s to it", async () => {
    const before = Date.now();
    const r = await t.request("/oauth/device_authorization", form({ client_id: tv.client_id, scope: "openid" }));
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.expires_in).toBe(120);
    expect(body.interval).toBe(9);
    const [row] = await t.deps.sql<{ expires_at: Date; interval_seconds: number }[]>`SELECT expires_at, interval_seconds FROM device_codes WHERE client_id = ${tv.client_id}`;
    expect(row!.interval_seconds).toBe(9);
    expect(row!.expires_at.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(row!.expires_at.getTime()).toBeLessThanOrEqual(Date.now() + 121_000);
    const poll = () => t.request("/oauth/token", form({ grant_type: DEVICE_CODE_GRANT, client_id: tv.client_id, device_code: body.device_code }));
    expect((await (await poll()).json()).error).toBe("authorization_pending");
    expect((await (await poll()).json()).error).toBe("slow_down");
    const [after] = await t.deps.sql<{ interval_seconds: number }[]>`SELECT interval_seconds FROM device_codes WHERE client_id = ${tv.client_id}`;
    expect(after!.interval_seconds).toBe(14);
  });

  test("values outside the bounds (lifetime 60-3600 s, interval 1-60 s) stop the server with the variable's name", () => {
    const env = { AUTHLY_MODE: "testing", DATABASE_URL: "postgresql://x@127.0.0.1/x", JWT_SECRET_KEY: "k".repeat(40), JWT_REFRESH_SECRET_KEY: "r".repeat(40), AUTHLY_ISSUER: "http://localhost" };
    for (const [name, value] of [["AUTHLY_DEVICE_CODE_TTL", "30"], ["AUTHLY_DEVICE_CODE_TTL", "7200"], ["AUTHLY_DEVICE_POLL_INTERVAL", "0"], ["AUTHLY_DEVICE_POLL_INTERVAL", "61"], ["AUTHLY_DEVICE_POLL_INTERVAL", "five"]] as const) {
      expect(() => loadConfig({ ...env, [name]: value }, { purpose: "server" })).toThrow(name);
    }
    expect(loadConfig({ ...env, AUTHLY_DEVICE_CODE_TTL: "3600", AUTHLY_DEVICE_POLL_INTERVAL: "1" }, { purpose: "server" })).toMatchObject({ deviceCodeTtl: 3600, devicePollInterval: 1 });
  });
});
