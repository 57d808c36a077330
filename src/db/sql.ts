// postgres.js pool built from the mode's pool settings (modes.ts). Store functions take `sql` as
// their first argument so that they also run inside `sql.begin(tx => ...)`.
import { AsyncLocalStorage } from "node:async_hooks";
import postgres from "postgres";
import type { PoolSettings } from "../modes";

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>> | Sql;

export interface SqlOptions {
  url: string;
  pool: PoolSettings;
  /** Schema to put first on search_path (tests: one schema per test file). */
  schema?: string;
  applicationName?: string;
}

export function createSql(opts: SqlOptions): Sql {
  return guardWrites(postgres(opts.url, {
    max: opts.pool.max,
    idle_timeout: opts.pool.idleTimeout,
    connect_timeout: opts.pool.connectTimeout,
    max_lifetime: 60 * 30,
    // postgres.js's default reconnect back-off (3^n / 100 s, shared by the pool) reaches 20 s after a
    // few failed connects: requests then queued that long during an outage, and recovery after the
    // database returned took as long. Capped at 1 s so Authly answers 503 fast and recovers fast.
    backoff: reconnectBackoff,
    onnotice: () => {},
    prepare: true,
    connection: {
      application_name: opts.applicationName ?? "authly",
      ...(opts.schema ? { search_path: opts.schema } : {}),
    },
    types: {},
  }) as unknown as Sql);
}

/** Seconds before a reconnect attempt after `retries` failures: 50 ms doubling, at most 1 s, jittered. */
export function reconnectBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

/** Pool figures for /admin/status; postgres.js exposes no counters, so report the settings. */
export function describePool(pool: PoolSettings) {
  return { min: pool.min, max: pool.max, connect_timeout_seconds: pool.connectTimeout, idle_timeout_seconds: pool.idleTimeout };
}

/** Redacts the password of a database URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** One round trip: proves the database answers. */
export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}

// ---- The request deadline's write guard (docs/reliability.md, "Work that answered 503 never commits")
//
// A request that passed its deadline has answered 503 (http/deadline.ts); work it started must not
// commit afterwards, or a client retrying as Retry-After invites finds its refresh token "already
// used". Every write a request makes runs in a transaction whose COMMIT is guarded:
//  - node side: COMMIT is sent only while the deadline (less a margin) has not passed, checked
//    after the transaction's last statement came back; otherwise the transaction rolls back;
//  - server side: right before COMMIT the transaction sets idle_in_transaction_session_timeout to
//    the time left, so a COMMIT held up in the network (a frozen link delivers it late) reaches a
//    session the server has already ended, and nothing commits. The server's own timer counts
//    from its receipt of that statement, so clocks of node and database never meet.
// Single-statement writes (INSERT/UPDATE/DELETE, or WITH ... of one) issued on the pool inside a
// request become such a transaction too, a pipelined one (pipelinedTransaction below): BEGIN, the
// server side of the guard and the statement in one write, the database's commit check and COMMIT
// in a second — two round trips instead of four. Work outside a request (jobs, CLI, bootstrap) is
// unguarded.

interface DeadlineScope {
  /** performance.now() at which the request answers 503. */
  at: number;
  /** The guard refuses to commit this long before `at`, so a commit and the 503 never cross. */
  marginMs: number;
  /** "deadline": the request answered 503; "answered": it answered in time (no guard after that). */
  state: "running" | "deadline" | "answered";
}

const scopes = new AsyncLocalStorage<DeadlineScope>();

/** Runs a request's handler so that its writes commit only before `ms` from now. */
export function runWithDeadline<T>(ms: number, run: () => T): { result: T; scope: DeadlineScope } {
  const scope: DeadlineScope = { at: performance.now() + ms, marginMs: Math.min(1000, ms / 10), state: "running" };
  return { result: scopes.run(scope, run), scope };
}

/**
 * Runs `run` outside the request's deadline: its writes are not guarded. Only for writes that may
 * rightly land after a 503 (a rate-limit counter: the attempt was made). A guarded single
 * statement is a transaction of four round trips (BEGIN, it, the guard, COMMIT) instead of one.
 */
export function outsideRequestDeadline<T>(run: () => T): T {
  return scopes.exit(run);
}

/** The error a guarded write fails with once its request's deadline passed (answered as 503). */
export class DeadlinePassedError extends Error {
  readonly code = "AUTHLY_DEADLINE";
  constructor() {
    super("The request deadline passed; its work was rolled back");
    this.name = "DeadlinePassedError";
  }
}

function activeScope(): DeadlineScope | undefined {
  const scope = scopes.getStore();
  return scope && scope.state !== "answered" ? scope : undefined;
}

function timeLeft(scope: DeadlineScope): number {
  // Work a request leaves running after answering in time (audit, logout delivery) is not bound.
  if (scope.state === "answered") return Number.POSITIVE_INFINITY;
  return scope.state === "deadline" ? 0 : scope.at - scope.marginMs - performance.now();
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i;
const WITH_WRITE = /^\s*WITH\b[\s\S]*\b(INSERT\s+INTO|UPDATE\s+\w+|DELETE\s+FROM)\b/i;
const writes = new WeakMap<TemplateStringsArray, boolean>();

function isWrite(strings: TemplateStringsArray): boolean {
  let w = writes.get(strings);
  if (w === undefined) {
    const text = strings.join("$");
    w = WRITE.test(text) || WITH_WRITE.test(text);
    writes.set(strings, w);
  }
  return w;
}

type Begin = (...args: unknown[]) => Promise<unknown>;
type TxFn = (tx: postgres.TransactionSql<Record<string, never>>) => unknown;

async function commitGuard(tx: postgres.TransactionSql<Record<string, never>>, scope: DeadlineScope): Promise<void> {
  const left = timeLeft(scope);
  if (left <= 0) throw new DeadlinePassedError();
  if (left === Number.POSITIVE_INFINITY) return;
  await tx`SELECT set_config('idle_in_transaction_session_timeout', ${String(Math.max(1, Math.floor(left)))}, true)`;
  if (timeLeft(scope) <= 0) throw new DeadlinePassedError();
}

function guardedBegin(begin: Begin, args: unknown[], scope = activeScope()): Promise<unknown> {
  if (!scope) return begin(...args);
  if (timeLeft(scope) <= 0) return Promise.reject(new DeadlinePassedError());
  const fn = args[args.length - 1] as TxFn;
  return begin(...args.slice(0, -1), async (tx: postgres.TransactionSql<Record<string, never>>) => {
    if (timeLeft(scope) <= 0) throw new DeadlinePassedError();
    // As postgres.js does: an array of queries returned synchronously is awaited as a whole; a
    // query's own result (an array subclass carrying `count`) is returned untouched.
    const out = fn(tx);
    const result = Array.isArray(out) ? await Promise.all(out) : await out;
    await commitGuard(tx, scope);
    return result;
  });
}

/** The error a pipelined transaction's COMMIT check raises in the database (migration 0008). */
const COMMIT_DEADLINE_PASSED = "57014";

/**
 * A write transaction in two round trips instead of four (refresh rotation, code exchange): BEGIN,
 * the server side of the commit guard and the statements `run` issues before its first await go
 * out in one write; `run` then works on their results and must write nothing more; COMMIT goes out
 * in one write with a check, made by the database in its own clock, that the deadline has not passed.
 *
 * The check: the time this node has left when it sends COMMIT (less the guard's margin), counted
 * from the moment the database began the transaction (transaction_timestamp(), which came before
 * the results this node has seen): the database's bound is never later than the node's, and the
 * two clocks never meet. A COMMIT that arrives later is refused (authly_commit_deadline raises) and
 * the transaction rolls back. As in guardedBegin, the session's idle_in_transaction_session_timeout
 * is set to the time left too, so a COMMIT held up in the network finds its session ended (and the
 * rotated token's row lock released). Outside a request's deadline it is a plain transaction.
 */
export async function pipelinedTransaction<T>(sql: Sql, run: (tx: Tx) => Promise<T>, scope = activeScope()): Promise<T> {
  if (scope && timeLeft(scope) <= 0) throw new DeadlinePassedError();
  const conn = await (sql as unknown as { reserve(): Promise<Sql & { release(): void }> }).reserve();
  let begun = false;
  try {
    const left = scope ? timeLeft(scope) : Number.POSITIVE_INFINITY;
    if (left <= 0) throw new DeadlinePassedError();
    begun = true;
    // BEGIN and the server side of the guard in one simple-protocol message (one statement less to
    // bind, answer and flush): SET takes no parameters, so the timeout is a literal, an integer
    // computed here (sqlInteger), never input. The commit check below stays a prepared statement:
    // sent as text with COMMIT it cost PostgreSQL more (parsed and planned each time) than the
    // message it saved.
    const opened = conn.unsafe(Number.isFinite(left) ? `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${sqlInteger(Math.max(1, Math.floor(left)))}` : "BEGIN").execute();
    // Awaited after run: a failed BEGIN must not be an unhandled rejection meanwhile.
    opened.catch(() => {});
    const result = await run(conn);
    await opened;
    const leftNow = scope ? timeLeft(scope) : Number.POSITIVE_INFINITY;
    if (leftNow <= 0) throw new DeadlinePassedError();
    if (!Number.isFinite(leftNow)) {
      await conn`COMMIT`;
      return result;
    }
    const [checked, committed] = await Promise.allSettled([
      conn`SELECT authly_commit_deadline(transaction_timestamp() + make_interval(secs => ${Math.floor(leftNow) / 1000}))`.execute(),
      conn`COMMIT`.execute(),
    ]);
    // After a failed check the database answers COMMIT with a rollback: the transaction is over.
    begun = false;
    if (checked.status === "rejected") {
      const code = (checked.reason as { code?: string }).code;
      throw code === COMMIT_DEADLINE_PASSED ? new DeadlinePassedError() : checked.reason;
    }
    if (committed.status === "rejected") throw committed.reason;
    return result;
  } catch (err) {
    if (begun) await conn`ROLLBACK`.catch(() => {});
    throw err;
  } finally {
    conn.release();
  }
}

// ---- Statements that check the deadline themselves (refresh rotation, code exchange)
//
// A write that is one statement can commit on its own, in one round trip instead of two, when the
// statement itself makes the commit check: authly_commit_deadline(bound) on its result row, after
// its UPDATE has taken (or waited for) its row lock; if it raises, nothing commits. The bound must
// be a time in the database's clock that is never later than this node's deadline less the margin.
// The node gets it from an earlier reading of the database's clock: a statement's clock_timestamp()
// was read before its result arrived here, so (reading - arrival on this node's monotonic clock) is
// at most the real offset between the clocks, and the deadline plus that estimate is never later
// in the database's clock than the deadline itself. The statements that use the bound return the
// reading (noteDatabaseClock), so under load every rotation refreshes it; a reading older than
// CLOCK_READING_MAX_AGE_MS is not used (the clocks may drift, the database's may be stepped) and
// the write takes the two-round-trip pipelinedTransaction instead, which also returns a reading.
// A statement held up in the network reaches the database past its bound and is refused.
// Residual: what the statement does after its check (its INSERT's foreign-key check, the commit's
// WAL flush) is not bounded, as the COMMIT of a pipelined transaction after its check is not.

interface ClockReading {
  /** database clock (epoch ms) minus this node's performance.now() at the reading's arrival. */
  offsetMs: number;
  /** performance.now() at arrival. */
  at: number;
}

const clockReadings = new WeakMap<object, ClockReading>();
const CLOCK_READING_MAX_AGE_MS = 1000;

/** Records a reading of the database's clock (a statement's clock_timestamp()) whose result has just arrived. */
export function noteDatabaseClock(sql: Sql, dbNow: Date): void {
  const at = performance.now();
  const offsetMs = dbNow.getTime() - at;
  const last = clockReadings.get(sql);
  // The largest estimate is the tightest one; a stale one gives way to any fresh one.
  if (!last || offsetMs >= last.offsetMs || at - last.at > CLOCK_READING_MAX_AGE_MS) clockReadings.set(sql, { offsetMs, at });
}

/**
 * The commit bound of a self-checking statement (see above), in the database's clock: null outside
 * a request's deadline (no bound: authly_commit_deadline('infinity') always passes), undefined when
 * this pool has no fresh reading of the database's clock (the caller uses pipelinedTransaction).
 * Throws DeadlinePassedError when the deadline less the margin has passed.
 */
export function statementCommitBound(sql: Sql, scope = activeScope()): Date | null | undefined {
  if (!scope) return null;
  const left = timeLeft(scope);
  if (left <= 0) throw new DeadlinePassedError();
  if (left === Number.POSITIVE_INFINITY) return null;
  const reading = clockReadings.get(sql);
  const now = performance.now();
  if (!reading || now - reading.at > CLOCK_READING_MAX_AGE_MS) return undefined;
  return new Date(Math.floor(now + left + reading.offsetMs));
}

/**
 * Runs a self-checking statement (it commits on its own): outside the request's write guard, which
 * would wrap it in a transaction, and with its refused check answered as DeadlinePassedError.
 */
export async function selfCheckingStatement<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await scopes.exit(run);
  } catch (err) {
    if ((err as { code?: string }).code === COMMIT_DEADLINE_PASSED) throw new DeadlinePassedError();
    throw err;
  }
}

/** A non-negative integer for a statement's text (where the statement takes no parameter). */
function sqlInteger(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${n}`);
  return String(n);
}

/** Wraps a pool so that a request's writes go through the commit guard (see above). */
function guardWrites(sql: Sql): Sql {
  const begin = sql.begin.bind(sql) as unknown as Begin;
  const guarded = (...args: unknown[]) => guardedBegin(begin, args);
  return new Proxy(sql, {
    get(target, prop, receiver) {
      return prop === "begin" ? guarded : Reflect.get(target, prop, receiver);
    },
    apply(target, thisArg, args: unknown[]) {
      const strings = args[0] as TemplateStringsArray;
      const scope = activeScope();
      if (!scope || !Array.isArray(strings) || !("raw" in strings) || !isWrite(strings)) return Reflect.apply(target, thisArg, args);
      // Lazy like a postgres.js query: nothing is sent until the caller awaits it (perhaps outside
      // the request's async context, so the scope is the one the statement was written in).
      let run: Promise<unknown> | undefined;
      const start = () => (run ??= pipelinedTransaction(target, (tx) => (tx as unknown as (...a: unknown[]) => Promise<unknown>)(...args), scope));
      return {
        then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => start().then(ok, fail),
        catch: (fail: (e: unknown) => unknown) => start().catch(fail),
        finally: (f: () => void) => start().finally(f),
      };
    },
  });
}

/** Connections the database can still give to new clients, or undefined when it will not say. */
export async function freeConnections(sql: Sql): Promise<{ max: number; reserved: number; inUse: number; free: number } | undefined> {
  try {
    const [row] = await sql<{ max: number; reserved: number; in_use: number }[]>`
      SELECT current_setting('max_connections')::int AS max,
             current_setting('superuser_reserved_connections')::int
               + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
             (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use`;
    if (!row) return undefined;
    return { max: row.max, reserved: row.reserved, inUse: row.in_use, free: row.max - row.reserved - row.in_use };
  } catch {
    return undefined;
  }
}

/**
 * A warning when `workers` processes with pools of `poolMax` could need more connections than the
 * database has free (the pool asking already holds some of them: `held`), else undefined.
 */
export async function connectionBudgetWarning(sql: Sql, workers: number, poolMax: number, held = 1): Promise<string | undefined> {
  const c = await freeConnections(sql);
  if (!c) return undefined;
  const needed = workers * poolMax;
  const available = c.free + held;
  if (needed <= available) return undefined;
  return `${workers} worker(s) × pool ${poolMax} = ${needed} database connections, but PostgreSQL has ${available} free (max_connections ${c.max}, ${c.reserved} reserved, ${c.inUse} in use): requests will wait for connections under load; raise max_connections or lower the workers or the pool`;
}
