// Admin API of sign-up invites (issue 17): POST /admin/invites creates a single-use link for one
// address, mailed when mail is configured and returned once (scope admin:users:write).
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { assertSchema } from "../lib/validate";
import { createInvite, SIGNUP_LIMITS } from "./signup";

const InviteCreate = t.Object(
  {
    email: t.String({ minLength: 3, maxLength: 254, description: "The address the account will have" }),
    expires_in_hours: t.Optional(t.Integer({ minimum: 1, maximum: SIGNUP_LIMITS.inviteMaxHours, description: `Default ${SIGNUP_LIMITS.inviteDefaultHours} (7 days)` })),
  },
  { additionalProperties: false },
);
const Invite = t.Object({
  id: t.String({ format: "uuid" }),
  email: t.String(),
  url: t.String({ description: "The invite link, shown once (only its hash is stored)" }),
  expires_at: t.String({ format: "date-time" }),
  mailed: t.Boolean({ description: "Queued to the address by mail (mail configured); the account's address then counts as verified" }),
});

export function signupAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/invites", scope: "admin:users:write", tag: "users", summary: "Invite someone to create an account",
      description: "A single-use sign-up link for one address (AUTHLY_SIGNUP=invite or open), valid `expires_in_hours`. Mailed when mail is configured, and returned once either way. 409 when sign-up is off or the address already has an account. Audited as signup.invite.",
      body: InviteCreate, response: Invite, status: 201, errors: [400, 409],
      handler: (r) => createInvite(deps, r.actor, assertSchema<{ email: string; expires_in_hours?: number }>(InviteCreate, r.body)),
    },
  ];
}
