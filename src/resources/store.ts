// SQL of API resources (table api_resources) and of the client columns that name resources when a
// resource goes away. Unique violations become ConflictError.
import { clientChanged, EVERY_CLIENT } from "../db/notify";
import type { Tx } from "../db/sql";
import { ConflictError } from "../errors";
import { isValidText } from "../lib/text";
import type { ResourceRecord, ResourceScope } from "./model";

export interface ResourceColumns {
  name: string;
  scopes: ResourceScope[];
  access_token_ttl: number | null;
  access_token_alg: ResourceRecord["access_token_alg"];
  may_introspect: boolean;
  allow_any_client: boolean;
  is_active: boolean;
}

export async function findResource(sql: Tx, identifier: string): Promise<ResourceRecord | undefined> {
  if (!isValidText(identifier)) return undefined;
  const [row] = await sql<ResourceRecord[]>`SELECT * FROM api_resources WHERE identifier = ${identifier}`;
  return row;
}

/** The resources among `identifiers` (any state), by identifier. */
export async function findResources(sql: Tx, identifiers: string[]): Promise<ResourceRecord[]> {
  const names = identifiers.filter(isValidText);
  if (!names.length) return [];
  return sql<ResourceRecord[]>`SELECT * FROM api_resources WHERE identifier = ANY(${names}::text[])`;
}

/** The active resource whose resource server authenticates as this client. */
export async function findResourceByCredentials(sql: Tx, clientId: string): Promise<ResourceRecord | undefined> {
  const [row] = await sql<ResourceRecord[]>`SELECT * FROM api_resources WHERE credentials_client_id = ${clientId} AND is_active`;
  return row;
}

export async function insertResource(sql: Tx, r: ResourceColumns & { identifier: string; credentials_client_id: string | null }): Promise<ResourceRecord> {
  try {
    const [row] = await sql<ResourceRecord[]>`
      INSERT INTO api_resources (identifier, name, scopes, access_token_ttl, access_token_alg, may_introspect, allow_any_client, credentials_client_id, is_active)
      VALUES (${r.identifier}, ${r.name}, ${sql.json(r.scopes as never)}, ${r.access_token_ttl}, ${r.access_token_alg}, ${r.may_introspect},
              ${r.allow_any_client}, ${r.credentials_client_id}, ${r.is_active})
      RETURNING *`;
    return row!;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new ConflictError(`A resource with identifier '${r.identifier}' already exists`);
    throw err;
  }
}

export async function lockResource(sql: Tx, identifier: string): Promise<ResourceRecord | undefined> {
  if (!isValidText(identifier)) return undefined;
  const [row] = await sql<ResourceRecord[]>`SELECT * FROM api_resources WHERE identifier = ${identifier} FOR UPDATE`;
  return row;
}

export async function updateResource(sql: Tx, identifier: string, r: ResourceColumns): Promise<ResourceRecord> {
  const [row] = await sql<ResourceRecord[]>`
    UPDATE api_resources SET name = ${r.name}, scopes = ${sql.json(r.scopes as never)}, access_token_ttl = ${r.access_token_ttl},
      access_token_alg = ${r.access_token_alg}, may_introspect = ${r.may_introspect}, allow_any_client = ${r.allow_any_client},
      is_active = ${r.is_active}, updated_at = now()
    WHERE identifier = ${identifier} RETURNING *`;
  return row!;
}

export async function listResources(sql: Tx, includeInactive: boolean): Promise<ResourceRecord[]> {
  return sql<ResourceRecord[]>`SELECT * FROM api_resources WHERE ${includeInactive} OR is_active ORDER BY identifier`;
}

/** Hard delete: the resource, and its name from every client that was allowed it. */
export async function deleteResource(sql: Tx, identifier: string): Promise<void> {
  clientChanged(EVERY_CLIENT);
  await sql`UPDATE clients SET resources = array_remove(resources, ${identifier}) WHERE ${identifier} = ANY(resources)`;
  await sql`UPDATE clients SET default_resource = NULL WHERE default_resource = ${identifier}`;
  await sql`DELETE FROM api_resources WHERE identifier = ${identifier}`;
}
