// The device grant is allowed per client (RFC 8628 §3.4): through the admin API and the CLI's
// --grant-type (the URN, or "device_code" for short), with refresh_token beside it; the built-in
// authly-cli client has it. Real server, real `authly` subprocess.
import { beforeAll, describe, expect, test } from "bun:test";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";
import { startCliWorld, type CliWorld } from "./admin-support";

const w: CliWorld = await startCliWorld();

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});

describe("device grant per client", () => {
  test("client create --grant-type device_code: a public client for a TV app, with refresh tokens", async () => {
    const r = await w.cli(["admin", "client", "create", "--name", "TV App", "--type", "public", "--grant-type", "device_code", "--grant-type", "refresh_token", "--scope", "openid offline_access", "--output", "json"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const c = JSON.parse(r.stdout);
    expect(c.grant_types).toEqual([DEVICE_CODE_GRANT, "refresh_token"]);
    expect(c.response_types).toEqual([]);
    expect(c.redirect_uris).toEqual([]);
    // The new client can start a device flow at once.
    const d = await fetch(`${w.url}/oauth/device_authorization`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ client_id: c.client_id, scope: "openid" }).toString() });
    expect(d.status).toBe(200);
  });

  test("refresh_token needs authorization_code or the device grant beside it (admin API validation); an unknown grant name is refused", async () => {
    const r = await w.cli(["admin", "client", "create", "--name", "Refresh only", "--type", "public", "--grant-type", "refresh_token"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("refresh_token is issued only with authorization_code or urn:ietf:params:oauth:grant-type:device_code");
    const bad = await w.cli(["admin", "client", "create", "--name", "Typo", "--type", "public", "--grant-type", "device-code"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("Unknown grant type");
  });

  test("client update adds the grant by its URN to an existing client; the built-in authly-cli client has it", async () => {
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Kiosk", "--type", "public", "--redirect-uri", "https://kiosk.example/cb", "--output", "json"])).stdout);
    const u = await w.cli(["admin", "client", "update", created.client_id, "--grant-type", "authorization_code", "--grant-type", DEVICE_CODE_GRANT, "--output", "json"]);
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout).grant_types).toEqual(["authorization_code", DEVICE_CODE_GRANT]);
    const cli = JSON.parse((await w.cli(["admin", "client", "show", "authly-cli", "--output", "json"])).stdout);
    expect(cli.grant_types).toContain(DEVICE_CODE_GRANT);
  });
});
