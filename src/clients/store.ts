// SQL of OAuth clients (table clients) and of what hangs off a client by its client_id (grants,
// tokens, codes, consents) when it is deactivated or deleted.
import type { Sql, Tx } from "../db/sql";
import { BatchLoader, loaderFor } from "../lib/batch-loader";
import { isValidText } from "../lib/text";
import { ConflictError, isDatabaseUnavailable } from "../errors";
import type { ClientRecord } from "./model";
import { clientChanged } from "../db/notify";

export async function findClientByClientId(sql: Tx, clientId: string): Promise<ClientRecord | undefined> {
  // A client_id that is not valid text (NUL, lone surrogate) names no client and never reaches SQL.
  if (!isValidText(clientId)) return undefined;
  const [row] = await sql<ClientRecord[]>`SELECT * FROM clients WHERE client_id = ${clientId}`;
  return row;
}

const clientLoaders = new WeakMap<Sql, BatchLoader<string, ClientRecord>>();
/** Keys that are not text never reach SQL; a failed batch is retried per key unless the database is away. */
const LOADER_OPTIONS = { impossibleKey: (id: string) => !isValidText(id), retryAlone: (err: unknown) => !isDatabaseUnavailable(err) };

/** findClientByClientId for the pool, micro-batched: concurrent lookups share one query. */
export function loadClient(sql: Sql, clientId: string): Promise<ClientRecord | undefined> {
  return loaderFor(clientLoaders, sql, (pool) => async (ids: string[]) => {
    const rows = await pool<ClientRecord[]>`SELECT * FROM clients WHERE client_id = ANY(${ids})`;
    return new Map(rows.map((r) => [r.client_id, r]));
  }, LOADER_OPTIONS).load(clientId);
}

/** The writable columns of a client (everything but ids, secrets and timestamps). */
export type ClientColumns = Pick<
  ClientRecord,
  | "client_name" | "redirect_uris" | "post_logout_redirect_uris" | "grant_types" | "response_types" | "scopes"
  | "token_endpoint_auth_method" | "jwks" | "jwks_uri" | "client_uri" | "logo_uri" | "tos_uri" | "policy_uri"
  | "contacts" | "id_token_signed_response_alg" | "require_consent" | "is_active"
> & { backchannel_logout_uri?: string | null; resources?: string[]; default_resource?: string | null; mfa?: ClientRecord["mfa"]; require_pushed_authorization_requests?: boolean; dpop_bound_access_tokens?: boolean; fapi_profile?: ClientRecord["fapi_profile"] };

export interface NewClient extends ClientColumns {
  client_id: string;
  client_type: ClientRecord["client_type"];
  secret_hash: string | null;
  is_first_party?: boolean;
}

export async function insertClient(sql: Tx, c: NewClient): Promise<ClientRecord> {
  try {
    const [row] = await sql<ClientRecord[]>`
      INSERT INTO clients (client_id, client_type, client_name, secret_hash, redirect_uris, post_logout_redirect_uris,
        grant_types, response_types, scopes, token_endpoint_auth_method, jwks, jwks_uri, client_uri, logo_uri, tos_uri,
        policy_uri, backchannel_logout_uri, contacts, id_token_signed_response_alg, require_consent, is_first_party, is_active,
        resources, default_resource, mfa, require_pushed_authorization_requests, dpop_bound_access_tokens, fapi_profile)
      VALUES (${c.client_id}, ${c.client_type}, ${c.client_name}, ${c.secret_hash}, ${c.redirect_uris}::text[],
        ${c.post_logout_redirect_uris}::text[], ${c.grant_types}::text[], ${c.response_types}::text[], ${c.scopes}::text[],
        ${c.token_endpoint_auth_method}, ${c.jwks ? sql.json(c.jwks as never) : null}, ${c.jwks_uri}, ${c.client_uri},
        ${c.logo_uri}, ${c.tos_uri}, ${c.policy_uri}, ${c.backchannel_logout_uri ?? null}, ${c.contacts}::text[], ${c.id_token_signed_response_alg},
        ${c.require_consent}, ${c.is_first_party ?? false}, ${c.is_active}, ${c.resources ?? []}::text[], ${c.default_resource ?? null}, ${c.mfa ?? null},
        ${c.require_pushed_authorization_requests ?? false}, ${c.dpop_bound_access_tokens ?? false}, ${c.fapi_profile ?? null})
      RETURNING *`;
    return row!;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new ConflictError(`A client with client_id '${c.client_id}' already exists`);
    throw err;
  }
}

/** Inserts unless the client_id exists (bootstrap, seed); true when inserted. */
export async function insertClientIfMissing(sql: Tx, c: NewClient): Promise<boolean> {
  const [row] = await sql<{ client_id: string }[]>`SELECT client_id FROM clients WHERE client_id = ${c.client_id}`;
  if (row) return false;
  await insertClient(sql, c);
  return true;
}

export async function lockClient(sql: Tx, clientId: string): Promise<ClientRecord | undefined> {
  const [row] = await sql<ClientRecord[]>`SELECT * FROM clients WHERE client_id = ${clientId} FOR UPDATE`;
  return row;
}

export async function updateClient(sql: Tx, clientId: string, c: ClientColumns & { secret_hash?: string | null }): Promise<ClientRecord> {
  clientChanged(clientId);
  const [row] = await sql<ClientRecord[]>`
    UPDATE clients SET
      client_name = ${c.client_name}, redirect_uris = ${c.redirect_uris}::text[],
      post_logout_redirect_uris = ${c.post_logout_redirect_uris}::text[], grant_types = ${c.grant_types}::text[],
      response_types = ${c.response_types}::text[], scopes = ${c.scopes}::text[],
      token_endpoint_auth_method = ${c.token_endpoint_auth_method}, jwks = ${c.jwks ? sql.json(c.jwks as never) : null},
      jwks_uri = ${c.jwks_uri}, client_uri = ${c.client_uri}, logo_uri = ${c.logo_uri}, tos_uri = ${c.tos_uri},
      policy_uri = ${c.policy_uri}, backchannel_logout_uri = ${c.backchannel_logout_uri === undefined ? sql`backchannel_logout_uri` : c.backchannel_logout_uri}, contacts = ${c.contacts}::text[],
      id_token_signed_response_alg = ${c.id_token_signed_response_alg}, require_consent = ${c.require_consent},
      is_active = ${c.is_active},
      resources = ${c.resources === undefined ? sql`resources` : sql`${c.resources}::text[]`},
      default_resource = ${c.default_resource === undefined ? sql`default_resource` : c.default_resource},
      mfa = ${c.mfa === undefined ? sql`mfa` : c.mfa},
      require_pushed_authorization_requests = ${c.require_pushed_authorization_requests === undefined ? sql`require_pushed_authorization_requests` : c.require_pushed_authorization_requests},
      dpop_bound_access_tokens = ${c.dpop_bound_access_tokens === undefined ? sql`dpop_bound_access_tokens` : c.dpop_bound_access_tokens},
      fapi_profile = ${c.fapi_profile === undefined ? sql`fapi_profile` : c.fapi_profile},
      secret_hash = ${c.secret_hash === undefined ? sql`secret_hash` : c.secret_hash},
      updated_at = now()
    WHERE client_id = ${clientId}
    RETURNING *`;
  return row!;
}

export async function listClients(sql: Tx, opts: { includeInactive: boolean; limit: number; offset: number }): Promise<{ rows: ClientRecord[]; total: number }> {
  const rows = await sql<ClientRecord[]>`
    SELECT * FROM clients WHERE ${opts.includeInactive} OR is_active
    ORDER BY created_at, id LIMIT ${opts.limit} OFFSET ${opts.offset}`;
  const [count] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM clients WHERE ${opts.includeInactive} OR is_active`;
  return { rows, total: count!.n };
}

/** Secret rotation: the new hash becomes current; the old one works until `previousExpiresAt`. */
export async function rotateClientSecret(sql: Tx, clientId: string, newHash: string, previousExpiresAt: Date | null): Promise<ClientRecord> {
  clientChanged(clientId);
  const [row] = await sql<ClientRecord[]>`
    UPDATE clients SET
      previous_secret_hash = ${previousExpiresAt ? sql`secret_hash` : null},
      previous_secret_expires_at = ${previousExpiresAt},
      secret_hash = ${newHash},
      updated_at = now()
    WHERE client_id = ${clientId}
    RETURNING *`;
  return row!;
}

/** Revokes every live grant (and so its refresh and access tokens) and every client token of a client. */
export async function revokeClientGrants(sql: Tx, clientId: string, reason: string): Promise<number> {
  const r = await sql`UPDATE grants SET revoked_at = now(), revoked_reason = ${reason} WHERE client_id = ${clientId} AND revoked_at IS NULL`;
  await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE client_id = ${clientId} AND revoked_at IS NULL`;
  await sql`UPDATE access_tokens SET revoked_at = now() WHERE client_id = ${clientId} AND revoked_at IS NULL AND expires_at > now()`;
  // Client tokens (client_credentials) are not recorded: every one issued up to now is revoked.
  clientChanged(clientId);
  await sql`UPDATE clients SET access_tokens_revoked_at = now() WHERE client_id = ${clientId}`;
  return r.count;
}

/** Hard delete: the client and everything issued to it. */
export async function deleteClient(sql: Tx, clientId: string): Promise<void> {
  await sql`DELETE FROM authorization_codes WHERE client_id = ${clientId}`;
  await sql`DELETE FROM access_tokens WHERE client_id = ${clientId}`;
  await sql`DELETE FROM grants WHERE client_id = ${clientId}`;
  await sql`DELETE FROM refresh_tokens WHERE client_id = ${clientId}`;
  await sql`DELETE FROM consents WHERE client_id = ${clientId}`;
  await sql`DELETE FROM interactions WHERE client_id = ${clientId}`;
  await sql`DELETE FROM client_assertion_jtis WHERE client_id = ${clientId}`;
  await sql`DELETE FROM pushed_authorization_requests WHERE client_id = ${clientId}`;
  clientChanged(clientId);
  await sql`DELETE FROM clients WHERE client_id = ${clientId}`;
}
