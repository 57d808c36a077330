// User accounts: identity, admin flags and the OIDC standard claims (OIDC Core §5.1).
import { Type as t, type Static, type TSchema } from "@sinclair/typebox";
export interface Address {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

export interface UserRecord {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  password_hash: string | null;
  is_active: boolean;
  is_admin: boolean;
  requires_password_change: boolean;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  middle_name: string | null;
  nickname: string | null;
  preferred_username: string | null;
  profile: string | null;
  picture: string | null;
  website: string | null;
  gender: string | null;
  birthdate: string | null;
  zoneinfo: string | null;
  locale: string | null;
  phone_number: string | null;
  phone_number_verified: boolean;
  address: Address | null;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}

// ---- Admin API schemas (TypeBox) ----

const Nullable = <T extends TSchema>(s: T) => t.Union([s, t.Null()]);

export const USERNAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$";
export const PASSWORD_MIN = 8;

export const AddressSchema = t.Object(
  {
    formatted: t.Optional(t.String({ maxLength: 500 })),
    street_address: t.Optional(t.String({ maxLength: 500 })),
    locality: t.Optional(t.String({ maxLength: 200 })),
    region: t.Optional(t.String({ maxLength: 200 })),
    postal_code: t.Optional(t.String({ maxLength: 50 })),
    country: t.Optional(t.String({ maxLength: 100 })),
  },
  { additionalProperties: false, description: "OIDC Core §5.1.1 address claim" },
);

/** The OIDC standard claims an admin may set (OIDC Core §5.1). */
const claimFields = {
  name: Nullable(t.String({ maxLength: 200 })),
  given_name: Nullable(t.String({ maxLength: 200 })),
  family_name: Nullable(t.String({ maxLength: 200 })),
  middle_name: Nullable(t.String({ maxLength: 200 })),
  nickname: Nullable(t.String({ maxLength: 200 })),
  preferred_username: Nullable(t.String({ maxLength: 200 })),
  profile: Nullable(t.String({ maxLength: 2000 })),
  picture: Nullable(t.String({ maxLength: 2000 })),
  website: Nullable(t.String({ maxLength: 2000 })),
  gender: Nullable(t.String({ maxLength: 50 })),
  birthdate: Nullable(t.String({ pattern: "^(\\d{4}|\\d{4}-\\d{2}-\\d{2}|0000-\\d{2}-\\d{2})$", description: "YYYY-MM-DD or YYYY" })),
  zoneinfo: Nullable(t.String({ maxLength: 100, description: "IANA time zone, e.g. Europe/Paris" })),
  locale: Nullable(t.String({ pattern: "^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$", description: "BCP 47, e.g. en-US" })),
  phone_number: Nullable(t.String({ maxLength: 50 })),
  phone_number_verified: t.Boolean(),
  address: Nullable(AddressSchema),
};

export const User = t.Object({
  id: t.String({ format: "uuid" }),
  username: t.String(),
  email: Nullable(t.String()),
  email_verified: t.Boolean(),
  is_active: t.Boolean(),
  is_admin: t.Boolean(),
  requires_password_change: t.Boolean(),
  name: Nullable(t.String()),
  given_name: Nullable(t.String()),
  family_name: Nullable(t.String()),
  middle_name: Nullable(t.String()),
  nickname: Nullable(t.String()),
  preferred_username: Nullable(t.String()),
  profile: Nullable(t.String()),
  picture: Nullable(t.String()),
  website: Nullable(t.String()),
  gender: Nullable(t.String()),
  birthdate: Nullable(t.String()),
  zoneinfo: Nullable(t.String()),
  locale: Nullable(t.String()),
  phone_number: Nullable(t.String()),
  phone_number_verified: t.Boolean(),
  address: Nullable(AddressSchema),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
  last_login_at: Nullable(t.String({ format: "date-time" })),
});
export type User = Static<typeof User>;

/** Login throttling in force for an account (src/accounts/authenticate.ts); shown by GET /admin/users and /admin/users/:id. */
export const LoginLock = t.Object({
  until: t.String({ format: "date-time", description: "When the last throttle of the account ends" }),
  failures: t.Integer({ description: "Failed sign-ins counted in the current window, from every source" }),
  locked_sources: t.Integer({ description: "Sources (IPv4 address or IPv6 /64) locked out of this account" }),
  slowed_down: t.Boolean({ description: "Sources the account never signed in from must wait (at most 60 s between guesses)" }),
});
export type LoginLock = Static<typeof LoginLock>;
export const UserWithLock = t.Intersect([User, t.Object({ login_lock: Nullable(LoginLock) })]);
export const UserUnlocked = t.Object({ id: t.String(), username: t.String(), cleared: t.Integer({ description: "Throttle records deleted" }), login_lock: t.Null() });

export const UserWithPassword = t.Intersect([User, t.Object({ generated_password: t.Optional(t.String({ description: "Shown once when no password was given" })) })]);
export const UserList = t.Object({ users: t.Array(UserWithLock), total: t.Integer(), limit: t.Integer(), offset: t.Integer() });

export const UserCreate = t.Object(
  {
    username: t.String({ pattern: USERNAME_PATTERN, description: "1-64 characters: letters, digits, . _ @ + -; unique ignoring case" }),
    email: t.Optional(Nullable(t.String({ maxLength: 254 }))),
    email_verified: t.Optional(t.Boolean()),
    password: t.Optional(t.String({ minLength: PASSWORD_MIN, maxLength: 1024, description: "Generated (and returned once) when absent" })),
    is_admin: t.Optional(t.Boolean()),
    is_active: t.Optional(t.Boolean()),
    requires_password_change: t.Optional(t.Boolean({ description: "Default: true when the password is generated" })),
    ...Object.fromEntries(Object.entries(claimFields).map(([k, v]) => [k, t.Optional(v)])),
  },
  { additionalProperties: false },
);
export type UserCreate = {
  username: string;
  email?: string | null;
  email_verified?: boolean;
  password?: string;
  is_admin?: boolean;
  is_active?: boolean;
  requires_password_change?: boolean;
} & Partial<Omit<UserRecord, "id" | "username" | "email" | "password_hash" | "created_at" | "updated_at" | "last_login_at">>;

export const UserUpdate = t.Object(
  {
    username: t.Optional(t.String({ pattern: USERNAME_PATTERN })),
    email: t.Optional(Nullable(t.String({ maxLength: 254 }))),
    email_verified: t.Optional(t.Boolean()),
    is_admin: t.Optional(t.Boolean()),
    is_active: t.Optional(t.Boolean()),
    requires_password_change: t.Optional(t.Boolean()),
    ...Object.fromEntries(Object.entries(claimFields).map(([k, v]) => [k, t.Optional(v)])),
  },
  { additionalProperties: false },
);
export type UserUpdate = Partial<Omit<UserRecord, "id" | "password_hash" | "created_at" | "updated_at" | "last_login_at">>;

export const ResetPassword = t.Object(
  {
    password: t.Optional(t.String({ minLength: PASSWORD_MIN, maxLength: 1024, description: "Generated (and returned once) when absent" })),
    requires_password_change: t.Optional(t.Boolean({ description: "Default true: the user picks a new password at the next login" })),
  },
  { additionalProperties: false },
);
export type ResetPassword = Static<typeof ResetPassword>;

export const PasswordReset = t.Object({ id: t.String(), password: t.Optional(t.String({ description: "The generated password, shown once" })), requires_password_change: t.Boolean() });
export const UserDeleted = t.Object({ id: t.String(), deleted: t.Union([t.Literal("soft"), t.Literal("hard")]) });

export const SessionInfo = t.Object({
  id: t.String(),
  auth_time: t.String({ format: "date-time" }),
  amr: t.Array(t.String()),
  user_agent: Nullable(t.String()),
  source_ip: Nullable(t.String()),
  created_at: t.String({ format: "date-time" }),
  last_seen_at: t.String({ format: "date-time" }),
  expires_at: t.String({ format: "date-time" }),
});
export const GrantInfo = t.Object({
  id: t.String(),
  client_id: t.String(),
  grant_type: t.String(),
  scope: t.String(),
  created_at: t.String({ format: "date-time" }),
  expires_at: t.String({ format: "date-time" }),
  active_access_tokens: t.Integer(),
  active_refresh_tokens: t.Integer(),
});
export const UserSessions = t.Object({ sessions: t.Array(SessionInfo), grants: t.Array(GrantInfo) });
export const SessionsRevoked = t.Object({ revoked_sessions: t.Integer(), revoked_grants: t.Integer(), revoked_access_tokens: t.Integer() });

export function toUser(r: UserRecord): User {
  const { password_hash: _hidden, created_at, updated_at, last_login_at, ...rest } = r;
  return {
    ...rest,
    created_at: created_at.toISOString(),
    updated_at: updated_at.toISOString(),
    last_login_at: last_login_at ? last_login_at.toISOString() : null,
  };
}

export const Me = t.Object({
  id: t.String(),
  username: t.String(),
  email: Nullable(t.String()),
  is_admin: t.Boolean(),
  requires_password_change: t.Boolean(),
  scopes: t.Array(t.String(), { description: "Scopes of the presented token" }),
  client_id: t.String({ description: "Client the token was issued to" }),
  token_expires_at: t.String({ format: "date-time" }),
});

export const ChangePassword = t.Object(
  {
    current_password: t.String({ minLength: 1, maxLength: 1024 }),
    new_password: t.String({ minLength: PASSWORD_MIN, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type ChangePassword = Static<typeof ChangePassword>;
export const PasswordChanged = t.Object({
  id: t.String(),
  requires_password_change: t.Boolean(),
  revoked_sessions: t.Integer({ description: "Other sessions ended (their clients get a back-channel logout)" }),
  revoked_grants: t.Integer({ description: "Other grants revoked with their refresh tokens" }),
  revoked_access_tokens: t.Integer({ description: "Other access tokens revoked" }),
});
