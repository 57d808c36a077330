// Admin recovery on the server host (`authly admin recover`): a new temporary password for an
// account (must be changed at next sign-in), every session and refresh token of the account ended
// (the admin reset path, with back-channel logout), and its login throttle cleared. It runs with
// the database's credentials, not through the API, so it is the way back when no admin can sign in.
import type { Deps } from "../deps";
import type { Actor } from "../audit/service";
import { NotFoundError, ValidationError } from "../errors";
import { resetPassword } from "./admin-service";
import { unlockUser } from "./login-locks";
import { findUserByLogin } from "./store";

/** The audit actor of a recovery: not a user, the operator on the server host. */
export const RECOVERY_ACTOR = "system:recover";

export interface RecoveryResult {
  id: string;
  username: string;
  is_admin: boolean;
  is_active: boolean;
  password: string;
  requires_password_change: true;
  cleared_login_failures: number;
}

export async function recoverAccount(deps: Deps, opts: { username: string; allowNonAdmin: boolean; operator?: string }): Promise<RecoveryResult> {
  const user = await findUserByLogin(deps.sql, opts.username);
  // By username only: an email that matches would otherwise pick an account the operator did not name.
  if (!user || user.username.toLowerCase() !== opts.username.toLowerCase()) throw new NotFoundError(`No user with the username '${opts.username}'`);
  if (!user.is_admin && !opts.allowNonAdmin) throw new ValidationError(`'${user.username}' is not an admin; recovery is meant for admins (pass --allow-non-admin to reset it anyway)`);
  const actor: Actor = { userId: RECOVERY_ACTOR, username: opts.operator ?? null, ip: null };
  const reset = await resetPassword(deps, actor, user.id, { requires_password_change: true });
  const unlocked = await unlockUser(deps, actor, user.id);
  return {
    id: user.id,
    username: user.username,
    is_admin: user.is_admin,
    is_active: user.is_active,
    password: reset.password!,
    requires_password_change: true,
    cleared_login_failures: unlocked.cleared,
  };
}
