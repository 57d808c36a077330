// The device grant on several nodes at once (RFC 8628 §3.5): two app instances, each with its own
// connection pool, on one database. slow_down's interval is counted in the database, so polls spread
// over both nodes see one interval; a device code is redeemed exactly once whichever node answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";
import { createSecondNode, createTestApp, type TestApp } from "../support/app";
import { post } from "../support/fixtures";
import { createOidcClient, createOidcUser, type OidcTestClient } from "../support/oidc-fixtures";
import { Browser, isLoginPage } from "../support/browser";

const ROUNDS = 10;
const PARALLEL = 6;
const env = { AUTHLY_DEVICE_USER_CODE_RATE_LIMIT: "100000", AUTHLY_DEVICE_USER_CODE_GLOBAL_RATE_LIMIT: "100000" };
const a: TestApp = await createTestApp({ env });
// PGlite serves one connection through one backend: two pools there would not be two nodes.
const multiNode = a.db.engine !== "pglite";
let b: Pick<TestApp, "request">;
let closeB = async () => {};
let tv: OidcTestClient;

beforeAll(async () => {
  tv = await createOidcClient(a.deps, { client_type: "public", client_name: "TV", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
  if (!multiNode) return;
  const second = createSecondNode(a, env);
  b = second;
  closeB = second.close;
});
afterAll(() => closeB());

const node = (i: number) => (i % 2 === 0 ? a : b);

async function newCode(): Promise<{ device_code: string; user_code: string }> {
  const r = await a.request("/oauth/device_authorization", post({ client_id: tv.client_id, scope: "openid" }));
  expect(r.status).toBe(200);
  return (await r.json()) as never;
}

async function poll(app: Pick<TestApp, "request">, deviceCode: string) {
  const r = await app.request("/oauth/token", post({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: tv.client_id }));
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

describe.skipIf(!multiNode)("two nodes, one database", () => {
  test(`simultaneous polls on two nodes: one authorization_pending, every other slow_down, and the interval grows by 5 s for each (${ROUNDS} rounds × ${PARALLEL})`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const code = await newCode();
      // The first poll of a code starts its clock.
      expect((await poll(a, code.device_code)).body.error).toBe("authorization_pending");
      await a.deps.sql`UPDATE device_codes SET last_polled_at = now() - interval '1 hour' WHERE client_id = ${tv.client_id} AND status = 'pending'`;
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => poll(node(i), code.device_code)));
      const errors = results.map((r) => r.body.error).sort();
      expect(errors).toEqual(["authorization_pending", ...Array(PARALLEL - 1).fill("slow_down")]);
      const [row] = await a.deps.sql<{ interval_seconds: number }[]>`SELECT interval_seconds FROM device_codes WHERE client_id = ${tv.client_id} AND status = 'pending' ORDER BY created_at DESC LIMIT 1`;
      expect(row!.interval_seconds).toBe(5 + 5 * (PARALLEL - 1));
      // The other node sees the raised interval too: polling at once is slow_down there as well.
      expect((await poll(b, code.device_code)).body.error).toBe("slow_down");
      await a.deps.sql`UPDATE device_codes SET status = 'denied' WHERE client_id = ${tv.client_id} AND status = 'pending'`;
    }
  });

  test(`simultaneous polls of an approved code on two nodes: exactly one gets tokens (${ROUNDS} rounds × ${PARALLEL})`, async () => {
    const user = await createOidcUser(a.deps);
    const browser = Browser.forApp(a);
    for (let round = 0; round < ROUNDS; round++) {
      const code = await newCode();
      let page = await browser.submit(await browser.open("/device"), "/device", { user_code: code.user_code });
      if (isLoginPage(page)) page = await browser.submit(page, "/login", { login: user.username, password: user.password });
      expect((await browser.submit(page, "/device/decision", { decision: "allow" })).status).toBe(200);
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => poll(node(i), code.device_code)));
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length).toBe(1);
      expect(ok[0]!.body.access_token).toBeString();
      for (const r of results.filter((r) => r.status !== 200)) {
        expect(r.status).toBe(400);
        expect(r.body.error).toBe("invalid_grant");
      }
    }
    const [n] = await a.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM grants WHERE client_id = ${tv.client_id} AND grant_type = ${DEVICE_CODE_GRANT}`;
    expect(n!.n).toBe(ROUNDS);
  });
});
