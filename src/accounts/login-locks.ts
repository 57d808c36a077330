// What an admin sees and clears of login throttling (src/accounts/authenticate.ts): the lock state
// shown with a user (`login_lock`) and `POST /admin/users/:id/unlock` (`authly admin user unlock`).
import type { Deps } from "../deps";
import { auditAdmin, type Actor } from "../audit/service";
import { NotFoundError } from "../errors";
import { clearAccountFailures, findAccountLocks } from "./login-store";
import { findUserById } from "./store";
import type { LoginLock, User } from "./model";

/** The login throttles in force per user id (users without one are absent). */
export async function loginLocks(deps: Deps, userIds: string[]): Promise<Map<string, LoginLock>> {
  const rows = await findAccountLocks(deps.sql, userIds, deps.config.loginLockoutSeconds);
  return new Map(rows.map((r) => [r.account, { until: r.until.toISOString(), failures: r.failures, locked_sources: r.lockedSources, slowed_down: r.slowedDown }]));
}

/** Users with their `login_lock` (null when nothing holds their sign-ins back). */
export async function withLoginLocks<T extends User>(deps: Deps, users: T[]): Promise<(T & { login_lock: LoginLock | null })[]> {
  const locks = await loginLocks(deps, users.map((u) => u.id));
  return users.map((u) => ({ ...u, login_lock: locks.get(u.id) ?? null }));
}

/** Clears every throttle record of the account, from every source; audited (user.unlock). A source
 *  locked for spraying many accounts stays locked: it is not this account's record. */
export async function unlockUser(deps: Deps, actor: Actor, id: string): Promise<{ id: string; username: string; cleared: number; login_lock: null }> {
  const user = await findUserById(deps.sql, id);
  if (!user) throw new NotFoundError(`User '${id}' does not exist`);
  return deps.sql.begin(async (tx) => {
    const before = (await findAccountLocks(tx, [id], deps.config.loginLockoutSeconds))[0];
    const cleared = await clearAccountFailures(tx, id);
    await auditAdmin(deps, tx, actor, "user.unlock", { type: "user", id }, { username: user.username, cleared_records: cleared, was_locked_until: before?.until.toISOString() ?? null });
    return { id, username: user.username, cleared, login_lock: null };
  });
}
