// The audit trail: every admin write and every security event, with actor, target, time and
// source address. Never pass a secret in `details`.
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { insertAudit } from "./store";
import { recordAuditEvent } from "../metrics/index";

export interface AuditEvent {
  /** e.g. "client.create", "login.failure", "token.family_revoked" */
  action: string;
  actor?: string | null;
  targetType?: string;
  targetId?: string | null;
  outcome?: "success" | "failure" | "denied";
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Records an event; pass `tx` to make it part of the caller's transaction. */
export async function audit(deps: Pick<Deps, "sql">, e: AuditEvent, tx: Tx = deps.sql): Promise<void> {
  await insertAudit(tx, {
    actor: e.actor ?? null,
    action: e.action,
    target_type: e.targetType ?? null,
    target_id: e.targetId ?? null,
    outcome: e.outcome ?? "success",
    source_ip: e.ip ?? null,
    details: e.details ?? {},
  });
  recordAuditEvent(e.action, e.details);
}

/** Who performs an admin write: the admin user (id and name) and the source address. */
export interface Actor {
  userId: string | null;
  username?: string | null;
  ip: string | null;
}

/** Records an admin write inside its transaction: actor, target, source address, no secrets. */
export async function auditAdmin(
  deps: Pick<Deps, "sql">,
  tx: Tx,
  actor: Actor,
  action: string,
  target: { type: string; id: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  await audit(deps, { action, actor: actor.userId, targetType: target.type, targetId: target.id, ip: actor.ip, details: actor.username ? { actor_username: actor.username, ...details } : details }, tx);
}
