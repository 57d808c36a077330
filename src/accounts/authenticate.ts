// Password login shared by the login page and the first-party CLI password grant: throttling that
// is not a denial of service (NIST SP 800-63B §5.2.2), audit, argon2 rehash and last_login_at. An
// unknown user costs one password verification like a wrong password, and is throttled the same.
//
// Three counters per failure (table login_failures, shared by every worker and node):
// - (account, source): AUTHLY_LOGIN_MAX_FAILURES failures within AUTHLY_LOGIN_LOCKOUT_SECONDS lock
//   that pair for AUTHLY_LOGIN_LOCKOUT_SECONDS: the guessing source, not the account, is shut out;
// - source (every account): SOURCE_FAILURE_FACTOR x as many lock the source (stops spraying);
// - account (every source): never a lock. From ACCOUNT_FAILURE_FACTOR x MAX failures on, a source
//   the account has not signed in from before waits 2^(n - threshold) seconds after the last
//   failure, at most SLOWDOWN_CAP_SECONDS; the sources the owner signed in from wait for nothing.
// From loopback, an active admin account is never locked: its (account, loopback) pair slows down
// like the account counter instead, and the source lock and account slow-down do not apply, so an
// operator on the host can always sign in.
// A source is an IPv4 address or an IPv6 /64 (lib/source-key.ts).
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { pipelinedTransaction, type Tx } from "../db/sql";
import { sourceKey } from "../lib/source-key";
import type { UserRecord } from "./model";
import { hashPassword, passwordParams, verifyPassword } from "./password";
import { findUserByLogin } from "./store";
import { clearLoginFailures, markLoggedIn, NO_USER_ID, readThrottle, recordLoginFailure, rememberSource, type FailurePolicy } from "./login-store";

/** A source address may fail this many times more often than one (account, source) pair before it is locked. */
export const SOURCE_FAILURE_FACTOR = 4;
/** Failures of one account over all sources (× AUTHLY_LOGIN_MAX_FAILURES) before the slow-down starts. */
export const ACCOUNT_FAILURE_FACTOR = 2;
/** The longest wait of the slow-down: at most one guess per this many seconds for an account. */
export const SLOWDOWN_CAP_SECONDS = 60;
/** A source the account signed in from skips the account slow-down for this many days. */
export const KNOWN_SOURCE_DAYS = 90;
/** A known source's term is renewed by a sign-in at most this often (login-store.ts rememberSource):
 *  it is forgotten at most this much sooner than KNOWN_SOURCE_DAYS after its last sign-in. */
export const KNOWN_SOURCE_RENEW_SECONDS = 3600;

export class AuthenticationError extends Error {
  constructor(
    readonly code: "invalid_credentials" | "locked",
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "AuthenticationError";
  }
}

export interface LoginAttempt {
  /** Username or email. */
  login: string;
  password: string;
  ip: string;
  /** The client is really on this host (isLoopbackClient: loopback and not relayed by an untrusted
   *  proxy); only then is an active admin never locked out. Absent: not loopback. */
  loopback?: boolean;
}

/** The counter keys of one attempt; `account` is a user id, or "name:<login>" for an unknown name. */
export function throttleKeys(account: string, source: string) {
  return { pair: `pair:${account}@${source}`, source: `source:${source}`, account: `account:${account}` };
}

/**
 * Returns the active user for valid credentials; throws AuthenticationError otherwise. `also` adds
 * statements to the transaction that records the success (issued at once, before its first await:
 * db/sql.ts pipelinedTransaction), e.g. the browser session the login starts: they commit with it,
 * in the same two round trips, or not at all. What it returns comes back as `also`.
 */
export async function authenticateUser<T = undefined>(deps: Deps, attempt: LoginAttempt, also?: (tx: Tx, user: UserRecord) => Promise<T>): Promise<UserRecord & { also?: T }> {
  const { config } = deps;
  const login = attempt.login.trim();
  const user = login ? await findUserByLogin(deps.sql, login) : undefined;
  const account = user ? user.id : `name:${login.toLowerCase()}`;
  const source = sourceKey(attempt.ip);
  const keys = throttleKeys(account, source);
  const loopbackAdmin = attempt.loopback === true && Boolean(user?.is_active && user.is_admin);
  const state = await readThrottle(deps.sql, keys, user?.id ?? NO_USER_ID, source);
  const held = loopbackAdmin
    ? state.pairUntil
    : latest(state.pairUntil, state.sourceUntil, state.knownSource ? null : state.accountUntil);
  if (held) {
    const retry = Math.max(1, Math.ceil((held.getTime() - Date.now()) / 1000));
    const by = held === state.pairUntil ? "pair" : held === state.sourceUntil ? "source" : "account";
    await audit(deps, { action: "login.failure", actor: user?.id ?? null, targetType: "user", targetId: user?.id ?? null, outcome: "denied", ip: attempt.ip, details: { reason: "locked", throttle: by } });
    throw new AuthenticationError("locked", "Too many failed login attempts; try again later", retry);
  }
  const params = passwordParams(config);
  const { ok, needsRehash } = await verifyPassword(attempt.password, user?.password_hash, params);
  if (!ok || !user || !user.is_active) {
    const reason = !user ? "unknown_user" : !ok ? "bad_password" : "inactive";
    await audit(deps, { action: "login.failure", actor: user?.id ?? null, targetType: "user", targetId: user?.id ?? null, outcome: "failure", ip: attempt.ip, details: { reason } });
    await recordFailure(deps, keys, account, user?.id, attempt.ip, loopbackAdmin);
    throw new AuthenticationError("invalid_credentials", "Invalid username or password");
  }
  const rehash = needsRehash ? await hashPassword(attempt.password, params) : undefined;
  // One transaction, its four statements (the audit row with them) sent with BEGIN in one write,
  // COMMIT in a second (db/sql.ts pipelinedTransaction): one COMMIT instead of four, two round trips.
  // The owner's source is clear again and skips the account slow-down from now on. The account
  // counter stays: an attacker elsewhere gets no fresh guesses from the owner's success.
  const [, , , , extra] = await pipelinedTransaction(deps.sql, (tx) =>
    Promise.all([
      markLoggedIn(tx, user.id, rehash),
      clearLoginFailures(tx, keys.pair),
      rememberSource(tx, user.id, source, KNOWN_SOURCE_DAYS, KNOWN_SOURCE_RENEW_SECONDS),
      audit(deps, { action: "login.success", actor: user.id, targetType: "user", targetId: user.id, ip: attempt.ip, details: rehash ? { rehashed: true } : {} }, tx),
      also?.(tx, user),
    ]),
  );
  return { ...user, last_login_at: new Date(), password_hash: rehash ?? user.password_hash, also: extra };
}

export interface FactorAttempt {
  userId: string;
  isAdmin: boolean;
  ip: string;
  loopback?: boolean;
}

/**
 * Runs the check of a second factor (TOTP, recovery code, security key) under the same counters as
 * passwords: a failure counts for the (account, source) pair, the source and the account. Unlike a
 * password, the account-wide slow-down holds for every source here, the ones the owner signed in
 * from too: whoever reaches this step already has the password. Throws AuthenticationError
 * ("locked") while held; returns the check's answer; audits `authn.factor.failure` (`method`).
 */
export async function throttledFactorCheck(deps: Deps, attempt: FactorAttempt, method: string, check: () => Promise<boolean>): Promise<boolean> {
  const source = sourceKey(attempt.ip);
  const keys = throttleKeys(attempt.userId, source);
  const loopbackAdmin = attempt.loopback === true && attempt.isAdmin;
  const state = await readThrottle(deps.sql, keys, attempt.userId, source);
  const held = loopbackAdmin ? state.pairUntil : latest(state.pairUntil, state.sourceUntil, state.accountUntil);
  if (held) {
    const retry = Math.max(1, Math.ceil((held.getTime() - Date.now()) / 1000));
    await audit(deps, { action: "authn.factor.failure", actor: attempt.userId, targetType: "user", targetId: attempt.userId, outcome: "denied", ip: attempt.ip, details: { method, reason: "locked" } });
    throw new AuthenticationError("locked", "Too many failed attempts; try again later", retry);
  }
  if (await check()) {
    await clearLoginFailures(deps.sql, keys.pair);
    return true;
  }
  await audit(deps, { action: "authn.factor.failure", actor: attempt.userId, targetType: "user", targetId: attempt.userId, outcome: "failure", ip: attempt.ip, details: { method } });
  await recordFailure(deps, keys, attempt.userId, attempt.userId, attempt.ip, loopbackAdmin);
  return false;
}

async function recordFailure(deps: Deps, keys: ReturnType<typeof throttleKeys>, account: string, userId: string | undefined, ip: string, loopbackAdmin: boolean): Promise<void> {
  const max = deps.config.loginMaxFailures;
  const windowSeconds = deps.config.loginLockoutSeconds;
  const lock = (threshold: number): FailurePolicy => ({ kind: "lock", threshold, windowSeconds, lockSeconds: windowSeconds });
  const slow = (threshold: number): FailurePolicy => ({ kind: "slow", threshold, windowSeconds, lockSeconds: SLOWDOWN_CAP_SECONDS });
  const counters = [
    { key: keys.pair, account, policy: loopbackAdmin ? slow(max) : lock(max), target: "user" },
    { key: keys.source, account: null, policy: lock(max * SOURCE_FAILURE_FACTOR), target: "source" },
    { key: keys.account, account, policy: slow(max * ACCOUNT_FAILURE_FACTOR), target: "user" },
  ] as const;
  for (const c of counters) {
    const r = await recordLoginFailure(deps.sql, c.key, c.account, c.policy);
    // Audited once, when the counter reaches its threshold.
    if (r.lockedUntil && r.failures === c.policy.threshold) {
      const scope = c.key.slice(0, c.key.indexOf(":"));
      await audit(deps, {
        action: c.policy.kind === "lock" ? "login.lockout" : "login.throttle",
        actor: null,
        targetType: c.target,
        targetId: c.target === "source" ? sourceKey(ip) : (userId ?? null),
        outcome: "denied",
        ip,
        details: { scope, until: r.lockedUntil.toISOString(), failures: r.failures },
      });
    }
  }
}

function latest(...dates: (Date | null)[]): Date | null {
  let out: Date | null = null;
  for (const d of dates) if (d && (!out || d > out)) out = d;
  return out;
}
