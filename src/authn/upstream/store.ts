// SQL of federation: upstream_idps, user_identities (one local user per provider subject) and
// upstream_flows (the state of a sign-in in progress at an upstream, single use).
import type { Tx } from "../../db/sql";
import { ConflictError } from "../../errors";
import { hasUuidShape, isValidText } from "../../lib/text";
import type { IdpRecord, MappedProfile } from "./model";

export type IdpColumns = Omit<IdpRecord, "id" | "created_at" | "updated_at">;

export async function insertIdp(sql: Tx, c: IdpColumns): Promise<IdpRecord> {
  try {
    const [row] = await sql<IdpRecord[]>`
      INSERT INTO upstream_idps (slug, name, kind, issuer, authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri, client_id, client_secret_sealed,
                                 token_endpoint_auth_method, client_key_kid, client_key_alg, client_key_public, client_key_sealed, scopes, claim_mapping, create_users, is_enabled)
      VALUES (${c.slug}, ${c.name}, ${c.kind}, ${c.issuer}, ${c.authorization_endpoint}, ${c.token_endpoint}, ${c.userinfo_endpoint}, ${c.jwks_uri}, ${c.client_id},
              ${c.client_secret_sealed}, ${c.token_endpoint_auth_method}, ${c.client_key_kid}, ${c.client_key_alg},
              ${c.client_key_public ? sql.json(c.client_key_public as never) : null}, ${c.client_key_sealed}, ${c.scopes}, ${sql.json(c.claim_mapping as never)}, ${c.create_users}, ${c.is_enabled})
      RETURNING *`;
    return row!;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new ConflictError(`An identity provider '${c.slug}' already exists`);
    throw err;
  }
}

export async function findIdpBySlug(sql: Tx, slug: string | null | undefined): Promise<IdpRecord | undefined> {
  // A path segment that is not valid percent-encoded UTF-8 reaches here as null.
  if (typeof slug !== "string" || !isValidText(slug)) return undefined;
  const [row] = await sql<IdpRecord[]>`SELECT * FROM upstream_idps WHERE slug = ${slug}`;
  return row;
}

export async function findIdpById(sql: Tx, id: string): Promise<IdpRecord | undefined> {
  const [row] = await sql<IdpRecord[]>`SELECT * FROM upstream_idps WHERE id = ${id}`;
  return row;
}

export async function listIdps(sql: Tx, enabledOnly: boolean): Promise<IdpRecord[]> {
  return enabledOnly
    ? sql<IdpRecord[]>`SELECT * FROM upstream_idps WHERE is_enabled ORDER BY name, slug`
    : sql<IdpRecord[]>`SELECT * FROM upstream_idps ORDER BY name, slug`;
}

export async function updateIdp(sql: Tx, id: string, c: Partial<IdpColumns>): Promise<IdpRecord | undefined> {
  const cols: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (v !== undefined) cols[k] = (k === "claim_mapping" || k === "client_key_public") && v !== null ? sql.json(v as never) : v;
  if (!Object.keys(cols).length) return findIdpById(sql, id);
  const [row] = await sql<IdpRecord[]>`UPDATE upstream_idps SET ${sql(cols as never, Object.keys(cols) as never)}, updated_at = now() WHERE id = ${id} RETURNING *`;
  return row;
}

export async function deleteIdp(sql: Tx, id: string): Promise<boolean> {
  const rows = await sql`DELETE FROM upstream_idps WHERE id = ${id}`;
  return rows.count > 0;
}

// ---- linked identities ----

export interface IdentityRow {
  id: string;
  user_id: string;
  idp_id: string;
  subject: string;
  email: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export type IdentityView = IdentityRow & { idp_slug: string; idp_name: string };

export async function findIdentity(sql: Tx, idpId: string, subject: string): Promise<IdentityRow | undefined> {
  const [row] = await sql<IdentityRow[]>`SELECT * FROM user_identities WHERE idp_id = ${idpId} AND subject = ${subject}`;
  return row;
}

/** Links (idp, subject) to the user; undefined when that subject is already linked (to anyone). */
export async function insertIdentity(sql: Tx, r: { userId: string; idpId: string; subject: string; email: string | null }): Promise<IdentityRow | undefined> {
  const [row] = await sql<IdentityRow[]>`
    INSERT INTO user_identities (user_id, idp_id, subject, email, last_used_at) VALUES (${r.userId}, ${r.idpId}, ${r.subject}, ${r.email}, now())
    ON CONFLICT (idp_id, subject) DO NOTHING RETURNING *`;
  return row;
}

export async function touchIdentity(sql: Tx, id: string): Promise<void> {
  await sql`UPDATE user_identities SET last_used_at = now() WHERE id = ${id}`;
}

export async function listUserIdentities(sql: Tx, userId: string): Promise<IdentityView[]> {
  return sql<IdentityView[]>`
    SELECT i.*, p.slug AS idp_slug, p.name AS idp_name FROM user_identities i JOIN upstream_idps p ON p.id = i.idp_id
    WHERE i.user_id = ${userId} ORDER BY p.name, i.created_at`;
}

export async function deleteUserIdentity(sql: Tx, userId: string, id: string): Promise<boolean> {
  if (!hasUuidShape(id)) return false;
  const rows = await sql`DELETE FROM user_identities WHERE id = ${id} AND user_id = ${userId}`;
  return rows.count > 0;
}

// ---- flows in progress ----

export interface FlowRow {
  state_hash: string;
  browser_hash: string;
  idp_id: string;
  nonce: string;
  code_verifier: string;
  interaction_sealed: string | null;
  link_session_id: string | null;
  expires_at: Date;
}

export async function insertFlow(sql: Tx, r: Omit<FlowRow, "expires_at">, ttlSeconds: number): Promise<void> {
  // Abandoned flows go with the next one started (no job needed).
  await sql`DELETE FROM upstream_flows WHERE expires_at < now()`;
  await sql`
    INSERT INTO upstream_flows (state_hash, browser_hash, idp_id, nonce, code_verifier, interaction_sealed, link_session_id, expires_at)
    VALUES (${r.state_hash}, ${r.browser_hash}, ${r.idp_id}, ${r.nonce}, ${r.code_verifier}, ${r.interaction_sealed}, ${r.link_session_id}, now() + make_interval(secs => ${ttlSeconds}))`;
}

/** Takes the flow of a state (single use: a second callback with the same state finds nothing). */
export async function takeFlow(sql: Tx, stateHash: string): Promise<FlowRow | undefined> {
  const [row] = await sql<FlowRow[]>`DELETE FROM upstream_flows WHERE state_hash = ${stateHash} AND expires_at > now() RETURNING *`;
  return row;
}

// ---- just-in-time users ----

/** Whether a local account has this email (any verification state; emails are unique ignoring case). */
export async function emailInUse(sql: Tx, email: string): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower(${email})`;
  return (row?.n ?? 0) > 0;
}

/** A user without a password from an upstream's mapped claims; undefined when the username or email is taken. */
export async function insertFederatedUser(sql: Tx, username: string, p: MappedProfile): Promise<{ id: string } | undefined> {
  const [user] = await sql<{ id: string }[]>`
    INSERT INTO users (username, email, email_verified, name, given_name, family_name, picture, locale)
    VALUES (${username}, ${p.email ?? null}, ${p.email ? p.emailVerified : false}, ${p.name ?? null}, ${p.given_name ?? null},
            ${p.family_name ?? null}, ${p.picture ?? null}, ${p.locale ?? null})
    ON CONFLICT DO NOTHING RETURNING id`;
  return user;
}

// ---- back-channel logout from the upstream ----

/** Records a logout token's jti for its provider; false when it was seen before (a replay). */
export async function recordLogoutJti(sql: Tx, idpId: string, jtiHash: string, expiresAt: Date): Promise<boolean> {
  // Stale rows of this provider go with the next token (the purge job also clears them).
  await sql`DELETE FROM upstream_logout_jtis WHERE idp_id = ${idpId} AND expires_at < now()`;
  const rows = await sql`
    INSERT INTO upstream_logout_jtis (idp_id, jti_hash, expires_at) VALUES (${idpId}, ${jtiHash}, ${expiresAt})
    ON CONFLICT (idp_id, jti_hash) DO NOTHING RETURNING jti_hash`;
  return rows.length > 0;
}

/** Ends the live sessions signed in through a provider that a logout token names (Back-Channel
 *  Logout §2.7): by `sid` (and `sub` when both are given), or every session of `sub`. */
export async function revokeUpstreamSessions(sql: Tx, idpId: string, by: { sub?: string; sid?: string }): Promise<{ id: string; user_id: string }[]> {
  const sub = by.sub ?? null;
  const sid = by.sid ?? null;
  return sql<{ id: string; user_id: string }[]>`
    UPDATE sessions SET revoked_at = now()
    WHERE upstream_idp_id = ${idpId} AND revoked_at IS NULL
      AND (${sid}::text IS NULL OR upstream_sid = ${sid}::text)
      AND (${sub}::text IS NULL OR upstream_sub = ${sub}::text)
    RETURNING id, user_id`;
}
