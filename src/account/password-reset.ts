// Self-service password reset (issue 17): "Forgot password?" → a mail with a single-use link
// (256-bit token, stored as an HMAC, valid 30 minutes, replaced by a newer one, used once) → a new
// password under the same policy as everywhere (accounts/model.ts ResetPassword) → the admin reset
// path: every session and refresh token of the account revoked with back-channel logout, audited;
// the account's login throttle is cleared too (the owner just proved control of the mailbox).
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { resetPassword } from "../accounts/admin-service";
import { unlockUser } from "../accounts/login-locks";
import { PASSWORD_MIN } from "../accounts/model";
import { hashSecret, randomToken } from "../lib/crypto";
import { log } from "../log";
import { enqueueMail, mailEnabled, mailLook } from "../mail/service";
import type { Locale } from "../i18n";
import { renderMail } from "../mail/templates";
import { findUserById } from "../accounts/store";
import type { Tx } from "../db/sql";
import { consumeAccountToken, findActiveUserByEmail, peekAccountToken, replaceAccountToken } from "./store";

/** Limits of the flow (README "Password reset"). */
export const RESET_LIMITS = {
  ttlSeconds: 30 * 60,
  /** Token size: 256 bits. */
  tokenBytes: 32,
  // Requests per source address: AUTHLY_AUTHORIZE_RATE_LIMIT per minute, like the sign-in forms (429 page).
  // Mails per address: MAIL_QUOTA (mail-quota.ts).
  maxPasswordLength: 1024,
} as const;

const tokenHash = (deps: Deps, token: string) => hashSecret(deps.peppers.tokens, `password_reset:${token}`);

export function passwordResetOffered(deps: Deps): boolean {
  return mailEnabled(deps);
}

/**
 * The part of a request that depends on whether the address belongs to an account. The route runs
 * it after answering, so its duration is not visible to the requester (same answer, same timing).
 */
export async function requestPasswordReset(deps: Deps, email: string, ip: string | null, resetUrl: (token: string) => string, pageLocale?: Locale): Promise<void> {
  const user = await findActiveUserByEmail(deps.sql, email);
  if (!user?.email) {
    await audit(deps, { action: "password_reset.requested", actor: null, targetType: "user", targetId: null, outcome: "failure", ip, details: { reason: "unknown_address" } });
    return;
  }
  const token = randomToken(RESET_LIMITS.tokenBytes);
  const look = await mailLook(deps, user.locale, pageLocale);
  await deps.sql.begin(async (tx) => {
    await replaceAccountToken(tx, { hash: tokenHash(deps, token), purpose: "password_reset", userId: user.id, email: user.email, ttlSeconds: RESET_LIMITS.ttlSeconds });
    await enqueueMail(deps, renderMail("password_reset", user.email!, { username: user.username, issuer: deps.config.issuer, minutes: String(RESET_LIMITS.ttlSeconds / 60) }, resetUrl(token), look), tx);
    await audit(deps, { action: "password_reset.requested", actor: user.id, targetType: "user", targetId: user.id, ip, details: {} }, tx);
  });
}

/** Runs `requestPasswordReset` in the background; failures are logged, never shown. */
export function requestPasswordResetInBackground(deps: Deps, email: string, ip: string | null, resetUrl: (token: string) => string, pageLocale?: Locale): void {
  const p = requestPasswordReset(deps, email, ip, resetUrl, pageLocale)
    .catch((err) => log.error("password reset request failed", { error: err instanceof Error ? err.message : String(err) }))
    .finally(() => pending.delete(p));
  pending.add(p);
}
const pending = new Set<Promise<void>>();

/** Resolves when every background request started so far has ended (tests, shutdown). */
export async function settlePasswordResetRequests(): Promise<void> {
  while (pending.size) await Promise.all(pending);
}

/** Whether a link is still good (the new-password page shows, or says it expired). */
export async function resetTokenIsLive(deps: Deps, token: string): Promise<boolean> {
  const live = await peekAccountToken(deps.sql, tokenHash(deps, token), "password_reset");
  return Boolean(live && (await stillTheAddress(deps.sql, live)));
}

/** A reset link is good only while the account is active (not deactivated or deleted since the
 *  mail) and still has the address it was mailed to: once the address changed (account page or
 *  admin), whoever reads the old mailbox must not set the password. */
async function stillTheAddress(sql: Tx, token: { user_id: string; email: string | null }): Promise<boolean> {
  const user = await findUserById(sql, token.user_id);
  return Boolean(user?.is_active && token.email && user.email && user.email.toLowerCase() === token.email.toLowerCase());
}

export type ResetOutcome = { ok: true } | { ok: false; reason: "invalid_token" | "password_policy" | "mismatch" };

export async function completePasswordReset(deps: Deps, token: string, password: string, confirm: string, ip: string | null): Promise<ResetOutcome> {
  // Checked before the token is used, so that a too-short password does not burn the link.
  if (password !== confirm) return { ok: false, reason: "mismatch" };
  if (password.length < PASSWORD_MIN || password.length > RESET_LIMITS.maxPasswordLength) return { ok: false, reason: "password_policy" };
  const used = await consumeAccountToken(deps.sql, tokenHash(deps, token), "password_reset");
  // A link of a former address, or of an account deactivated or deleted since, is used up and refused.
  if (!used || !(await stillTheAddress(deps.sql, used))) return { ok: false, reason: "invalid_token" };
  const actor = { userId: used.user_id, ip };
  await resetPassword(deps, actor, used.user_id, { password, requires_password_change: false });
  await unlockUser(deps, actor, used.user_id);
  return { ok: true };
}
