// Client administration: create (secret shown once), list, show, partial update, soft/hard delete,
// secret rotation with an optional grace period for the old secret. Every write is audited in the
// same transaction.
import type { Deps } from "../deps";
import { auditAdmin, type Actor } from "../audit/service";
import { ConflictError, NotFoundError } from "../errors";
import { destinationProblem, outboundPolicy, type OutboundPolicy } from "../lib/outbound";
import { assertSchema, Problems, schemaProblems } from "../lib/validate";
import { scopeNameProblem, splitScope } from "../scopes/model";
import { activeScopeNames } from "../scopes/store";
import { resourceIdentifierProblem } from "../resources/model";
import { findResources } from "../resources/store";
import type { Tx } from "../db/sql";
import {
  CLI_CLIENT_ID, ClientCreate, DEVICE_CODE_GRANT, ClientUpdate, RegenerateSecret, toClient,
  type Client, type ClientRecord,
} from "./model";
import { redirectUriProblem, webUrlProblem } from "./redirect-uri";
import { generateClientSecret, hashClientSecret } from "./secrets";
import * as store from "./store";

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function usesSecret(method: string): boolean {
  return method === "client_secret_basic" || method === "client_secret_post";
}

/** Per-field checks on the request body; each runs when the field passed the schema. */
function checkFields(p: Problems, body: Record<string, unknown>, outbound: OutboundPolicy): void {
  const arr = (f: string) => (Array.isArray(body[f]) && !p.has(f) ? (body[f] as unknown[]).filter((x): x is string => typeof x === "string") : undefined);
  for (const field of ["redirect_uris", "post_logout_redirect_uris"]) {
    const uris = arr(field);
    uris?.forEach((uri, i) => {
      const problem = redirectUriProblem(uri);
      if (problem) p.add(`${field}[${i}]`, problem);
      else if (uris.indexOf(uri) !== i) p.add(`${field}[${i}]`, "is listed twice");
    });
  }
  arr("contacts")?.forEach((m, i) => {
    if (!EMAIL.test(m)) p.add(`contacts[${i}]`, "must be an email address");
  });
  for (const field of ["client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri", "backchannel_logout_uri"]) {
    const v = body[field];
    if (typeof v !== "string" || p.has(field)) continue;
    const called = field === "jwks_uri" || field === "backchannel_logout_uri";
    // The server itself calls these two: a literal private/loopback address is refused here, and
    // every address a name resolves to is checked again when it is called (lib/outbound.ts).
    const problem = webUrlProblem(v, { httpsOnly: called }) ?? (called ? destinationProblem(v, outbound) : undefined);
    if (problem) p.add(field, problem);
  }
  const jwks = body.jwks as { keys?: unknown } | null | undefined;
  if (jwks && Array.isArray(jwks.keys) && !p.has("jwks")) {
    (jwks.keys as Record<string, unknown>[]).forEach((k, i) => {
      if (!k || typeof k !== "object" || typeof k.kty !== "string") p.add(`jwks.keys[${i}]`, "must have a kty");
      else if (PRIVATE_JWK_MEMBERS.some((m) => m in k)) p.add(`jwks.keys[${i}]`, "must be a public key (no private members)");
    });
  }
  arr("resources")?.forEach((r, i, all) => {
    const problem = resourceIdentifierProblem(r);
    if (problem) p.add(`resources[${i}]`, problem);
    else if (all.indexOf(r) !== i) p.add(`resources[${i}]`, "is listed twice");
  });
  if (typeof body.scope === "string" && !p.has("scope") && splitScope(body.scope).some((s) => scopeNameProblem(s))) {
    p.add("scope", "each scope must be printable ASCII without quotes or backslashes (RFC 6749 §3.3)");
  }
}

/** Checks across fields on the client as it would be stored (after a valid schema). */
async function checkClient(tx: Tx, p: Problems, c: store.ClientColumns, type: ClientRecord["client_type"], given: (f: string) => boolean): Promise<void> {
  // FAPI 2.0 Security Profile §5.3.2.1: a client put in FAPI mode must be one the profile allows.
  if (c.fapi_profile === "fapi2-security" && (given("fapi_profile") || given("token_endpoint_auth_method"))) {
    if (type !== "confidential") p.add("fapi_profile", "FAPI 2.0 Security Profile supports confidential clients only");
    else if (c.token_endpoint_auth_method !== "private_key_jwt") p.add("fapi_profile", "FAPI 2.0 Security Profile needs token_endpoint_auth_method private_key_jwt (mTLS is not supported)");
  }
  if (!p.has("grant_types") && (given("grant_types") || given("redirect_uris"))) {
    if (c.grant_types.includes("authorization_code") && c.redirect_uris.length === 0 && !p.has("redirect_uris")) {
      p.add("redirect_uris", "at least one redirect URI is needed for the authorization_code grant");
    }
    if (c.grant_types.includes("client_credentials") && type === "public") p.add("grant_types", "client_credentials needs a confidential client");
    if (c.grant_types.includes("refresh_token") && !c.grant_types.includes("authorization_code") && !c.grant_types.includes(DEVICE_CODE_GRANT)) {
      p.add("grant_types", `refresh_token is issued only with authorization_code or ${DEVICE_CODE_GRANT}`);
    }
  }
  if (given("scope") && !p.has("scope")) {
    const known = new Set(await activeScopeNames(tx, c.scopes));
    const unknown = c.scopes.filter((s) => !known.has(s));
    if (unknown.length) p.add("scope", `unknown or inactive scope(s): ${unknown.join(", ")}`);
  }
  if (!p.has("token_endpoint_auth_method") && ["token_endpoint_auth_method", "jwks", "jwks_uri"].some(given)) {
    const m = c.token_endpoint_auth_method;
    if (type === "public" && m !== "none") p.add("token_endpoint_auth_method", "a public client uses 'none'");
    if (type === "confidential" && m === "none") p.add("token_endpoint_auth_method", "a confidential client must authenticate (client_secret_basic, client_secret_post or private_key_jwt)");
    if (m === "private_key_jwt" && !c.jwks && !c.jwks_uri) p.add("jwks", "private_key_jwt needs jwks or jwks_uri");
  }
  if (c.jwks && c.jwks_uri) p.add("jwks_uri", "give jwks or jwks_uri, not both (RFC 7591 §2)");
  // RFC 8707: a client is allowed registered resources only; its default is one of them.
  if ((given("resources") || given("default_resource")) && !p.has("resources") && !p.has("default_resource")) {
    const resources = c.resources ?? [];
    if (given("resources") && resources.length) {
      const found = new Set((await findResources(tx, resources)).filter((r) => r.is_active).map((r) => r.identifier));
      const unknown = resources.filter((r) => !found.has(r));
      if (unknown.length) p.add("resources", `unknown or inactive resource(s): ${unknown.join(", ")}`);
    }
    if (c.default_resource && !resources.includes(c.default_resource)) p.add("default_resource", "must be one of the client's resources");
  }
}

/** Schema and per-field problems of a body, all at once. Throws when the shape is wrong;
 *  otherwise returns the problems so far for the cross-field checks to add to. */
function validateBody<T>(schema: Parameters<typeof schemaProblems>[0], body: unknown, outbound: OutboundPolicy): { value: T; p: Problems } {
  const p = new Problems();
  const shape = schemaProblems(schema, body);
  p.addAll(shape);
  if (body && typeof body === "object") checkFields(p, body as Record<string, unknown>, outbound);
  if (shape.length) p.throwIfAny();
  return { value: body as T, p };
}

/** How a client is created besides its metadata (the admin API passes none). */
export interface CreateOptions {
  /** The credentials of an API resource's server (resources/service.ts): it can authenticate
   *  (introspection) but has no grant type, redirect URI or response type. */
  resourceServer?: boolean;
  /** The audit action (client.create unless said). */
  auditAction?: string;
  /** Scope values that are not registered are left out instead of refused (RFC 7591 §2: dynamic
   *  registration may grant less than asked; the scopes of API resources are never client scopes). */
  dropUnknownScopes?: boolean;
}

/**
 * Client metadata (the admin API's and RFC 7591's alike) validated by the one client validator and
 * turned into the columns to store; throws ValidationError naming every bad field. Used by the
 * admin API, dynamic registration and client ID metadata documents.
 */
export async function validateNewClient(deps: Deps, tx: Tx, body: unknown, opts: CreateOptions = {}): Promise<{ columns: store.ClientColumns; clientType: ClientRecord["client_type"] }> {
  const { value: input, p } = validateBody<ClientCreate>(ClientCreate, body, outboundPolicy(deps.config));
  const method = input.token_endpoint_auth_method ?? (input.client_type === "public" ? "none" : "client_secret_basic");
  const grantTypes = [...new Set(input.grant_types ?? ["authorization_code", "refresh_token"])];
  const columns: store.ClientColumns = {
    client_name: input.client_name.trim(),
    redirect_uris: input.redirect_uris,
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
    scopes: splitScope(input.scope ?? ""),
    token_endpoint_auth_method: method,
    jwks: (input.jwks ?? null) as ClientRecord["jwks"],
    jwks_uri: input.jwks_uri ?? null,
    client_uri: input.client_uri ?? null,
    logo_uri: input.logo_uri ?? null,
    tos_uri: input.tos_uri ?? null,
    policy_uri: input.policy_uri ?? null,
    backchannel_logout_uri: input.backchannel_logout_uri ?? null,
    contacts: input.contacts ?? [],
    id_token_signed_response_alg: input.id_token_signed_response_alg ?? "RS256",
    require_consent: input.require_consent ?? true,
    resources: input.resources ?? [],
    default_resource: input.default_resource ?? null,
    mfa: input.mfa ?? null,
    require_pushed_authorization_requests: input.require_pushed_authorization_requests ?? false,
    dpop_bound_access_tokens: input.dpop_bound_access_tokens ?? false,
    fapi_profile: input.fapi_profile ?? null,
    is_active: true,
  };
  if (!columns.client_name) p.add("client_name", "must not be blank");
  if (opts.dropUnknownScopes && !p.has("scope")) columns.scopes = await activeScopeNames(tx, columns.scopes);
  await checkClient(tx, p, columns, input.client_type, () => true);
  p.throwIfAny();
  if (opts.resourceServer) Object.assign(columns, { grant_types: [], response_types: [], redirect_uris: [], require_consent: true });
  return { columns, clientType: input.client_type };
}

/** Creates a client inside the caller's transaction (so what hangs off it commits with it). */
export async function createClientTx(deps: Deps, tx: Tx, actor: Actor, body: unknown, opts: CreateOptions = {}): Promise<Client & { client_secret?: string }> {
  const { columns, clientType } = await validateNewClient(deps, tx, body, opts);
  const method = columns.token_endpoint_auth_method;
  const secret = usesSecret(method) ? generateClientSecret() : undefined;
  const row = await store.insertClient(tx, {
    ...columns,
    client_id: crypto.randomUUID(),
    client_type: clientType,
    secret_hash: secret ? hashClientSecret(deps, secret) : null,
  });
  await auditAdmin(deps, tx, actor, opts.auditAction ?? "client.create", { type: "client", id: row.client_id }, { client_type: row.client_type, client_name: row.client_name });
  return secret ? { ...toClient(row), client_secret: secret } : toClient(row);
}

export async function createClient(deps: Deps, actor: Actor, body: unknown, opts: CreateOptions = {}): Promise<Client & { client_secret?: string }> {
  return deps.sql.begin((tx) => createClientTx(deps, tx, actor, body, opts));
}

export async function listClients(deps: Deps, opts: { includeInactive: boolean; limit: number; offset: number }) {
  const { rows, total } = await store.listClients(deps.sql, opts);
  return { clients: rows.map(toClient), total, limit: opts.limit, offset: opts.offset };
}

/** The stored client (protocol code that needs more than the admin view: registration, secrets). */
export async function findClientRecord(deps: Deps, tx: Tx, clientId: string): Promise<ClientRecord | undefined> {
  return store.findClientByClientId(tx, clientId);
}

export async function getClient(deps: Deps, clientId: string): Promise<Client> {
  const row = await store.findClientByClientId(deps.sql, clientId);
  if (!row) throw notFound(clientId);
  return toClient(row);
}

export async function updateClient(deps: Deps, actor: Actor, clientId: string, body: unknown): Promise<Client & { client_secret?: string }> {
  return deps.sql.begin((tx) => updateClientTx(deps, tx, actor, clientId, body));
}

/** A partial update inside the caller's transaction (RFC 7592 rotates its token in the same one). */
export async function updateClientTx(deps: Deps, tx: Tx, actor: Actor, clientId: string, body: unknown, opts: { auditAction?: string; dropUnknownScopes?: boolean } = {}): Promise<Client & { client_secret?: string }> {
  const { value: patch, p } = validateBody<ClientUpdate>(ClientUpdate, body, outboundPolicy(deps.config));
  const given = (f: string) => f in patch;
  {
    const cur = await store.lockClient(tx, clientId);
    if (!cur) throw notFound(clientId);
    const grantTypes = patch.grant_types ? [...new Set(patch.grant_types)] : cur.grant_types;
    const next: store.ClientColumns = {
      client_name: patch.client_name?.trim() ?? cur.client_name,
      redirect_uris: patch.redirect_uris ?? cur.redirect_uris,
      post_logout_redirect_uris: patch.post_logout_redirect_uris ?? cur.post_logout_redirect_uris,
      grant_types: grantTypes,
      response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
      scopes: patch.scope !== undefined ? splitScope(patch.scope) : cur.scopes,
      token_endpoint_auth_method: patch.token_endpoint_auth_method ?? cur.token_endpoint_auth_method,
      jwks: given("jwks") ? ((patch.jwks ?? null) as ClientRecord["jwks"]) : cur.jwks,
      jwks_uri: given("jwks_uri") ? (patch.jwks_uri ?? null) : cur.jwks_uri,
      client_uri: given("client_uri") ? (patch.client_uri ?? null) : cur.client_uri,
      logo_uri: given("logo_uri") ? (patch.logo_uri ?? null) : cur.logo_uri,
      tos_uri: given("tos_uri") ? (patch.tos_uri ?? null) : cur.tos_uri,
      policy_uri: given("policy_uri") ? (patch.policy_uri ?? null) : cur.policy_uri,
      backchannel_logout_uri: given("backchannel_logout_uri") ? (patch.backchannel_logout_uri ?? null) : cur.backchannel_logout_uri,
      contacts: patch.contacts ?? cur.contacts,
      id_token_signed_response_alg: patch.id_token_signed_response_alg ?? cur.id_token_signed_response_alg,
      require_consent: patch.require_consent ?? cur.require_consent,
      resources: patch.resources ?? cur.resources,
      default_resource: given("default_resource") ? (patch.default_resource ?? null) : cur.default_resource,
      mfa: given("mfa") ? (patch.mfa ?? null) : cur.mfa,
      require_pushed_authorization_requests: patch.require_pushed_authorization_requests ?? cur.require_pushed_authorization_requests,
      dpop_bound_access_tokens: patch.dpop_bound_access_tokens ?? cur.dpop_bound_access_tokens,
      fapi_profile: given("fapi_profile") ? (patch.fapi_profile ?? null) : cur.fapi_profile,
      is_active: patch.is_active ?? cur.is_active,
    };
    if (given("client_name") && !next.client_name) p.add("client_name", "must not be blank");
    if (opts.dropUnknownScopes && given("scope") && !p.has("scope")) next.scopes = await activeScopeNames(tx, next.scopes);
    // The first-party CLI client keeps its password grant, which the admin API never grants.
    if (cur.is_first_party && (given("grant_types") || given("token_endpoint_auth_method"))) {
      throw new ConflictError(`'${clientId}' is a built-in first-party client: its grant types and authentication cannot change`);
    }
    await checkClient(tx, p, next, cur.client_type, given);
    p.throwIfAny();
    // Switching to a secret-based method mints a secret; switching away removes the old one.
    let secret: string | undefined;
    let secretHash: string | null | undefined;
    if (usesSecret(next.token_endpoint_auth_method) && !cur.secret_hash) {
      secret = generateClientSecret();
      secretHash = hashClientSecret(deps, secret);
    } else if (!usesSecret(next.token_endpoint_auth_method) && cur.secret_hash) secretHash = null;
    const row = await store.updateClient(tx, clientId, { ...next, secret_hash: secretHash });
    if (cur.is_active && !row.is_active) await store.revokeClientGrants(tx, clientId, "client_deactivated");
    await auditAdmin(deps, tx, actor, opts.auditAction ?? "client.update", { type: "client", id: clientId }, { changed: Object.keys(patch), secret_issued: Boolean(secret) });
    return secret ? { ...toClient(row), client_secret: secret } : toClient(row);
  }
}

export async function deleteClient(deps: Deps, actor: Actor, clientId: string, hard: boolean): Promise<{ client_id: string; deleted: "soft" | "hard" }> {
  return deps.sql.begin((tx) => deleteClientTx(deps, tx, actor, clientId, hard));
}

/** Soft or hard delete inside the caller's transaction (a resource or a registration goes with its client). */
export async function deleteClientTx(deps: Deps, tx: Tx, actor: Actor, clientId: string, hard: boolean, opts: { auditAction?: string } = {}): Promise<{ client_id: string; deleted: "soft" | "hard" }> {
  {
    const cur = await store.lockClient(tx, clientId);
    if (!cur) throw notFound(clientId);
    if (cur.client_id === CLI_CLIENT_ID) throw new ConflictError(`'${CLI_CLIENT_ID}' is the built-in admin CLI client and cannot be deleted; deactivate it with is_active=false`);
    if (hard) await store.deleteClient(tx, clientId);
    else {
      await store.updateClient(tx, clientId, { ...cur, is_active: false });
      await store.revokeClientGrants(tx, clientId, "client_deleted");
    }
    await auditAdmin(deps, tx, actor, opts.auditAction ?? "client.delete", { type: "client", id: clientId }, { hard });
    return { client_id: clientId, deleted: hard ? ("hard" as const) : ("soft" as const) };
  }
}

export async function regenerateSecret(deps: Deps, actor: Actor, clientId: string, body: unknown) {
  const input = assertSchema<RegenerateSecret>(RegenerateSecret, body);
  const grace = input.grace_period_seconds ?? 0;
  return deps.sql.begin(async (tx) => {
    const cur = await store.lockClient(tx, clientId);
    if (!cur) throw notFound(clientId);
    if (!usesSecret(cur.token_endpoint_auth_method)) {
      throw new ConflictError(`Client '${clientId}' authenticates with ${cur.token_endpoint_auth_method} and has no secret`);
    }
    const secret = generateClientSecret();
    const previousExpiresAt = grace > 0 && cur.secret_hash ? new Date(Date.now() + grace * 1000) : null;
    await store.rotateClientSecret(tx, clientId, hashClientSecret(deps, secret), previousExpiresAt);
    await auditAdmin(deps, tx, actor, "client.secret_regenerate", { type: "client", id: clientId }, { grace_period_seconds: grace });
    return { client_id: clientId, client_secret: secret, previous_secret_expires_at: previousExpiresAt?.toISOString() ?? null };
  });
}

function notFound(clientId: string): NotFoundError {
  return new NotFoundError(`Client '${clientId}' does not exist`);
}
