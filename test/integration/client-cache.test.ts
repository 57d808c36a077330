// The per-process client cache (clients/cache.ts) never lets a node keep serving a changed client:
// a change made on one node reaches the others through PostgreSQL NOTIFY (migration 0015's
// trigger); when a notification is lost the entry still ends at AUTHLY_CLIENT_CACHE_SECONDS; a
// dropped LISTEN connection stops the cache until it listens again (and flushes it).
// Node A runs in this process (startAdminApi); B and C are real `authly serve` processes on the
// same schema. Those need real PostgreSQL; on PGlite (which delivers no notifications) the file
// checks instead that the cache stays off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { baseDatabaseUrl } from "../support/db";
import { freePort, startTestServer } from "../support/app";
import { startAdminApi, type AdminApi } from "../support/admin";
import { basic, createClient } from "../support/fixtures";
import { serveProcessEnv, startServerProcess, type ServerProcess } from "../support/process";

const { engine } = await baseDatabaseUrl();
const onPostgres = engine === "postgres";

/** POST client_credentials to a node; the HTTP status. */
async function issue(url: string, id: string, secret: string): Promise<number> {
  const r = await fetch(`${url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) },
    body: "grant_type=client_credentials&scope=api:read",
  });
  await r.arrayBuffer();
  return r.status;
}

/** Asks until `want` comes back (at most `limitMs`); the status last seen and how long it took. */
async function until(ask: () => Promise<number>, want: number, limitMs: number): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  let status = await ask();
  while (status !== want && performance.now() - start < limitMs) {
    await Bun.sleep(20);
    status = await ask();
  }
  return { status, ms: Math.round(performance.now() - start) };
}

// Node A (started at the top: its server stops after the file).
const a: AdminApi | undefined = onPostgres ? await startAdminApi({ AUTHLY_CLIENT_CACHE_SECONDS: "3600" }) : undefined;
const pgliteServer = onPostgres ? undefined : await startTestServer({ env: { AUTHLY_CLIENT_CACHE_SECONDS: "3600" } });

describe.if(onPostgres)("client changes reach every node's cache", () => {
  const A = a as AdminApi;
  let b: ServerProcess;
  let c: ServerProcess;
  const url = () => A.deps.config.databaseUrl!;
  const sql = () => A.deps.sql;
  const cc = { grant_types: ["client_credentials"], scopes: ["api:read"] };

  beforeAll(async () => {
    // B (and A): a bound so long that only a notification (or a dropped LISTEN) can explain a change seen.
    const [pb, pc] = [await freePort(), await freePort()];
    const env = (seconds: string) => serveProcessEnv({ url: url() }, { AUTHLY_CLIENT_CACHE_SECONDS: seconds, AUTHLY_LOG_LEVEL: "warn" });
    [b, c] = await Promise.all([
      startServerProcess(["serve", "--host", "127.0.0.1", "--port", String(pb)], { env: env("3600"), port: pb }),
      // C: the fallback bound of 2 s.
      startServerProcess(["serve", "--host", "127.0.0.1", "--port", String(pc)], { env: env("2"), port: pc }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([b?.stop(), c?.stop()]);
  });

  /** Loses the notification of `change`: the trigger is off while it commits. */
  async function withoutNotification(change: () => Promise<unknown>): Promise<void> {
    await sql()`ALTER TABLE clients DISABLE TRIGGER clients_changed`;
    try {
      await change();
    } finally {
      await sql()`ALTER TABLE clients ENABLE TRIGGER clients_changed`;
    }
  }

  test("a client deactivated through node A's admin API gets no token on node B, which had it cached", async () => {
    const client = await createClient(A.deps, { client_id: "cache-deactivated", ...cc });
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    const r = await A.call("PATCH", `/admin/clients/${client.clientId}`, { body: { is_active: false } });
    expect(r.status).toBe(200);
    // Node A made the change: refused at once there.
    expect(await issue(A.url, client.clientId, client.secret!)).toBe(401);
    const seen = await until(() => issue(b.url, client.clientId, client.secret!), 401, 10_000);
    expect(seen.status).toBe(401);
    console.log(`client deactivated on A: refused on B after ${seen.ms} ms (NOTIFY; cache bound 3600 s)`);
  });

  test("an authorization request on node B, which had the client cached, is refused once node A deactivated the client", async () => {
    const client = await createClient(A.deps, { client_id: "cache-authorize", redirect_uris: ["https://rp.example/cb"] });
    const authorize = async () => {
      const q = new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: "https://rp.example/cb", scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "s" });
      const r = await fetch(`${b.url}/oauth/authorize?${q}`, { redirect: "manual" });
      await r.arrayBuffer();
      return r.status;
    };
    const before = await authorize();
    expect(before === 200 || (before >= 300 && before < 400)).toBe(true);
    expect(await authorize()).toBe(before);
    expect((await A.call("PATCH", `/admin/clients/${client.clientId}`, { body: { is_active: false } })).status).toBe(200);
    const seen = await until(authorize, 400, 10_000);
    expect(seen.status).toBe(400);
  });

  test("after a secret is regenerated on node A, node B refuses the old secret and accepts the new one", async () => {
    const client = await createClient(A.deps, { client_id: "cache-rotated", ...cc });
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    const r = await A.call("POST", `/admin/clients/${client.clientId}/regenerate-secret`);
    expect(r.status).toBe(200);
    const fresh = (r.body as { client_secret: string }).client_secret;
    expect((await until(() => issue(b.url, client.clientId, client.secret!), 401, 10_000)).status).toBe(401);
    expect(await issue(b.url, client.clientId, fresh)).toBe(200);
    expect(await issue(A.url, client.clientId, client.secret!)).toBe(401);
  });

  test("a change whose notification is lost ends at the fallback bound (node C, 2 s) while node B (3600 s) still serves it", async () => {
    const client = await createClient(A.deps, { client_id: "cache-lost-notify", ...cc });
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    expect(await issue(c.url, client.clientId, client.secret!)).toBe(200);
    await withoutNotification(() => sql()`UPDATE clients SET is_active = false WHERE client_id = ${client.clientId}`);
    const seen = await until(() => issue(c.url, client.clientId, client.secret!), 401, 15_000);
    expect(seen.status).toBe(401);
    console.log(`notification lost: refused on C (AUTHLY_CLIENT_CACHE_SECONDS=2) after ${seen.ms} ms`);
    // The notification really was lost: B, with its long bound, still has the old record.
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    // Any later change to the client is announced again and ends B's copy too.
    await sql()`UPDATE clients SET client_name = 'renamed' WHERE client_id = ${client.clientId}`;
    expect((await until(() => issue(b.url, client.clientId, client.secret!), 401, 10_000)).status).toBe(401);
  });

  test("when node B's LISTEN connection drops, B stops serving from its cache and flushes it on listening again", async () => {
    const client = await createClient(A.deps, { client_id: "cache-dropped-listen", ...cc });
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    await withoutNotification(() => sql()`UPDATE clients SET is_active = false WHERE client_id = ${client.clientId}`);
    expect(await issue(b.url, client.clientId, client.secret!)).toBe(200);
    // Ends every Authly LISTEN connection on this database (each of them only flushes its cache).
    const ended = await sql()<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE application_name = 'authly listener' AND query ILIKE 'LISTEN authly_clients'`;
    expect(ended.length).toBeGreaterThanOrEqual(1);
    await sql()`SELECT pg_terminate_backend(pid) FROM unnest(${ended.map((r) => r.pid)}::int[]) AS pid`;
    expect((await until(() => issue(b.url, client.clientId, client.secret!), 401, 10_000)).status).toBe(401);
    // B listens again: a change made afterwards is heard (cache bound 3600 s).
    const other = await createClient(A.deps, { client_id: "cache-after-relisten", ...cc });
    expect((await until(() => issue(b.url, other.clientId, other.secret!), 200, 10_000)).status).toBe(200);
    await A.call("PATCH", `/admin/clients/${other.clientId}`, { body: { is_active: false } });
    expect((await until(() => issue(b.url, other.clientId, other.secret!), 401, 10_000)).status).toBe(401);
  });
});

describe.if(!onPostgres)("on PGlite (no notifications delivered) the cache stays off", () => {
  test("a client changed behind the server's back is refused on the next request", async () => {
    const s = pgliteServer!;
    const client = await createClient(s.deps, { client_id: "pglite-client", grant_types: ["client_credentials"], scopes: ["api:read"] });
    expect(await issue(s.url, client.clientId, client.secret!)).toBe(200);
    expect(await issue(s.url, client.clientId, client.secret!)).toBe(200);
    await s.db.sql`UPDATE clients SET is_active = false WHERE client_id = ${client.clientId}`;
    expect(await issue(s.url, client.clientId, client.secret!)).toBe(401);
  });
});
