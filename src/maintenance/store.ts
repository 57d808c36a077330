// SQL of the purge job: deletes rows that no rule needs any more, in bounded batches. Several
// nodes may run it at once: `FOR UPDATE SKIP LOCKED` lets concurrent purgers take different rows.
import type { Tx } from "../db/sql";

/** keys/service.ts MAX_TOKEN_LIFETIME_SECONDS: no access token lives longer. */
const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 86_400;

export interface PurgeRule {
  /** Table name (also the name in reports and metrics). */
  table: string;
  /** Deletes at most `limit` purgeable rows; returns how many it deleted. */
  purge(sql: Tx, limit: number, graceSeconds: number, loginWindowSeconds: number): Promise<number>;
}

/** Rows whose `expires_at` passed more than `grace` seconds ago (table names are constants). */
function expiredAfterGrace(table: string): PurgeRule {
  return {
    table,
    purge: async (sql, limit, grace) => (await sql`
      DELETE FROM ${sql(table)} WHERE ctid IN (
        SELECT ctid FROM ${sql(table)} WHERE expires_at < now() - make_interval(secs => ${grace})
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  };
}

// Every rule keeps a row for `grace` seconds past its expiry: a replayed code or a rotated refresh
// token is still recognised (and its grant revoked) for a while after it stopped being usable.
export const PURGE_RULES: PurgeRule[] = [
  expiredAfterGrace("authorization_codes"),
  expiredAfterGrace("access_tokens"),
  expiredAfterGrace("refresh_tokens"),
  // The sources an account signed in from (login throttling), remembered until expires_at.
  expiredAfterGrace("login_known_sources"),
  // Initial access tokens of dynamic registration (issue 14); a registration keeps no FK to a purged one.
  expiredAfterGrace("registration_tokens"),
  // Sign-ups waiting for their address, and invite links (issue 17): a password hash does not outlive its request.
  expiredAfterGrace("signup_requests"),
  expiredAfterGrace("signup_invites"),
  {
    // A grant's expires_at is pushed past every refresh token issued from it, and past every access
    // token but one issued just before the grant's absolute end; access tokens of a grant are not
    // recorded (they are live while their grant is), so a grant is kept at least the longest access
    // token lifetime past its expiry. The NOT EXISTS guards against a writer that forgot to extend it.
    table: "grants",
    purge: async (sql, limit, grace) => (await sql`
      DELETE FROM grants WHERE ctid IN (
        SELECT g.ctid FROM grants g
        WHERE g.expires_at < now() - make_interval(secs => ${Math.max(grace, MAX_ACCESS_TOKEN_LIFETIME_SECONDS)})
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.expires_at > now())
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.expires_at > now())
        LIMIT ${limit} FOR UPDATE OF g SKIP LOCKED)`).count,
  },
  {
    table: "sessions",
    purge: async (sql, limit, grace) => (await sql`
      DELETE FROM sessions WHERE ctid IN (
        SELECT ctid FROM sessions
        WHERE least(expires_at, idle_expires_at, coalesce(revoked_at, 'infinity'::timestamptz)) < now() - make_interval(secs => ${grace})
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
  expiredAfterGrace("interactions"),
  // Device codes (RFC 8628): kept for the grace period too, so a late poll still reads expired_token.
  expiredAfterGrace("device_codes"),
  // WebAuthn challenges are single-use and live minutes (src/authn/webauthn.ts).
  expiredAfterGrace("webauthn_challenges"),
  // Pushed authorization requests (RFC 9126): single use, expired after AUTHLY_PAR_TTL.
  expiredAfterGrace("pushed_authorization_requests"),
  {
    // A DPoP proof's jti is kept until its iat window has passed (RFC 9449 §11.1); not longer.
    table: "dpop_jtis",
    purge: async (sql, limit) => (await sql`
      DELETE FROM dpop_jtis WHERE ctid IN (
        SELECT ctid FROM dpop_jtis WHERE expires_at < now()
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
  {
    table: "client_assertion_jtis",
    // A jti must stay until the assertion it came from has expired (RFC 7523 §3 replay); not longer.
    purge: async (sql, limit) => (await sql`
      DELETE FROM client_assertion_jtis WHERE ctid IN (
        SELECT ctid FROM client_assertion_jtis WHERE expires_at < now()
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
  {
    // Logout tokens from upstreams (src/authn/upstream/logout-token.ts): kept while a replay could pass the iat window.
    table: "upstream_logout_jtis",
    purge: async (sql, limit) => (await sql`
      DELETE FROM upstream_logout_jtis WHERE ctid IN (
        SELECT ctid FROM upstream_logout_jtis WHERE expires_at < now()
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
  {
    // Windows are at most an hour long (admin: 60 s, password grant: 60 s); a day keeps every open one.
    table: "rate_limits",
    purge: async (sql, limit) => (await sql`
      DELETE FROM rate_limits WHERE ctid IN (
        SELECT ctid FROM rate_limits WHERE window_start < now() - interval '1 day'
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
  {
    // A failure older than the counting window no longer counts, and an expired lockout no longer
    // locks (login-store.ts restarts the count at one for both).
    table: "login_failures",
    purge: async (sql, limit, _grace, window) => (await sql`
      DELETE FROM login_failures WHERE ctid IN (
        SELECT ctid FROM login_failures
        WHERE (locked_until IS NULL OR locked_until < now())
          AND last_failure_at < now() - make_interval(secs => ${window})
        LIMIT ${limit} FOR UPDATE SKIP LOCKED)`).count,
  },
];
