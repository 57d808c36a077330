// SQL of scopes (table scopes). Unique violations become ConflictError.
import { clientChanged, EVERY_CLIENT } from "../db/notify";
import type { Tx } from "../db/sql";
import { ConflictError } from "../errors";
import type { ScopeRecord } from "./model";

export async function findScope(sql: Tx, name: string): Promise<ScopeRecord | undefined> {
  const [row] = await sql<ScopeRecord[]>`SELECT * FROM scopes WHERE name = ${name}`;
  return row;
}

export async function listScopes(sql: Tx, opts: { includeInactive: boolean; defaultsOnly?: boolean }): Promise<ScopeRecord[]> {
  return sql<ScopeRecord[]>`
    SELECT * FROM scopes
    WHERE (${opts.includeInactive} OR is_active) AND (NOT ${opts.defaultsOnly ?? false} OR is_default)
    ORDER BY is_system DESC, name`;
}

/** The names among `names` that exist and are active. */
export async function activeScopeNames(sql: Tx, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const rows = await sql<{ name: string }[]>`SELECT name FROM scopes WHERE is_active AND name = ANY(${names}::text[])`;
  return rows.map((r) => r.name);
}

export async function insertScope(sql: Tx, s: { name: string; description: string; is_default: boolean; is_system?: boolean }): Promise<ScopeRecord> {
  try {
    const [row] = await sql<ScopeRecord[]>`
      INSERT INTO scopes (name, description, is_default, is_system)
      VALUES (${s.name}, ${s.description}, ${s.is_default}, ${s.is_system ?? false})
      RETURNING *`;
    return row!;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new ConflictError(`A scope named '${s.name}' already exists`);
    throw err;
  }
}

/** Inserts the scope unless it exists; true when it was inserted. */
export async function insertScopeIfMissing(sql: Tx, s: { name: string; description: string; is_default: boolean }): Promise<boolean> {
  const r = await sql`
    INSERT INTO scopes (name, description, is_default) VALUES (${s.name}, ${s.description}, ${s.is_default})
    ON CONFLICT (name) DO NOTHING`;
  return r.count > 0;
}

export async function updateScope(sql: Tx, name: string, patch: { description?: string; is_default?: boolean; is_active?: boolean }): Promise<ScopeRecord | undefined> {
  const [row] = await sql<ScopeRecord[]>`
    UPDATE scopes SET
      description = COALESCE(${patch.description ?? null}, description),
      is_default = COALESCE(${patch.is_default ?? null}::boolean, is_default),
      is_active = COALESCE(${patch.is_active ?? null}::boolean, is_active),
      updated_at = now()
    WHERE name = ${name}
    RETURNING *`;
  return row;
}

/** Hard delete: the scope row and the scope from every client's allowed scopes. */
export async function deleteScope(sql: Tx, name: string): Promise<boolean> {
  clientChanged(EVERY_CLIENT);
  await sql`UPDATE clients SET scopes = array_remove(scopes, ${name}), updated_at = now() WHERE ${name} = ANY(scopes)`;
  const r = await sql`DELETE FROM scopes WHERE name = ${name} AND NOT is_system`;
  return r.count > 0;
}

/** Locks the scope row for a read-modify-write inside a transaction. */
export async function lockScope(sql: Tx, name: string): Promise<ScopeRecord | undefined> {
  const [row] = await sql<ScopeRecord[]>`SELECT * FROM scopes WHERE name = ${name} FOR UPDATE`;
  return row;
}
