// Scope administration: create, list, show, update, soft/hard delete, defaults. System scopes
// (OIDC and admin) stay: they cannot be deleted or deactivated.
import type { Deps } from "../deps";
import { auditAdmin, type Actor } from "../audit/service";
import { ConflictError, NotFoundError } from "../errors";
import { assertSchema } from "../lib/validate";
import { ScopeCreate, ScopeUpdate, scopeNameProblem, toScope, type Scope } from "./model";
import * as store from "./store";

export async function createScope(deps: Deps, actor: Actor, body: unknown): Promise<Scope> {
  const input = assertSchema<ScopeCreate>(ScopeCreate, body, (p) => {
    const name = (body as { name?: unknown }).name;
    if (typeof name === "string" && !p.has("name")) {
      const problem = scopeNameProblem(name);
      if (problem) p.add("name", problem);
    }
  });
  return deps.sql.begin(async (tx) => {
    const row = await store.insertScope(tx, { name: input.name, description: input.description, is_default: input.is_default ?? false });
    await auditAdmin(deps, tx, actor, "scope.create", { type: "scope", id: row.name }, { is_default: row.is_default });
    return toScope(row);
  });
}

export async function listScopes(deps: Deps, opts: { includeInactive: boolean; defaultsOnly?: boolean }): Promise<{ scopes: Scope[]; total: number }> {
  const rows = await store.listScopes(deps.sql, { includeInactive: opts.includeInactive, defaultsOnly: opts.defaultsOnly });
  return { scopes: rows.map(toScope), total: rows.length };
}

export async function getScope(deps: Deps, name: string): Promise<Scope> {
  const row = await store.findScope(deps.sql, name);
  if (!row) throw new NotFoundError(`Scope '${name}' does not exist`);
  return toScope(row);
}

export async function updateScope(deps: Deps, actor: Actor, name: string, body: unknown): Promise<Scope> {
  const patch = assertSchema<ScopeUpdate>(ScopeUpdate, body);
  return deps.sql.begin(async (tx) => {
    const current = await store.lockScope(tx, name);
    if (!current) throw new NotFoundError(`Scope '${name}' does not exist`);
    if (current.is_system && patch.is_active === false) throw new ConflictError(`'${name}' is a system scope and cannot be deactivated`);
    const row = (await store.updateScope(tx, name, patch))!;
    await auditAdmin(deps, tx, actor, "scope.update", { type: "scope", id: name }, { changed: Object.keys(patch) });
    return toScope(row);
  });
}

export async function deleteScope(deps: Deps, actor: Actor, name: string, hard: boolean): Promise<{ name: string; deleted: "soft" | "hard" }> {
  return deps.sql.begin(async (tx) => {
    const current = await store.lockScope(tx, name);
    if (!current) throw new NotFoundError(`Scope '${name}' does not exist`);
    if (current.is_system) throw new ConflictError(`'${name}' is a system scope and cannot be deleted`);
    if (hard) await store.deleteScope(tx, name);
    else await store.updateScope(tx, name, { is_active: false });
    await auditAdmin(deps, tx, actor, "scope.delete", { type: "scope", id: name }, { hard });
    return { name, deleted: hard ? ("hard" as const) : ("soft" as const) };
  });
}
