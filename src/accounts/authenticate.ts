// Password login shared by the login page and the first-party CLI password grant: throttling per
// account and per source (table login_failures), temporary lockout, audit, argon2 rehash and
// last_login_at. An unknown user costs one password verification like a wrong password.
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import type { UserRecord } from "./model";
import { hashPassword, passwordParams, verifyPassword } from "./password";
import { findUserByLogin } from "./store";
import { activeLockout, clearLoginFailures, markLoggedIn, recordLoginFailure } from "./login-store";

/** A source address may fail this many times more often than one account before it is locked. */
export const SOURCE_FAILURE_FACTOR = 4;

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
}

/** Returns the active user for valid credentials; throws AuthenticationError otherwise. */
export async function authenticateUser(deps: Deps, attempt: LoginAttempt): Promise<UserRecord> {
  const { config } = deps;
  const login = attempt.login.trim();
  const user = login ? await findUserByLogin(deps.sql, login) : undefined;
  const accountKey = `account:${user ? user.id : login.toLowerCase()}`;
  const sourceKey = `source:${attempt.ip}`;
  const locked = await activeLockout(deps.sql, [accountKey, sourceKey]);
  if (locked) {
    const retry = Math.max(1, Math.ceil((locked.getTime() - Date.now()) / 1000));
    await audit(deps, { action: "login.failure", actor: user?.id ?? null, targetType: "user", targetId: user?.id ?? null, outcome: "denied", ip: attempt.ip, details: { reason: "locked" } });
    throw new AuthenticationError("locked", "Too many failed login attempts; try again later", retry);
  }
  const params = passwordParams(config);
  const { ok, needsRehash } = await verifyPassword(attempt.password, user?.password_hash, params);
  if (!ok || !user || !user.is_active) {
    const reason = !user ? "unknown_user" : !ok ? "bad_password" : "inactive";
    const window = config.loginLockoutSeconds;
    const acct = await recordLoginFailure(deps.sql, accountKey, config.loginMaxFailures, window, config.loginLockoutSeconds);
    const src = await recordLoginFailure(deps.sql, sourceKey, config.loginMaxFailures * SOURCE_FAILURE_FACTOR, window, config.loginLockoutSeconds);
    await audit(deps, { action: "login.failure", actor: user?.id ?? null, targetType: "user", targetId: user?.id ?? null, outcome: "failure", ip: attempt.ip, details: { reason } });
    const justLocked = (acct.lockedUntil && acct.failures === config.loginMaxFailures) || (src.lockedUntil && src.failures === config.loginMaxFailures * SOURCE_FAILURE_FACTOR);
    if (justLocked) {
      await audit(deps, { action: "login.lockout", actor: null, targetType: acct.lockedUntil ? "user" : "source", targetId: acct.lockedUntil ? (user?.id ?? null) : attempt.ip, outcome: "denied", ip: attempt.ip, details: { until: (acct.lockedUntil ?? src.lockedUntil)!.toISOString() } });
    }
    throw new AuthenticationError("invalid_credentials", "Invalid username or password");
  }
  const rehash = needsRehash ? await hashPassword(attempt.password, params) : undefined;
  await markLoggedIn(deps.sql, user.id, rehash);
  await clearLoginFailures(deps.sql, accountKey);
  await audit(deps, { action: "login.success", actor: user.id, targetType: "user", targetId: user.id, ip: attempt.ip, details: rehash ? { rehashed: true } : {} });
  return { ...user, last_login_at: new Date(), password_hash: rehash ?? user.password_hash };
}
