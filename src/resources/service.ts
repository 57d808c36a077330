// API resource administration: create (with the confidential client record its resource server
// authenticates with, secret shown once), list, show, partial update, soft/hard delete. Every write
// is audited in the same transaction. Also the lookups of the protocol endpoints (RFC 8707).
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { auditAdmin, type Actor } from "../audit/service";
import { createClientTx, deleteClientTx } from "../clients/service";
import { NotFoundError } from "../errors";
import { assertSchema, Problems, schemaProblems } from "../lib/validate";
import { scopeNameProblem } from "../scopes/model";
import {
  ResourceCreate, ResourceUpdate, resourceIdentifierProblem, toResource,
  type Resource, type ResourceRecord, type ResourceScope,
} from "./model";
import * as store from "./store";

export type { ResourceRecord } from "./model";

function checkScopes(p: Problems, scopes: { name: string; description?: string }[] | undefined): ResourceScope[] | undefined {
  if (!scopes) return undefined;
  const seen = new Set<string>();
  scopes.forEach((s, i) => {
    const problem = scopeNameProblem(s.name);
    if (problem) p.add(`scopes[${i}].name`, problem);
    else if (seen.has(s.name)) p.add(`scopes[${i}].name`, "is listed twice (scope names are unique within a resource)");
    seen.add(s.name);
  });
  return scopes.map((s) => ({ name: s.name, description: s.description ?? "" }));
}

export async function createResource(deps: Deps, actor: Actor, body: unknown): Promise<Resource & { client_secret?: string }> {
  const p = new Problems();
  p.addAll(schemaProblems(ResourceCreate, body));
  p.throwIfAny();
  const input = body as ResourceCreate;
  const idProblem = resourceIdentifierProblem(input.identifier);
  if (idProblem) p.add("identifier", idProblem);
  const scopes = checkScopes(p, input.scopes) ?? [];
  if (!input.name.trim()) p.add("name", "must not be blank");
  p.throwIfAny();
  return deps.sql.begin(async (tx) => {
    // The resource server's credentials: a confidential client record validated like any other.
    const creds = await createClientTx(deps, tx, actor, {
      client_name: `Resource server: ${input.name.trim()}`.slice(0, 200),
      client_type: "confidential",
      redirect_uris: [],
      grant_types: ["client_credentials"],
      token_endpoint_auth_method: input.token_endpoint_auth_method ?? "client_secret_basic",
      ...(input.jwks_uri !== undefined ? { jwks_uri: input.jwks_uri } : {}),
      ...(input.jwks !== undefined ? { jwks: input.jwks } : {}),
    }, { resourceServer: true, auditAction: "resource.credentials_create" });
    const row = await store.insertResource(tx, {
      identifier: input.identifier,
      name: input.name.trim(),
      scopes,
      access_token_ttl: input.access_token_ttl ?? null,
      access_token_alg: input.access_token_alg ?? null,
      may_introspect: input.may_introspect ?? true,
      allow_any_client: input.allow_any_client ?? false,
      credentials_client_id: creds.client_id,
      is_active: true,
    });
    await auditAdmin(deps, tx, actor, "resource.create", { type: "resource", id: row.identifier }, { name: row.name, client_id: creds.client_id });
    return creds.client_secret ? { ...toResource(row), client_secret: creds.client_secret } : toResource(row);
  });
}

export async function listResources(deps: Deps, includeInactive: boolean): Promise<{ resources: Resource[]; total: number }> {
  const rows = await store.listResources(deps.sql, includeInactive);
  return { resources: rows.map(toResource), total: rows.length };
}

export async function getResource(deps: Deps, identifier: string): Promise<Resource> {
  const row = await store.findResource(deps.sql, identifier);
  if (!row) throw notFound(identifier);
  return toResource(row);
}

export async function updateResource(deps: Deps, actor: Actor, identifier: string, body: unknown): Promise<Resource> {
  const patch = assertSchema<ResourceUpdate>(ResourceUpdate, body);
  const p = new Problems();
  const scopes = checkScopes(p, patch.scopes);
  if (patch.name !== undefined && !patch.name.trim()) p.add("name", "must not be blank");
  p.throwIfAny();
  return deps.sql.begin(async (tx) => {
    const cur = await store.lockResource(tx, identifier);
    if (!cur) throw notFound(identifier);
    const row = await store.updateResource(tx, identifier, {
      name: patch.name?.trim() ?? cur.name,
      scopes: scopes ?? cur.scopes,
      access_token_ttl: "access_token_ttl" in patch ? (patch.access_token_ttl ?? null) : cur.access_token_ttl,
      access_token_alg: "access_token_alg" in patch ? (patch.access_token_alg ?? null) : cur.access_token_alg,
      may_introspect: patch.may_introspect ?? cur.may_introspect,
      allow_any_client: patch.allow_any_client ?? cur.allow_any_client,
      is_active: patch.is_active ?? cur.is_active,
    });
    await auditAdmin(deps, tx, actor, "resource.update", { type: "resource", id: identifier }, { changed: Object.keys(patch) });
    return toResource(row);
  });
}

/** Soft delete deactivates the resource and its credentials; hard delete removes both and the
 *  resource's name from every client. Tokens already issued for it stay valid until they expire. */
export async function deleteResource(deps: Deps, actor: Actor, identifier: string, hard: boolean): Promise<{ identifier: string; deleted: "soft" | "hard" }> {
  return deps.sql.begin(async (tx) => {
    const cur = await store.lockResource(tx, identifier);
    if (!cur) throw notFound(identifier);
    if (hard) await store.deleteResource(tx, identifier);
    else await store.updateResource(tx, identifier, { ...cur, is_active: false });
    if (cur.credentials_client_id) await deleteClientTx(deps, tx, actor, cur.credentials_client_id, hard, { auditAction: "resource.credentials_delete" });
    await auditAdmin(deps, tx, actor, "resource.delete", { type: "resource", id: identifier }, { hard });
    return { identifier, deleted: hard ? ("hard" as const) : ("soft" as const) };
  });
}

// ---- lookups of the protocol endpoints ----

/** The resources among `identifiers`, any state (callers check is_active and the client's right). */
export function findResources(sql: Tx, identifiers: string[]): Promise<ResourceRecord[]> {
  return store.findResources(sql, identifiers);
}

/** The active resource whose server authenticates with this client_id, if any (introspection). */
export function findResourceByCredentials(sql: Tx, clientId: string): Promise<ResourceRecord | undefined> {
  return store.findResourceByCredentials(sql, clientId);
}

function notFound(identifier: string): NotFoundError {
  return new NotFoundError(`Resource '${identifier}' does not exist`);
}
