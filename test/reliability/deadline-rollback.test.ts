// The request deadline's 503 tells the truth (issue 12, item 7): work abandoned at the deadline
// never commits, even when the frozen database gets it later. A client that retries as Retry-After
// invites — the same refresh token, the same authorization code — succeeds, and keeps its grant.
import { afterAll, describe, expect, test } from "bun:test";
import { createSql } from "../../src/db/sql";
import { createClient, createCode, createUser, post } from "../support/fixtures";
import { startProxiedServer } from "./harness";

const DEADLINE_SECONDS = 2;
const app = `authly-deadline-${crypto.randomUUID().slice(0, 8)}`;
const s = await startProxiedServer({ AUTHLY_REQUEST_TIMEOUT_SECONDS: String(DEADLINE_SECONDS) }, { applicationName: app });
// pg_stat_activity (to see the abandoned transactions end) needs a real PostgreSQL server.
const real = s.db.engine === "postgres";
const direct = createSql({ url: s.db.url, pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 30 }, applicationName: `${app}-observer` });
afterAll(async () => {
  await direct.end({ timeout: 5 });
});

const client = await createClient(s.deps, { client_id: `deadline-${crypto.randomUUID().slice(0, 8)}`, redirect_uris: ["https://rp.example/cb"] });
const user = await createUser(s.deps, { username: `deadline-${crypto.randomUUID().slice(0, 8)}` });
const auth = { id: client.clientId, secret: client.secret! };

type TokenAnswer = { status: number; body: Record<string, string> };
async function token(params: Record<string, string>): Promise<TokenAnswer> {
  const r = await fetch(`${s.url}/oauth/token`, post(params, auth));
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}
const exchange = (c: { code: string; verifier: string; redirectUri: string }) =>
  token({ grant_type: "authorization_code", code: c.code, code_verifier: c.verifier, redirect_uri: c.redirectUri });
const refresh = (rt: string) => token({ grant_type: "refresh_token", refresh_token: rt });

/** Bounded wait until no backend of this server is inside a transaction or running a statement. */
async function waitForAbandonedWork(): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const [row] = await direct<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app} AND state IS DISTINCT FROM 'idle'`;
    if (row!.n === 0) return;
    await Bun.sleep(50);
  }
  throw new Error("the abandoned transactions did not end in time");
}

async function waitUntilReady(): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if ((await fetch(`${s.url}/health/ready`).then((r) => r.status, () => 0)) === 200) return;
    await Bun.sleep(50);
  }
  throw new Error("not ready again in time");
}

describe.skipIf(!real)("work that answered 503 never commits", () => {
  test("a refresh and a code exchange caught by a frozen database answer 503; retried after the thaw, both succeed and the grant lives on", async () => {
    const first = await exchange(await createCode(s.deps, { clientId: client.clientId, userId: user.id }));
    expect(first.status).toBe(200);
    const refreshToken = first.body.refresh_token!;
    const code = await createCode(s.deps, { clientId: client.clientId, userId: user.id });

    s.proxy.freeze();
    let frozen: TokenAnswer[];
    try {
      frozen = await Promise.all([refresh(refreshToken), exchange(code)]);
    } finally {
      // Everything the server sent meanwhile now reaches the database, late.
      s.proxy.thaw();
    }
    expect(frozen.map((a) => [a.status, a.body.error])).toEqual([
      [503, "temporarily_unavailable"],
      [503, "temporarily_unavailable"],
    ]);
    await waitUntilReady();
    await waitForAbandonedWork();

    // The retries Retry-After invites: the same refresh token and the same code.
    const retried = await refresh(refreshToken);
    expect({ status: retried.status, error: retried.body.error }).toEqual({ status: 200, error: undefined });
    const codeRetried = await exchange(code);
    expect({ status: codeRetried.status, error: codeRetried.body.error }).toEqual({ status: 200, error: undefined });
    // The family is alive: the rotated token works, and the access token of the retry is active.
    expect((await refresh(retried.body.refresh_token!)).status).toBe(200);
    const [grants] = await direct<{ n: number }[]>`
      SELECT count(*)::int AS n FROM grants WHERE client_id = ${client.clientId} AND revoked_at IS NOT NULL`;
    expect(grants!.n).toBe(0);
  }, 60_000);
});
