// The one interface the interaction (and the account page, and the password grant) asks after the
// password: what must the user still prove at this client for this request (`nextFactor`), and
// the checks of each second factor under the login throttle. Factor management for users and admins.
import type { Deps } from "../deps";
import { audit, auditAdmin, type Actor } from "../audit/service";
import { throttledFactorCheck, type FactorAttempt } from "../accounts/authenticate";
import { NotFoundError, ValidationError } from "../errors";
import { findUserById } from "../accounts/store";
import type { Enrolment, Method, MfaPolicy } from "./model";
import { effectivePolicy, requirement, type AcrRequest, type Requirement } from "./requirement";
import { useRecoveryCode } from "./recovery-codes";
import { verifyTotp } from "./totp";
import * as store from "./store";

export async function enrolmentOf(deps: Deps, userId: string, sql = deps.sql): Promise<Enrolment> {
  return enrolmentFrom(await store.countFactors(sql, userId));
}

/** The enrolment of a user whose factors were counted (authn/store.ts countFactors, factorCountColumns). */
export function enrolmentFrom(c: store.FactorCounts): Enrolment {
  return { totp: c.totp, webauthn: c.webauthn, recoveryCodes: c.recovery };
}

export interface FactorQuestion {
  user: { id: string; is_admin: boolean };
  /** The client's own policy (clients.mfa); null or absent: the server's. */
  clientPolicy?: MfaPolicy | null;
  /** What the session (or the sign-in so far) proved. */
  amr: readonly string[];
  request?: AcrRequest;
}

/** What the user must still do, as the policy and the request say (authn/requirement.ts).
 *  `known`: the user's enrolment when the caller has just read it (else it is read here). */
export async function nextFactor(deps: Deps, q: FactorQuestion, known?: Enrolment): Promise<Requirement & { enrolment: Enrolment }> {
  const enrolment = known ?? (await enrolmentOf(deps, q.user.id));
  const policy = effectivePolicy(q.clientPolicy, deps.config.mfaPolicy, q.user.is_admin, deps.config.adminRequireMfa);
  return { ...requirement({ policy, enrolment, amr: q.amr, request: q.request }), enrolment };
}

export type CodeFactor = "totp" | "recovery";

/**
 * Checks a one-time code (TOTP, or a recovery code) under the login throttle; the method on
 * success, undefined on a wrong code. Throws AuthenticationError("locked") while throttled.
 */
export async function checkCode(deps: Deps, attempt: FactorAttempt, kind: CodeFactor, code: string): Promise<Method | undefined> {
  const ok = await throttledFactorCheck(deps, attempt, kind, () => (kind === "totp" ? verifyTotp(deps, attempt.userId, code) : useRecoveryCode(deps, attempt.userId, code)));
  if (!ok) return undefined;
  const left = kind === "recovery" ? (await store.countFactors(deps.sql, attempt.userId)).recovery : undefined;
  await audit(deps, { action: kind === "totp" ? "authn.totp.used" : "authn.recovery_code.used", actor: attempt.userId, targetType: "user", targetId: attempt.userId, ip: attempt.ip, details: left === undefined ? {} : { remaining: left } });
  return { kind };
}

/** Confirms a pending TOTP enrolment with its first code (throttled like any code). */
export async function confirmTotp(deps: Deps, attempt: FactorAttempt, code: string): Promise<boolean> {
  const ok = await throttledFactorCheck(deps, attempt, "totp", () => verifyTotp(deps, attempt.userId, code, true));
  if (ok) await audit(deps, { action: "authn.totp.enrolled", actor: attempt.userId, targetType: "user", targetId: attempt.userId, ip: attempt.ip });
  return ok;
}

export const FACTORS = ["totp", "webauthn", "recovery", "all"] as const;
export type FactorName = (typeof FACTORS)[number];

export interface FactorList {
  user_id: string;
  username: string;
  totp: { enrolled: boolean; confirmed_at: string | null; last_used_at: string | null };
  recovery_codes: { remaining: number };
  webauthn: { id: string; name: string; passkey: boolean; device_type: string; created_at: string; last_used_at: string | null }[];
}

export async function listFactors(deps: Deps, userId: string): Promise<FactorList> {
  const user = await findUserById(deps.sql, userId);
  if (!user) throw new NotFoundError(`User '${userId}' does not exist`);
  const [totp, creds, counts] = await Promise.all([store.findTotp(deps.sql, userId), store.listCredentials(deps.sql, userId), store.countFactors(deps.sql, userId)]);
  return {
    user_id: user.id,
    username: user.username,
    totp: { enrolled: Boolean(totp?.confirmed_at), confirmed_at: totp?.confirmed_at?.toISOString() ?? null, last_used_at: totp?.last_used_at?.toISOString() ?? null },
    recovery_codes: { remaining: counts.recovery },
    webauthn: creds.map((c) => ({ id: c.id, name: c.name, passkey: c.is_passkey, device_type: c.device_type, created_at: c.created_at.toISOString(), last_used_at: c.last_used_at?.toISOString() ?? null })),
  };
}

/** An admin removes a user's factors (a lost phone, a lost key); audited (user.mfa.reset). The
 *  user signs in with the password next time and, where a policy requires it, enrols again. */
export async function resetFactors(deps: Deps, actor: Actor, userId: string, factor: FactorName): Promise<{ user_id: string; removed: { totp: boolean; webauthn: number; recovery_codes: number } }> {
  if (!FACTORS.includes(factor)) throw new ValidationError(`factor must be one of: ${FACTORS.join(", ")}`, [{ field: "factor", message: `must be one of: ${FACTORS.join(", ")}` }]);
  const user = await findUserById(deps.sql, userId);
  if (!user) throw new NotFoundError(`User '${userId}' does not exist`);
  return deps.sql.begin(async (tx) => {
    const all = factor === "all";
    const removed = {
      totp: all || factor === "totp" ? await store.deleteTotp(tx, userId) : false,
      webauthn: all || factor === "webauthn" ? await store.deleteCredentials(tx, userId) : 0,
      recovery_codes: all || factor === "recovery" ? await store.deleteRecoveryCodes(tx, userId) : 0,
    };
    await auditAdmin(deps, tx, actor, "user.mfa.reset", { type: "user", id: userId }, { username: user.username, factor, removed });
    return { user_id: userId, removed };
  });
}
