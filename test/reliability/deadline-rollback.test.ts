// The request deadline's 503 tells the truth (issue 12, item 7): work abandoned at the deadline
// never commits, even when the frozen database gets it later. A client that retries as Retry-After
// invites — the same refresh token, the same authorization code — succeeds, and keeps its grant.
import { afterAll, describe, expect, test } from "bun:test";
import { createSql, noteDatabaseClock, pipelinedTransaction, runWithDeadline, selfCheckingStatement, statementCommitBound } from "../../src/db/sql";
import { hashToken } from "../../src/tokens/service";
import { createClient, createCode, createUser, post } from "../support/fixtures";
import { startProxiedServer } from "./harness";
import { startTcpProxy } from "./tcp-proxy";

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

describe.skipIf(!real)("a rotation that commits on its own (one statement, its own deadline check)", () => {
  test("held up in the network until after the deadline, it does not commit; the retry rotates the same token", async () => {
    const first = await exchange(await createCode(s.deps, { clientId: client.clientId, userId: user.id }));
    expect(first.status).toBe(200);
    const second = await refresh(first.body.refresh_token!);
    expect(second.status).toBe(200);
    const held = second.body.refresh_token!;
    // The rotations just made left a fresh reading of the database's clock: the next one is a
    // single statement carrying its commit bound (tokens/service.ts rotateRefreshTokenAlone).
    expect(runWithDeadline(2000, () => statementCommitBound(s.deps.sql)).result).toBeInstanceOf(Date);
    // Its message (the token's hash is a parameter of it) and everything after it is held.
    s.proxy.freezeOnClientBytes(hashToken(s.deps, held));
    let frozen: TokenAnswer;
    try {
      frozen = await refresh(held);
    } finally {
      s.proxy.thaw();
    }
    expect([frozen.status, frozen.body.error]).toEqual([503, "temporarily_unavailable"]);
    await waitUntilReady();
    await waitForAbandonedWork();
    const retried = await refresh(held);
    expect({ status: retried.status, error: retried.body.error }).toEqual({ status: 200, error: undefined });
    const [grants] = await direct<{ n: number }[]>`
      SELECT count(*)::int AS n FROM grants WHERE client_id = ${client.clientId} AND revoked_at IS NOT NULL`;
    expect(grants!.n).toBe(0);
  }, 60_000);

  test("a self-checking statement that reaches the database past its bound is refused", async () => {
    await direct`CREATE TABLE IF NOT EXISTS deadline_probe (id text PRIMARY KEY)`;
    const target = new URL(s.db.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const sql = createSql({ url: proxy.url(s.db.url), pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 30 }, applicationName: `${app}-self` });
    const id = crypto.randomUUID();
    try {
      const [reading] = await sql<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
      noteDatabaseClock(sql, reading!.now);
      proxy.freezeOnClientBytes(id);
      const { result } = runWithDeadline(1500, () => {
        const bound = statementCommitBound(sql);
        if (!(bound instanceof Date)) throw new Error(`expected a bound, got ${bound}`);
        return selfCheckingStatement(() => sql`INSERT INTO deadline_probe (id) SELECT ${id} WHERE authly_commit_deadline(${bound})`);
      });
      const outcome = Promise.resolve(result).then(() => "committed", (e: { code?: string; message: string }) => e.code ?? e.message);
      // Held past the deadline (1.5 s, less its margin), then delivered.
      await Bun.sleep(1700);
      proxy.thaw();
      expect(await outcome).toBe("AUTHLY_DEADLINE");
      const [row] = await direct<{ n: number }[]>`SELECT count(*)::int AS n FROM deadline_probe WHERE id = ${id}`;
      expect(row!.n).toBe(0);
    } finally {
      proxy.thaw();
      await sql.end({ timeout: 1 });
      await proxy.stop();
    }
  }, 60_000);
});

/** Bounded poll of a condition the database shows. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

describe.skipIf(!real)("the commit guard on the database side", () => {
  for (const shape of ["single statement", "transaction", "pipelined transaction"] as const) {
    test(`a COMMIT held up in the network until after the deadline does not commit (${shape})`, async () => {
      await direct`CREATE TABLE IF NOT EXISTS deadline_probe (id text PRIMARY KEY)`;
      const target = new URL(s.db.url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const name = `${app}-guard-${shape === "transaction" ? "tx" : shape === "pipelined transaction" ? "pipe" : "single"}`;
      // A fresh pool: its first COMMIT goes out as text, so the proxy can hold exactly that message.
      const sql = createSql({ url: proxy.url(s.db.url), pool: { min: 1, max: 1, connectTimeout: 10, idleTimeout: 30 }, applicationName: name });
      const id = crypto.randomUUID();
      try {
        // The pipelined transaction (db/sql.ts), which a guarded single statement also is, sends its
        // COMMIT as a statement of its own.
        proxy.freezeOnClientBytes(shape === "transaction" ? "commit\0" : "COMMIT\0");
        const { result } = runWithDeadline(1500, () =>
          shape === "transaction"
            ? sql.begin((tx) => tx`INSERT INTO deadline_probe (id) VALUES (${id})`)
            : shape === "pipelined transaction"
              ? pipelinedTransaction(sql, (tx) => tx`INSERT INTO deadline_probe (id) VALUES (${id})`)
              : sql`INSERT INTO deadline_probe (id) VALUES (${id})`,
        );
        const outcome = Promise.resolve(result).then(() => "committed", (e: { code?: string; message: string }) => e.code ?? e.message);
        // The time the guard gave the COMMIT runs out while it is held: the database ends the session.
        await waitFor("the guarded session ended by the database", async () => {
          const [row] = await direct<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name}`;
          return row!.n === 0;
        });
        proxy.thaw();
        expect(await outcome).not.toBe("committed");
        const [row] = await direct<{ n: number }[]>`SELECT count(*)::int AS n FROM deadline_probe WHERE id = ${id}`;
        expect(row!.n).toBe(0);
      } finally {
        proxy.thaw();
        await sql.end({ timeout: 1 });
        await proxy.stop();
      }
    }, 60_000);
  }
});

describe("the guard is invisible to a request that answers in time", () => {
  test("a guarded single-statement write returns the query's own result (rows and count), as unguarded", async () => {
    const table = `guard_probe_${crypto.randomUUID().slice(0, 8)}`;
    await s.deps.sql.unsafe(`CREATE TABLE ${table} (n int)`);
    const { result } = runWithDeadline(10_000, async () => {
      const inserted = await s.deps.sql`INSERT INTO ${s.deps.sql(table)} VALUES (1), (2), (3) RETURNING n`;
      const deleted = await s.deps.sql`DELETE FROM ${s.deps.sql(table)} WHERE n < 3`;
      return { inserted, deleted };
    });
    const { inserted, deleted } = await result;
    // interactions, sessions and codes are ended by "DELETE ... ; rows.count > 0": a guard that lost
    // `count` made every login flow on a real listener end in "Request expired".
    expect(inserted.count).toBe(3);
    expect(inserted.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(deleted.count).toBe(2);
  });
});
