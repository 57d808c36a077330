// User administration for the admin API: create (password generated and shown once when absent),
// list/search, show, update, deactivate, soft/hard delete, password reset, and a user's sessions
// and grants. The last active admin cannot be removed, deactivated or demoted. Every action that
// ends sessions publishes them (sessions-ended.ts) once its transaction has committed.
import type { Deps } from "../deps";
import { auditAdmin, type Actor } from "../audit/service";
import type { Tx } from "../db/sql";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { randomToken } from "../lib/crypto";
import { assertSchema, type Problems } from "../lib/validate";
import { ChangePassword, ResetPassword, toUser, UserCreate, UserUpdate, type User, type UserRecord } from "./model";
import { hashPassword, passwordParams, verifyPassword } from "./password";
import { collectEndedSessions, notifyEndedSessions, type EndedSessionsNotice } from "./sessions-ended";
import * as store from "./store";
import { queueVerificationMail } from "../account/email-verification";

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A strong generated password: 144 random bits, base64url. */
export function generatePassword(): string {
  return randomToken(18);
}

function checkUserFields(body: Record<string, unknown>) {
  return (p: Problems) => {
    if (typeof body.email === "string" && !p.has("email") && !EMAIL.test(body.email)) p.add("email", "must be an email address");
    for (const f of ["profile", "picture", "website"]) {
      const v = body[f];
      if (typeof v !== "string" || p.has(f)) continue;
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(v).protocol);
      } catch {}
      if (!ok) p.add(f, "must be an http or https URL");
    }
  };
}

export async function createUser(deps: Deps, actor: Actor, body: unknown): Promise<User & { generated_password?: string }> {
  const raw = (body ?? {}) as Record<string, unknown>;
  const input = assertSchema<UserCreate>(UserCreate, body, checkUserFields(raw));
  const generated = input.password === undefined ? generatePassword() : undefined;
  const { password: _pw, ...fields } = input;
  const passwordHash = await hashPassword(input.password ?? generated!, passwordParams(deps.config));
  return deps.sql.begin(async (tx) => {
    const row = await store.insertUser(tx, {
      ...fields,
      password_hash: passwordHash,
      requires_password_change: input.requires_password_change ?? Boolean(generated),
    });
    await auditAdmin(deps, tx, actor, "user.create", { type: "user", id: row.id }, { username: row.username, is_admin: row.is_admin, password_generated: Boolean(generated) });
    // An address that is not verified gets its link (when mail is configured).
    await queueVerificationMail(deps, tx, row);
    return generated ? { ...toUser(row), generated_password: generated } : toUser(row);
  });
}

export async function listUsers(deps: Deps, opts: { q?: string; includeInactive: boolean; limit: number; offset: number }) {
  const { rows, total } = await store.listUsers(deps.sql, opts);
  return { users: rows.map(toUser), total, limit: opts.limit, offset: opts.offset };
}

export async function getUser(deps: Deps, id: string): Promise<User> {
  const row = await store.findUserById(deps.sql, id);
  if (!row) throw notFound(id);
  return toUser(row);
}

/** The notice of sessions ended in `tx` (its subscriber reads before the commit, sends after it). */
function sessionLogouts(tx: Tx, userId: string, sessionIds: string[]): Promise<EndedSessionsNotice> {
  return collectEndedSessions(tx, sessionIds.map((id) => ({ id, user_id: userId })));
}

/** After the commit: the subscriber (back-channel logout) delivers in the background. */
function sendLogoutsInBackground(deps: Deps, logouts: EndedSessionsNotice, ip: string | null): void {
  notifyEndedSessions(deps, logouts, ip);
}

/** Refuses a change that would leave no active admin. */
async function keepAnAdmin(tx: Tx, cur: UserRecord, next: { is_admin: boolean; is_active: boolean; exists: boolean }): Promise<void> {
  const losesAdmin = cur.is_admin && cur.is_active && (!next.exists || !next.is_admin || !next.is_active);
  if (losesAdmin && (await store.countOtherActiveAdmins(tx, cur.id)) === 0) {
    throw new ConflictError(`'${cur.username}' is the last active admin; create or activate another admin first`);
  }
}

export async function updateUser(deps: Deps, actor: Actor, id: string, body: unknown): Promise<User> {
  const raw = (body ?? {}) as Record<string, unknown>;
  const patch = assertSchema<UserUpdate>(UserUpdate, body, checkUserFields(raw));
  const { user, logouts } = await deps.sql.begin(async (tx) => {
    await store.lockAdminSet(tx);
    const cur = await store.lockUser(tx, id);
    if (!cur) throw notFound(id);
    const next = { is_admin: patch.is_admin ?? cur.is_admin, is_active: patch.is_active ?? cur.is_active, exists: true };
    await keepAnAdmin(tx, cur, next);
    // A new address is not verified just because the old one was.
    const changes: UserUpdate = { ...patch };
    if (patch.email !== undefined && (patch.email ?? "").toLowerCase() !== (cur.email ?? "").toLowerCase() && patch.email_verified === undefined) changes.email_verified = false;
    if (patch.phone_number !== undefined && patch.phone_number !== cur.phone_number && patch.phone_number_verified === undefined) changes.phone_number_verified = false;
    const row = (await store.updateUser(tx, id, changes))!;
    const ended = cur.is_active && !row.is_active ? (await store.revokeUserSessions(tx, id, "user_deactivated")).sessionIds : [];
    await auditAdmin(deps, tx, actor, "user.update", { type: "user", id }, { changed: Object.keys(patch) });
    if (changes.email_verified === false && patch.email !== undefined) await queueVerificationMail(deps, tx, row);
    return { user: toUser(row), logouts: await sessionLogouts(tx, id, ended) };
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return user;
}

export async function deactivateUser(deps: Deps, actor: Actor, id: string): Promise<User> {
  const { user, logouts } = await deps.sql.begin(async (tx) => {
    await store.lockAdminSet(tx);
    const cur = await store.lockUser(tx, id);
    if (!cur) throw notFound(id);
    await keepAnAdmin(tx, cur, { is_admin: cur.is_admin, is_active: false, exists: true });
    const row = (await store.updateUser(tx, id, { is_active: false }))!;
    const revoked = await store.revokeUserSessions(tx, id, "user_deactivated");
    await auditAdmin(deps, tx, actor, "user.deactivate", { type: "user", id }, { revoked_sessions: revoked.sessions, revoked_grants: revoked.grants });
    return { user: toUser(row), logouts: await sessionLogouts(tx, id, revoked.sessionIds) };
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return user;
}

export async function deleteUser(deps: Deps, actor: Actor, id: string, hard: boolean): Promise<{ id: string; deleted: "soft" | "hard" }> {
  const logouts = await deps.sql.begin(async (tx) => {
    await store.lockAdminSet(tx);
    const cur = await store.lockUser(tx, id);
    if (!cur) throw notFound(id);
    await keepAnAdmin(tx, cur, { is_admin: cur.is_admin, is_active: false, exists: !hard });
    let logouts: EndedSessionsNotice;
    if (hard) {
      // The delete cascades to the sessions, grants and codes that say whom to notify: read first.
      logouts = await sessionLogouts(tx, id, await store.findUnrevokedSessionIds(tx, id));
      await store.deleteUser(tx, id);
    } else {
      await store.updateUser(tx, id, { is_active: false });
      logouts = await sessionLogouts(tx, id, (await store.revokeUserSessions(tx, id, "user_deleted")).sessionIds);
    }
    await auditAdmin(deps, tx, actor, "user.delete", { type: "user", id }, { hard, username: cur.username });
    return logouts;
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return { id, deleted: hard ? "hard" : "soft" };
}

export async function resetPassword(deps: Deps, actor: Actor, id: string, body: unknown): Promise<{ id: string; password?: string; requires_password_change: boolean }> {
  const input = assertSchema<ResetPassword>(ResetPassword, body);
  if (!(await store.findUserById(deps.sql, id))) throw notFound(id);
  const generated = input.password === undefined ? generatePassword() : undefined;
  const hash = await hashPassword(input.password ?? generated!, passwordParams(deps.config));
  const mustChange = input.requires_password_change ?? true;
  const logouts = await deps.sql.begin(async (tx) => {
    const cur = await store.lockUser(tx, id);
    if (!cur) throw notFound(id);
    await store.updateUser(tx, id, { password_hash: hash, requires_password_change: mustChange });
    // A reset password ends what the old one opened.
    const revoked = await store.revokeUserSessions(tx, id, "password_reset");
    await auditAdmin(deps, tx, actor, "user.password_reset", { type: "user", id }, { password_generated: Boolean(generated), revoked_sessions: revoked.sessions, revoked_grants: revoked.grants });
    return sessionLogouts(tx, id, revoked.sessionIds);
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return { id, ...(generated ? { password: generated } : {}), requires_password_change: mustChange };
}

export async function userSessions(deps: Deps, id: string) {
  if (!(await store.findUserById(deps.sql, id))) throw notFound(id);
  const [sessions, grants] = await Promise.all([store.listUserSessions(deps.sql, id), store.listUserGrants(deps.sql, id)]);
  return {
    sessions: sessions.map((s) => ({ ...s, auth_time: s.auth_time.toISOString(), created_at: s.created_at.toISOString(), last_seen_at: s.last_seen_at.toISOString(), expires_at: s.expires_at.toISOString() })),
    grants: grants.map((g) => ({ ...g, created_at: g.created_at.toISOString(), expires_at: g.expires_at.toISOString() })),
  };
}

export async function revokeSessions(deps: Deps, actor: Actor, id: string) {
  const { r, logouts } = await deps.sql.begin(async (tx) => {
    const cur = await store.lockUser(tx, id);
    if (!cur) throw notFound(id);
    const r = await store.revokeUserSessions(tx, id, "admin_revoked");
    await auditAdmin(deps, tx, actor, "user.sessions_revoke", { type: "user", id }, { revoked_sessions: r.sessions, revoked_grants: r.grants, revoked_access_tokens: r.accessTokens });
    return { r, logouts: await sessionLogouts(tx, id, r.sessionIds) };
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return { revoked_sessions: r.sessions, revoked_grants: r.grants, revoked_access_tokens: r.accessTokens };
}

/** The caller of the admin API (GET /admin/me). */
export async function whoAmI(deps: Deps, principal: { userId: string; scopes: string[]; clientId: string; expiresAt: number }) {
  const u = await store.findUserById(deps.sql, principal.userId);
  if (!u) throw notFound(principal.userId);
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    is_admin: u.is_admin,
    requires_password_change: u.requires_password_change,
    scopes: principal.scopes,
    client_id: principal.clientId,
    token_expires_at: new Date(principal.expiresAt * 1000).toISOString(),
  };
}

/**
 * The caller replaces their own password (also the way out of requires_password_change). What the
 * old password opened ends, as after an admin's reset: every other session, grant, refresh and
 * access token of the user is revoked and the clients of the ended sessions get a back-channel
 * logout. `keepJti` names the access token that made the change (admin API): it, its grant and the
 * browser session that grant came from are kept; `keepSessionId` (the account page) keeps that
 * browser session only. The login page's forced change keeps nothing (no
 * session exists yet; the new one starts after the change).
 */
export async function changeOwnPassword(deps: Deps, actor: Actor, userId: string, body: unknown, keepJti?: string, keepGrantId?: string | null, keepSessionId?: string) {
  const input = assertSchema<ChangePassword>(ChangePassword, body, (p) => {
    const b = body as Partial<ChangePassword>;
    if (typeof b.new_password === "string" && b.new_password === b.current_password && !p.has("new_password")) p.add("new_password", "must differ from the current password");
  });
  const params = passwordParams(deps.config);
  const user = await store.findUserById(deps.sql, userId);
  if (!user) throw notFound(userId);
  const { ok } = await verifyPassword(input.current_password, user.password_hash, params);
  if (!ok) {
    await auditAdmin(deps, deps.sql, actor, "user.password_change", { type: "user", id: userId }, { outcome: "wrong_current_password" });
    throw new ValidationError("The current password is wrong", [{ field: "current_password", message: "is wrong" }]);
  }
  const hash = await hashPassword(input.new_password, params);
  const { result, logouts } = await deps.sql.begin(async (tx) => {
    await store.updateUser(tx, userId, { password_hash: hash, requires_password_change: false });
    // The account page keeps the browser session that made the change (`keepSessionId`).
    const keep = keepJti ? await store.findAccessTokenOrigin(tx, userId, keepJti, keepGrantId) : keepSessionId ? { sessionId: keepSessionId } : {};
    const revoked = await store.revokeUserSessions(tx, userId, "password_changed", keep);
    await auditAdmin(deps, tx, actor, "user.password_change", { type: "user", id: userId }, { revoked_sessions: revoked.sessions, revoked_grants: revoked.grants, revoked_access_tokens: revoked.accessTokens });
    return {
      result: { id: userId, requires_password_change: false, revoked_sessions: revoked.sessions, revoked_grants: revoked.grants, revoked_access_tokens: revoked.accessTokens },
      logouts: await sessionLogouts(tx, userId, revoked.sessionIds),
    };
  });
  sendLogoutsInBackground(deps, logouts, actor.ip);
  return result;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`User '${id}' does not exist`);
}
