// Concurrency: two (or more) simultaneous exchanges of one authorization code, or refreshes of one
// refresh token — exactly one succeeds, every time (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
import { beforeAll, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createClient, createCode, createUser, post, type CreatedClient } from "../support/fixtures";
import type { UserRecord } from "../../src/accounts/model";

const ROUNDS = 30;
const PARALLEL = 4;
const t: TestApp = await createTestApp({ bootstrap: false });
let app: CreatedClient;
let user: UserRecord;

beforeAll(async () => {
  app = await createClient(t.deps, { client_id: "race-app" });
  user = await createUser(t.deps, { username: "racer" });
});

async function token(params: Record<string, string>) {
  const r = await t.request("/oauth/token", post(params, { id: app.clientId, secret: app.secret! }));
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

test(`concurrent exchanges of one code: exactly one succeeds (${ROUNDS} rounds × ${PARALLEL})`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const c = await createCode(t.deps, { clientId: app.clientId, userId: user.id, scope: "api:read" });
    const params = { grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri };
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => token(params)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    for (const r of results.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_grant");
    }
    // Exactly one grant came from the code; the losers' second use revoked it (RFC 6749 §4.1.2).
    const grants = await t.deps.sql`SELECT revoked_at FROM grants WHERE code_hash IS NOT NULL AND client_id = ${app.clientId} ORDER BY created_at DESC LIMIT 2`;
    expect(grants[0]!.revoked_at).toBeInstanceOf(Date);
  }
  const [n] = await t.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM grants WHERE client_id = ${app.clientId} AND grant_type = 'authorization_code'`;
  expect(n!.n).toBe(ROUNDS);
});

test(`concurrent refreshes with one refresh token: exactly one succeeds (${ROUNDS} rounds × ${PARALLEL})`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const c = await createCode(t.deps, { clientId: app.clientId, userId: user.id, scope: "api:read" });
    const first = await token({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri });
    expect(first.status).toBe(200);
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token! })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(r.body.error).toBe("invalid_grant");
    // One successor only was ever issued from the presented token.
    const [children] = await t.deps.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
      WHERE g.id = (SELECT grant_id FROM refresh_tokens WHERE token_hash = (SELECT token_hash FROM refresh_tokens ORDER BY created_at DESC LIMIT 1))`;
    expect(children!.n).toBe(2);
  }
});
