// Admin API: a user's sign-in factors (list, reset), for a lost phone or security key. Listing
// shows names and dates only (no secret, no credential key); a reset is audited (user.mfa.reset).
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { FACTORS, listFactors, resetFactors, type FactorName } from "./service";

const ID = { id: "The user id (UUID)" };

const Factors = t.Object({
  user_id: t.String(),
  username: t.String(),
  totp: t.Object({ enrolled: t.Boolean(), confirmed_at: t.Union([t.String({ format: "date-time" }), t.Null()]), last_used_at: t.Union([t.String({ format: "date-time" }), t.Null()]) }),
  recovery_codes: t.Object({ remaining: t.Integer({ description: "Unused recovery codes" }) }),
  webauthn: t.Array(t.Object({
    id: t.String({ description: "Credential id (base64url)" }),
    name: t.String(),
    passkey: t.Boolean({ description: "Discoverable and user-verified: signs in alone" }),
    device_type: t.String({ description: "singleDevice (device-bound) or multiDevice (synced)" }),
    created_at: t.String({ format: "date-time" }),
    last_used_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
  })),
});

const Reset = t.Object(
  { factor: t.Optional(t.Union(FACTORS.map((f) => t.Literal(f)), { description: "Which factor to remove (default: all)" })) },
  { additionalProperties: false },
);

const ResetDone = t.Object({
  user_id: t.String(),
  removed: t.Object({ totp: t.Boolean(), webauthn: t.Integer(), recovery_codes: t.Integer() }),
});

export function mfaAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/users/:id/mfa", scope: "admin:users:read", tag: "users", summary: "List a user's sign-in factors",
      description: "Authenticator app (TOTP), recovery codes left, and WebAuthn credentials (passkeys and security keys) with their names and dates. No secret is ever shown.",
      params: ID, response: Factors, errors: [404],
      handler: (r) => listFactors(deps, r.params.id!),
    },
    {
      method: "POST", path: "/admin/users/:id/mfa/reset", scope: "admin:users:write", tag: "users", summary: "Reset a user's sign-in factors",
      description: "Removes the user's authenticator app, WebAuthn credentials, recovery codes, or all of them (default). The user signs in with the password next time and enrols again where a policy requires a second factor. Audited as user.mfa.reset.",
      params: ID, body: Reset, response: ResetDone, errors: [400, 404],
      handler: (r) => resetFactors(deps, r.actor, r.params.id!, ((r.body as { factor?: FactorName } | undefined)?.factor ?? "all") as FactorName),
    },
  ];
}
