// The audit trail: every admin write and every security event, with actor, target, time and
// source address. Never pass a secret in `details`.
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { insertAudit } from "./store";
import { metrics, recordAuditEvent } from "../metrics/index";
import { log } from "../log";
import { AuditBudget } from "./budget";

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

/**
 * The bound on refused-request rows (admin API denials): per process and minute, at most
 * DENIAL_ROWS_PER_SOURCE rows per source address and DENIAL_ROWS_PER_MINUTE in all. Beyond that the
 * denial is only counted (metric authly_admin_denials_total{audited="false"}), and the first row of
 * the next minute carries `suppressed_in_previous_minute` (count and number of sources).
 */
export const DENIAL_ROWS_PER_SOURCE = 20;
export const DENIAL_ROWS_PER_MINUTE = 600;
const denialBudgets = new WeakMap<object, AuditBudget>();

/**
 * Records a refused request (an outcome "denied" event) within the per-source bound. Never throws:
 * a failing audit write must not change the refusal the caller is about to send.
 */
export async function auditDenial(deps: Pick<Deps, "sql">, e: AuditEvent & { ip: string }): Promise<void> {
  let budget = denialBudgets.get(deps);
  if (!budget) denialBudgets.set(deps, (budget = new AuditBudget(DENIAL_ROWS_PER_SOURCE, DENIAL_ROWS_PER_MINUTE)));
  const decision = budget.take(e.ip);
  metrics.inc("authly_admin_denials_total", { audited: decision.record ? "true" : "false" });
  if (!decision.record) return;
  const details = decision.suppressedBefore
    ? { ...e.details, suppressed_in_previous_minute: { count: decision.suppressedBefore.count, sources: decision.suppressedBefore.sources, window_start: decision.suppressedBefore.windowStart } }
    : e.details;
  try {
    await audit(deps, { ...e, outcome: "denied", details });
  } catch (err) {
    log.warn(`audit: could not record ${e.action} (${(err as Error).message})`);
  }
}
