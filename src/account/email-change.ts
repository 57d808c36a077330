// Changing one's email address on the account page (issue 17): the current password is asked for;
// a link goes to the new address (256-bit token stored as an HMAC, 24 hours, replaced by a newer
// one) and the account keeps its old address until the link is followed; then the new address is
// the account's (verified) and a notice goes to the old one. An address that belongs to another
// account gets the same answer and no mail (no enumeration through the account page).
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { findUserByLogin, findUserById, updateUser } from "../accounts/store";
import type { UserRecord } from "../accounts/model";
import { passwordParams, verifyPassword } from "../accounts/password";
import { ConflictError } from "../errors";
import { hashSecret, randomToken } from "../lib/crypto";
import { enqueueMail, mailEnabled, mailLook } from "../mail/service";
import type { Locale } from "../i18n";
import { renderMail } from "../mail/templates";
import { SIGNUP_EMAIL } from "./signup";
import { consumeAccountToken, peekAccountToken, replaceAccountToken } from "./store";

export const EMAIL_CHANGE_TTL_SECONDS = 24 * 3600;
const tokenHash = (deps: Pick<Deps, "peppers">, token: string) => hashSecret(deps.peppers.tokens, `email_change:${token}`);

export function emailChangeOffered(deps: Pick<Deps, "config">): boolean {
  return mailEnabled(deps);
}

export type EmailChangeRequest = { ok: true } | { ok: false; reason: "invalid_email" | "same_email" | "wrong_password" };

/** `pageLocale`: the account page's language, for the mail when the user has no `locale` claim. */
/** `input.mail`: false when a mail limit (MAIL_QUOTA per new address and per account, counted by the route)
 *  is reached: the answer is the same, nothing is sent. */
export async function requestEmailChange(deps: Deps, user: UserRecord, input: { email: string; password: string; mail?: boolean }, ip: string | null, pageLocale?: Locale): Promise<EmailChangeRequest> {
  const email = input.email.trim();
  if (email.length > 254 || !SIGNUP_EMAIL.test(email)) return { ok: false, reason: "invalid_email" };
  if (user.email && user.email.toLowerCase() === email.toLowerCase()) return { ok: false, reason: "same_email" };
  const { ok } = await verifyPassword(input.password.slice(0, 1024), user.password_hash, passwordParams(deps.config));
  if (!ok) {
    await audit(deps, { action: "user.email_change_requested", actor: user.id, targetType: "user", targetId: user.id, outcome: "failure", ip, details: { reason: "wrong_password" } });
    return { ok: false, reason: "wrong_password" };
  }
  const other = await findUserByLogin(deps.sql, email);
  const taken = Boolean(other && other.id !== user.id && other.email?.toLowerCase() === email.toLowerCase());
  const limited = input.mail === false;
  const look = await mailLook(deps, user.locale, pageLocale);
  await deps.sql.begin(async (tx) => {
    if (!taken && !limited) {
      const token = randomToken(32);
      await replaceAccountToken(tx, { hash: tokenHash(deps, token), purpose: "email_change", userId: user.id, email, ttlSeconds: EMAIL_CHANGE_TTL_SECONDS });
      const link = `${deps.config.issuer.replace(/\/$/, "")}/email/change?token=${encodeURIComponent(token)}`;
      await enqueueMail(deps, renderMail("email_change", email, { username: user.username, email, issuer: deps.config.issuer, hours: String(EMAIL_CHANGE_TTL_SECONDS / 3600) }, link, look), tx);
    }
    await audit(deps, { action: "user.email_change_requested", actor: user.id, targetType: "user", targetId: user.id, outcome: taken || limited ? "failure" : "success", ip, details: taken ? { reason: "address_taken" } : limited ? { reason: "mail_limit" } : {} }, tx);
  });
  return { ok: true };
}

export async function emailChangeTokenIsLive(deps: Deps, token: string): Promise<{ email: string } | undefined> {
  const row = await peekAccountToken(deps.sql, tokenHash(deps, token), "email_change");
  return row?.email ? { email: row.email } : undefined;
}

/** Follows the link: the new address becomes the account's (verified); the old one is told (in the
 *  user's `locale` claim, else `pageLocale`, the confirmation page's language). */
export async function confirmEmailChange(deps: Deps, token: string, ip: string | null, pageLocale?: Locale): Promise<"changed" | "invalid_token" | "taken"> {
  try {
    return await deps.sql.begin(async (tx) => {
      const used = await consumeAccountToken(tx, tokenHash(deps, token), "email_change");
      if (!used?.email) return "invalid_token" as const;
      const before = await findUserById(tx, used.user_id);
      if (!before?.is_active) return "invalid_token" as const;
      await updateUser(tx, used.user_id, { email: used.email, email_verified: true });
      if (before.email) await enqueueMail(deps, renderMail("email_changed", before.email, { username: before.username, email: used.email, issuer: deps.config.issuer }, undefined, await mailLook(deps, before.locale, pageLocale, tx)), tx);
      await audit(deps, { action: "user.email_changed", actor: used.user_id, targetType: "user", targetId: used.user_id, ip, details: { had_email: Boolean(before.email) } }, tx);
      return "changed" as const;
    });
  } catch (err) {
    // The address was taken by another account after the link was sent: nothing changed, link used.
    if (!(err instanceof ConflictError)) throw err;
    await deps.sql.begin((tx) => consumeAccountToken(tx, tokenHash(deps, token), "email_change"));
    return "taken";
  }
}
