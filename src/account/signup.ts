// Self sign-up (issue 17; AUTHLY_SIGNUP=off|open|invite). Open sign-up with verification (the
// default) stores a pending request and mails a link; the account is created only when the link is
// followed, so an unverified sign-up can never sign in. The answer to the form is the same whether
// or not the username or address exists: the account-dependent work runs after answering, and the
// address's owner learns by mail what happened (confirm, "you already have an account", "username
// taken"). Invites are single-use links an admin creates for one address (mailed and returned).
import type { Deps } from "../deps";
import { audit, auditAdmin, type Actor } from "../audit/service";
import { insertUser, findUserByLogin } from "../accounts/store";
import { PASSWORD_MIN, USERNAME_PATTERN, type UserRecord } from "../accounts/model";
import { hashPassword, passwordParams, verifyPassword } from "../accounts/password";
import { ConflictError, ValidationError } from "../errors";
import { hashSecret, randomToken } from "../lib/crypto";
import { log } from "../log";
import { enqueueMail, mailEnabled, mailLook } from "../mail/service";
import type { Locale, MessageKey } from "../i18n";
import { renderMail } from "../mail/templates";
import { hit } from "../ratelimit/store";
import { queueVerificationMail } from "./email-verification";
import { consumeInvite, consumeSignupRequest, insertInvite, insertSignupRequest, peekInvite, peekSignupRequest } from "./signup-store";

/** Limits of sign-up (README "Self sign-up"). */
export const SIGNUP_LIMITS = {
  /** A pending sign-up's link lives this long (at most a day: the attempt counter lives a day). */
  requestTtlSeconds: 24 * 3600,
  /** Passwords tried on one link: the fifth wrong one spends it. */
  confirmAttempts: 5,
  inviteDefaultHours: 7 * 24,
  inviteMaxHours: 30 * 24,
  // Mails per address: MAIL_QUOTA (mail-quota.ts).
  maxPasswordLength: 1024,
  maxNameLength: 200,
  tokenBytes: 32,
} as const;

export const SIGNUP_EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const USERNAME = new RegExp(USERNAME_PATTERN);
const requestHash = (deps: Pick<Deps, "peppers">, token: string) => hashSecret(deps.peppers.tokens, `signup:${token}`);
const inviteHash = (deps: Pick<Deps, "peppers">, token: string) => hashSecret(deps.peppers.tokens, `signup_invite:${token}`);

/** Why open sign-up is not offered, or null when it is. */
export function signupUnavailableReason(deps: Pick<Deps, "config">): string | null {
  if (deps.config.signup !== "open") return `AUTHLY_SIGNUP is ${deps.config.signup}`;
  if (deps.config.signupRequireVerifiedEmail && !mailEnabled(deps)) return "sign-up needs a verified address and mail is not configured (set AUTHLY_SMTP_URL)";
  return null;
}

/** Open sign-up: the "Create an account" link and form are shown. */
export function signupOffered(deps: Pick<Deps, "config">): boolean {
  return signupUnavailableReason(deps) === null;
}

/** Invite links work with AUTHLY_SIGNUP=invite or open. */
export function invitesOffered(deps: Pick<Deps, "config">): boolean {
  return deps.config.signup !== "off";
}

/** For `admin status`. */
export function signupStatus(deps: Pick<Deps, "config">) {
  const reason = signupUnavailableReason(deps);
  return { mode: deps.config.signup, require_verified_email: deps.config.signupRequireVerifiedEmail, open: reason === null, invites: invitesOffered(deps), reason };
}

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  confirm: string;
  name: string;
}

/** The checks that do not depend on existing accounts; field -> the problem's catalogue key (the
 *  form draws it with {min}/{max}: PASSWORD_MIN and the SIGNUP_LIMITS). */
export function checkSignupInput(i: SignupInput, opts: { emailFixed?: boolean } = {}): Record<string, MessageKey> {
  const p: Record<string, MessageKey> = {};
  // No "@": sign-in accepts a username or an address, and a username matches first, so a chosen
  // username must never look like somebody's address.
  if (!USERNAME.test(i.username) || i.username.includes("@")) p.username = "signup.bad_username";
  if (!opts.emailFixed && (i.email.length > 254 || !SIGNUP_EMAIL.test(i.email))) p.email = "signup.bad_email";
  if (i.password.length < PASSWORD_MIN || i.password.length > SIGNUP_LIMITS.maxPasswordLength) p.password = "signup.bad_password";
  else if (i.password !== i.confirm) p.confirm = "signup.mismatch";
  if (i.name.length > SIGNUP_LIMITS.maxNameLength) p.name = "signup.bad_name";
  return p;
}

/**
 * Open sign-up with verification: the part that depends on existing accounts. Runs after the
 * answer (requestSignupInBackground), so its duration is not visible to the requester. The mail
 * is in the sign-up page's language (`pageLocale`), or the existing account's `locale` claim.
 */
export async function requestSignup(deps: Deps, i: SignupInput, ip: string | null, interaction: string | null, links: { confirm: (token: string) => string; signin: string; signup: string }, pageLocale?: Locale): Promise<void> {
  const passwordHash = await hashPassword(i.password, passwordParams(deps.config));
  const byEmail = await findUserByLogin(deps.sql, i.email);
  const emailTaken = Boolean(byEmail && byEmail.email?.toLowerCase() === i.email.toLowerCase());
  const byName = await findUserByLogin(deps.sql, i.username);
  const nameTaken = Boolean(byName && byName.username.toLowerCase() === i.username.toLowerCase());
  const values = { username: i.username, email: i.email, issuer: deps.config.issuer, hours: String(SIGNUP_LIMITS.requestTtlSeconds / 3600) };
  await deps.sql.begin(async (tx) => {
    const look = await mailLook(deps, emailTaken ? byEmail?.locale : null, pageLocale, tx);
    if (emailTaken) {
      await enqueueMail(deps, renderMail("signup_exists", i.email, values, links.signin, look), tx);
    } else if (nameTaken) {
      await enqueueMail(deps, renderMail("signup_username_taken", i.email, values, links.signup, look), tx);
    } else {
      const token = randomToken(SIGNUP_LIMITS.tokenBytes);
      await insertSignupRequest(tx, { hash: requestHash(deps, token), username: i.username, email: i.email, password_hash: passwordHash, name: i.name || null, interaction, ttlSeconds: SIGNUP_LIMITS.requestTtlSeconds });
      await enqueueMail(deps, renderMail("signup_confirm", i.email, values, links.confirm(token), look), tx);
    }
    const reason = emailTaken ? "email_taken" : nameTaken ? "username_taken" : null;
    await audit(deps, { action: "signup.requested", actor: null, targetType: "user", targetId: null, outcome: reason ? "failure" : "success", ip, details: reason ? { reason } : {} }, tx);
  });
}

const pending = new Set<Promise<void>>();

export function requestSignupInBackground(...args: Parameters<typeof requestSignup>): void {
  const p = requestSignup(...args)
    .catch((err) => log.error("sign-up request failed", { error: err instanceof Error ? err.message : String(err) }))
    .finally(() => pending.delete(p));
  pending.add(p);
}

/** Resolves when every background sign-up started so far has ended (tests, shutdown). */
export async function settleSignupRequests(): Promise<void> {
  while (pending.size) await Promise.all(pending);
}

/** The pending sign-up of a link, when still live (the confirmation page names its username). */
export async function signupRequestIsLive(deps: Deps, token: string): Promise<{ username: string } | undefined> {
  const row = await peekSignupRequest(deps.sql, requestHash(deps, token));
  return row ? { username: row.username } : undefined;
}

export type ConfirmOutcome =
  | { ok: true; user: UserRecord; interaction: string | null }
  | { ok: false; reason: "invalid_token" | "taken" | "too_many_attempts" }
  | { ok: false; reason: "wrong_password"; username: string };

/**
 * Follows a sign-up link: the password chosen at sign-up must be given again (whoever opens the
 * link of a sign-up they never made cannot create an account that the requester can sign in to).
 * A wrong password keeps the link, the `confirmAttempts`-th wrong one spends it. Then the account
 * is created (address verified) unless the name or address was taken meanwhile; the link is used
 * either way.
 */
export async function confirmSignup(deps: Deps, token: string, password: string, ip: string | null): Promise<ConfirmOutcome> {
  const hash = requestHash(deps, token);
  const live = await peekSignupRequest(deps.sql, hash);
  if (!live) return { ok: false, reason: "invalid_token" };
  // Each attempt counts before the password is checked, so even concurrent posts get at most
  // `confirmAttempts` checks. The counter's window starts with the request: maintenance drops it a
  // day later, when the link has expired (requestTtlSeconds).
  const attempt = await hit(deps.sql, `signup-confirm:${hash}`, live.created_at);
  const failed = async (reason: string) => audit(deps, { action: "user.signup", actor: null, targetType: "user", targetId: null, outcome: "failure", ip, details: { how: "open", reason, attempt } });
  const spend = async () => {
    await consumeSignupRequest(deps.sql, hash);
  };
  // Past the limit: refused unchecked. The first `confirmAttempts` attempts either include the right
  // password (the account is created, the link used) or the last of them spends the link.
  if (attempt > SIGNUP_LIMITS.confirmAttempts) {
    await failed("too_many_attempts");
    return { ok: false, reason: "too_many_attempts" };
  }
  // Bun.password.verify: the comparison of the argon2id hash does not leak where it differs.
  const { ok } = await verifyPassword(password, live.password_hash, passwordParams(deps.config));
  if (!ok) {
    if (attempt >= SIGNUP_LIMITS.confirmAttempts) {
      await spend();
      await failed("too_many_attempts");
      return { ok: false, reason: "too_many_attempts" };
    }
    await failed("wrong_password");
    return { ok: false, reason: "wrong_password", username: live.username };
  }
  return deps.sql.begin(async (tx) => {
    const used = await consumeSignupRequest(tx, hash);
    if (!used) return { ok: false, reason: "invalid_token" } as const;
    try {
      // A savepoint: a name or address taken meanwhile still uses the link (and its password hash).
      const user = await tx.savepoint((sp) => insertUser(sp, { username: used.username, email: used.email, email_verified: true, password_hash: used.password_hash, name: used.name }));
      await audit(deps, { action: "user.signup", actor: user.id, targetType: "user", targetId: user.id, ip, details: { how: "open", email_verified: true } }, tx);
      return { ok: true, user, interaction: used.interaction } as const;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      await audit(deps, { action: "user.signup", actor: null, targetType: "user", targetId: null, outcome: "failure", ip, details: { how: "open", reason: "taken" } }, tx);
      return { ok: false, reason: "taken" } as const;
    }
  });
}

/** Open sign-up without verification (AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL=false): the account
 *  exists at once, its address unverified (a link is mailed when mail is configured). A taken
 *  username or address is reported: nobody else could be told. */
export async function signupWithoutVerification(deps: Deps, i: SignupInput, ip: string | null, pageLocale?: Locale): Promise<UserRecord> {
  const passwordHash = await hashPassword(i.password, passwordParams(deps.config));
  return deps.sql.begin(async (tx) => {
    const row = await insertUser(tx, { username: i.username, email: i.email, email_verified: false, password_hash: passwordHash, name: i.name || null });
    await audit(deps, { action: "user.signup", actor: row.id, targetType: "user", targetId: row.id, ip, details: { how: "open", email_verified: false } }, tx);
    await queueVerificationMail(deps, tx, row, pageLocale);
    return row;
  });
}

// ---- Invites ----

export interface InviteCreated {
  id: string;
  email: string;
  url: string;
  expires_at: string;
  mailed: boolean;
}

export function inviteUrl(deps: Pick<Deps, "config">, token: string): string {
  return `${deps.config.issuer.replace(/\/$/, "")}/signup?invite=${encodeURIComponent(token)}`;
}

/** Admin: a single-use invite for one address, mailed when mail is configured; the link is returned
 *  once (only its HMAC is stored). 409 when sign-up is off or the address has an account. */
export async function createInvite(deps: Deps, actor: Actor, input: { email: string; expires_in_hours?: number }): Promise<InviteCreated> {
  const email = input.email.trim();
  if (email.length > 254 || !SIGNUP_EMAIL.test(email)) throw new ValidationError("Invalid invite", [{ field: "email", message: "must be an email address" }]);
  const hours = input.expires_in_hours ?? SIGNUP_LIMITS.inviteDefaultHours;
  if (!Number.isInteger(hours) || hours < 1 || hours > SIGNUP_LIMITS.inviteMaxHours) throw new ValidationError("Invalid invite", [{ field: "expires_in_hours", message: `must be a whole number from 1 to ${SIGNUP_LIMITS.inviteMaxHours}` }]);
  if (!invitesOffered(deps)) throw new ConflictError("Sign-up is off on this server: set AUTHLY_SIGNUP=invite (or open) to use invites");
  const existing = await findUserByLogin(deps.sql, email);
  if (existing?.email?.toLowerCase() === email.toLowerCase()) throw new ConflictError("A user with this email already exists");
  const token = randomToken(SIGNUP_LIMITS.tokenBytes);
  const url = inviteUrl(deps, token);
  const mailed = mailEnabled(deps);
  const row = await deps.sql.begin(async (tx) => {
    const row = await insertInvite(tx, { hash: inviteHash(deps, token), email, mailed, createdBy: actor.userId, ttlSeconds: hours * 3600 });
    // No page and no account yet: the invite goes out in the default language (with the brand).
    if (mailed) await enqueueMail(deps, renderMail("signup_invite", email, { email, issuer: deps.config.issuer, expires: `${row.expires_at.toISOString().slice(0, 16).replace("T", " ")} UTC` }, url, await mailLook(deps, null, undefined, tx)), tx);
    await auditAdmin(deps, tx, actor, "signup.invite", { type: "invite", id: row.id }, { email, mailed, expires_in_hours: hours });
    return row;
  });
  return { id: row.id, email: row.email, url, expires_at: row.expires_at.toISOString(), mailed };
}

export async function liveInvite(deps: Deps, token: string): Promise<{ email: string } | undefined> {
  if (!invitesOffered(deps) || !token || token.length > 128) return undefined;
  const row = await peekInvite(deps.sql, inviteHash(deps, token));
  return row ? { email: row.email } : undefined;
}

/** Signs up with an invite: the account gets the invite's address (verified when the link was
 *  mailed) and the invite is used in the same transaction. A taken username keeps the invite. */
export async function signupWithInvite(deps: Deps, token: string, i: SignupInput, ip: string | null, pageLocale?: Locale): Promise<{ ok: true; user: UserRecord } | { ok: false; reason: "invalid_token" | "username_taken" | "email_taken" }> {
  const live = await liveInvite(deps, token);
  if (!live) return { ok: false, reason: "invalid_token" };
  const passwordHash = await hashPassword(i.password, passwordParams(deps.config));
  try {
    return await deps.sql.begin(async (tx) => {
      const invite = await peekInvite(tx, inviteHash(deps, token));
      if (!invite) return { ok: false, reason: "invalid_token" } as const;
      const row = await insertUser(tx, { username: i.username, email: invite.email, email_verified: invite.mailed, password_hash: passwordHash, name: i.name || null });
      if (!(await consumeInvite(tx, inviteHash(deps, token), row.id))) throw new InviteRace();
      await audit(deps, { action: "user.signup", actor: row.id, targetType: "user", targetId: row.id, ip, details: { how: "invite", invite: invite.id, email_verified: invite.mailed } }, tx);
      if (!invite.mailed) await queueVerificationMail(deps, tx, row, pageLocale);
      return { ok: true, user: row } as const;
    });
  } catch (err) {
    if (err instanceof InviteRace) return { ok: false, reason: "invalid_token" };
    if (!(err instanceof ConflictError)) throw err;
    return { ok: false, reason: /email/.test(err.message) ? "email_taken" : "username_taken" };
  }
}

class InviteRace extends Error {}
