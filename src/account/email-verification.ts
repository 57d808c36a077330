// Email verification (issue 17): a single-use link (256-bit token stored as an HMAC, 24 hours,
// replaced by a newer one) mailed when an account gets an address that is not verified (creation,
// change) and mail is configured, and again when an admin asks. Confirming sets `email_verified`
// (the claim follows it) only while the address is still the account's.
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { audit, auditAdmin, type Actor } from "../audit/service";
import { ConflictError, NotFoundError } from "../errors";
import { hashSecret, randomToken } from "../lib/crypto";
import { enqueueMail, mailEnabled, mailLook } from "../mail/service";
import type { Locale } from "../i18n";
import { renderMail } from "../mail/templates";
import { findUserById } from "../accounts/store";
import { consumeAccountToken, markEmailVerified, peekAccountToken, replaceAccountToken } from "./store";

export const VERIFY_TTL_SECONDS = 24 * 3600;
const tokenHash = (deps: Pick<Deps, "peppers">, token: string) => hashSecret(deps.peppers.tokens, `email_verification:${token}`);

export function verificationUrl(deps: Pick<Deps, "config">, token: string): string {
  return `${deps.config.issuer.replace(/\/$/, "")}/email/verify?token=${encodeURIComponent(token)}`;
}

/** Queues the verification mail in `tx` when mail is configured; returns whether it did. Its
 *  language: the user's `locale` claim, else `pageLocale` (the page that caused it, e.g. sign-up). */
export async function queueVerificationMail(deps: Pick<Deps, "config" | "sql" | "peppers">, tx: Tx, user: { id: string; username: string; email: string | null; email_verified: boolean; locale?: string | null }, pageLocale?: Locale): Promise<boolean> {
  if (!mailEnabled(deps) || !user.email || user.email_verified) return false;
  const token = randomToken(32);
  await replaceAccountToken(tx, { hash: tokenHash(deps, token), purpose: "email_verification", userId: user.id, email: user.email, ttlSeconds: VERIFY_TTL_SECONDS });
  await enqueueMail(deps, renderMail("email_verification", user.email, { username: user.username, email: user.email, issuer: deps.config.issuer, hours: String(VERIFY_TTL_SECONDS / 3600) }, verificationUrl(deps, token), await mailLook(deps, user.locale, pageLocale, tx)), tx);
  return true;
}

/** Admin: send the link again (409 without mail, without an address, or when already verified). */
export async function resendVerification(deps: Deps, actor: Actor, id: string): Promise<{ id: string; email: string; queued: true }> {
  if (!mailEnabled(deps)) throw new ConflictError("Mail is not configured: set AUTHLY_SMTP_URL and AUTHLY_MAIL_FROM on the server");
  const user = await findUserById(deps.sql, id);
  if (!user) throw new NotFoundError(`User '${id}' does not exist`);
  if (!user.email) throw new ConflictError(`User '${user.username}' has no email address`);
  if (user.email_verified) throw new ConflictError(`The email address of '${user.username}' is already verified`);
  await deps.sql.begin(async (tx) => {
    await queueVerificationMail(deps, tx, user);
    await auditAdmin(deps, tx, actor, "user.verification_email", { type: "user", id }, {});
  });
  return { id, email: user.email, queued: true };
}

export async function verificationTokenIsLive(deps: Deps, token: string): Promise<boolean> {
  return Boolean(await peekAccountToken(deps.sql, tokenHash(deps, token), "email_verification"));
}

export async function confirmEmail(deps: Deps, token: string, ip: string | null): Promise<boolean> {
  return deps.sql.begin(async (tx) => {
    const used = await consumeAccountToken(tx, tokenHash(deps, token), "email_verification");
    if (!used?.email) return false;
    if (!(await markEmailVerified(tx, used.user_id, used.email))) return false;
    await audit(deps, { action: "user.email_verified", actor: used.user_id, targetType: "user", targetId: used.user_id, ip, details: {} }, tx);
    return true;
  });
}
