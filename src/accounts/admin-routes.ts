// Admin API: user accounts (create, list/search, show, update, deactivate, delete, reset password,
// sessions and grants, login unlock). Scopes admin:users:read / admin:users:write.
import { Type as t } from "@sinclair/typebox";
import { resendVerification } from "../account/email-verification";
import type { Deps } from "../deps";
import { assertSchema, boolParam, intParam, Problems } from "../lib/validate";
import { HardQuery, IncludeInactiveQuery, LimitQuery, OffsetQuery, type AdminRouteSpec } from "../admin/spec";
import { ChangePassword, Me, PasswordChanged, PasswordReset, ResetPassword, SessionsRevoked, User, UserCreate, UserDeleted, UserList, UserSessions, UserUpdate, UserWithPassword } from "./model";
import * as users from "./admin-service";
import { unlockUser, withLoginLocks } from "./login-locks";
import { UserUnlocked, UserWithLock } from "./model";

const ID = { id: "The user id (UUID)" };

export function userAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/me", scope: "any", tag: "users", summary: "Who am I: the admin behind the token",
      response: Me,
      handler: (r) => users.whoAmI(deps, r.principal!),
    },
    {
      method: "POST", path: "/admin/me/password", scope: "any", tag: "users", summary: "Change my own password",
      description: "Needs the current password. Clears requires_password_change: a generated or reset password must be replaced this way before other admin routes answer (they return 403 until then). Ends what the old password opened: every other session (with back-channel logout), grant, refresh token and access token of the caller is revoked; the calling access token, its grant (refresh token) and the browser session it came from are kept.",
      body: ChangePassword, response: PasswordChanged, errors: [400],
      handler: (r) => users.changeOwnPassword(deps, r.actor, r.principal!.userId, r.body, r.principal!.jti, r.principal!.grantId),
    },
    {
      method: "POST", path: "/admin/users", scope: "admin:users:write", tag: "users", summary: "Create a user",
      description: "Without `password` a strong one is generated, returned once as `generated_password`, and must be changed at first login.",
      body: UserCreate, status: 201, response: UserWithPassword, errors: [400, 409],
      handler: (r) => users.createUser(deps, r.actor, r.body),
    },
    {
      method: "GET", path: "/admin/users", scope: "admin:users:read", tag: "users", summary: "List or search users",
      query: {
        limit: LimitQuery, offset: OffsetQuery, include_inactive: IncludeInactiveQuery,
        q: { schema: t.String({ maxLength: 200 }), description: "Search in username, email and name (case-insensitive substring)" },
      },
      response: UserList, errors: [400],
      handler: (r) => {
        const p = new Problems();
        const limit = intParam(p, r.query, "limit", 20, 1, 100);
        const offset = intParam(p, r.query, "offset", 0, 0, 1_000_000_000);
        const includeInactive = boolParam(p, r.query, "include_inactive");
        const q = r.query.q?.trim() || undefined;
        if (q && q.length > 200) p.add("q", "must be at most 200 characters");
        p.throwIfAny("Invalid query");
        return users.listUsers(deps, { q, limit, offset, includeInactive }).then(async (l) => ({ ...l, users: await withLoginLocks(deps, l.users) }));
      },
    },
    {
      method: "GET", path: "/admin/users/:id", scope: "admin:users:read", tag: "users", summary: "Show a user",
      description: "`login_lock` says whether login throttling holds the account's sign-ins back (null: no), until when, and how (locked sources, account slow-down).",
      params: ID, response: UserWithLock, errors: [404],
      handler: async (r) => (await withLoginLocks(deps, [await users.getUser(deps, r.params.id!)]))[0]!,
    },
    {
      method: "POST", path: "/admin/users/:id/unlock", scope: "admin:users:write", tag: "users", summary: "Clear a user's login throttling",
      description: "Deletes the account's failed-login counters from every source: the sources locked out of this account and the account-wide slow-down. A source locked for failing on many accounts stays locked. Audited as user.unlock.",
      params: ID, body: t.Object({}, { additionalProperties: false, description: "No fields; the body may be empty" }), response: UserUnlocked, errors: [404],
      handler: (r) => unlockUser(deps, r.actor, r.params.id!),
    },
    {
      method: "PATCH", path: "/admin/users/:id", scope: "admin:users:write", tag: "users", summary: "Update a user (partial)",
      description: "Profile claims, flags and username/email. Deactivating ends the user's sessions and revokes their tokens. The last active admin cannot be demoted or deactivated (409).",
      params: ID, body: UserUpdate, response: User, errors: [400, 404, 409],
      handler: (r) => users.updateUser(deps, r.actor, r.params.id!, r.body),
    },
    {
      method: "POST", path: "/admin/users/:id/deactivate", scope: "admin:users:write", tag: "users", summary: "Deactivate a user",
      description: "Sets is_active=false, ends every session and revokes every grant and token.",
      params: ID, response: User, errors: [404, 409],
      handler: (r) => users.deactivateUser(deps, r.actor, r.params.id!),
    },
    {
      method: "DELETE", path: "/admin/users/:id", scope: "admin:users:write", tag: "users", summary: "Delete a user",
      description: "Soft delete (deactivate, revoke sessions and tokens) by default; `hard=true` removes the account and everything that belongs to it.",
      params: ID, query: { hard: HardQuery }, response: UserDeleted, errors: [400, 404, 409],
      handler: (r) => {
        const p = new Problems();
        const hard = boolParam(p, r.query, "hard");
        p.throwIfAny("Invalid query");
        return users.deleteUser(deps, r.actor, r.params.id!, hard);
      },
    },
    {
      method: "POST", path: "/admin/users/:id/reset-password", scope: "admin:users:write", tag: "users", summary: "Reset a user's password",
      description: "Sets the given password or generates one (returned once). Ends the user's sessions and revokes their tokens.",
      params: ID, body: ResetPassword, response: PasswordReset, errors: [400, 404],
      handler: (r) => users.resetPassword(deps, r.actor, r.params.id!, r.body),
    },
    {
      method: "POST", path: "/admin/users/:id/verification-email", scope: "admin:users:write", tag: "users", summary: "Send the email verification link again",
      description: "Queues a new verification link to the user's address (the older link stops working). 409 when mail is not configured, the user has no address, or it is already verified.",
      params: ID, body: t.Object({}, { additionalProperties: false }), response: t.Object({ id: t.String(), email: t.String(), queued: t.Literal(true) }), status: 202, errors: [400, 404, 409],
      handler: (r) => {
        assertSchema(t.Object({}, { additionalProperties: false }), r.body ?? {});
        return resendVerification(deps, r.actor, r.params.id!);
      },
    },
    {
      method: "GET", path: "/admin/users/:id/sessions", scope: "admin:users:read", tag: "users", summary: "List a user's sessions and grants",
      params: ID, response: UserSessions, errors: [404],
      handler: (r) => users.userSessions(deps, r.params.id!),
    },
    {
      method: "DELETE", path: "/admin/users/:id/sessions", scope: "admin:users:write", tag: "users", summary: "Revoke a user's sessions and tokens",
      description: "Ends every session and revokes every grant and token. The clients of each ended session with a backchannel_logout_uri get a logout token (OIDC Back-Channel Logout 1.0), sent in the background after the commit, as for deactivation, password reset and delete.",
      params: ID, response: SessionsRevoked, errors: [404],
      handler: (r) => users.revokeSessions(deps, r.actor, r.params.id!),
    },
  ];
}
