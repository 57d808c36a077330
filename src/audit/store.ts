// SQL of the audit log (table audit_log).
import type { Tx } from "../db/sql";

export interface AuditRow {
  id: string;
  occurred_at: Date;
  actor: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  source_ip: string | null;
  details: Record<string, unknown>;
}

export async function insertAudit(sql: Tx, e: Omit<AuditRow, "id" | "occurred_at">): Promise<void> {
  await sql`
    INSERT INTO audit_log (actor, action, target_type, target_id, outcome, source_ip, details)
    VALUES (${e.actor}, ${e.action}, ${e.target_type}, ${e.target_id}, ${e.outcome}, ${e.source_ip}, ${sql.json(e.details as never)})`;
}

export async function listAudit(sql: Tx, opts: { action?: string; limit: number; offset: number }): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    SELECT * FROM audit_log
    WHERE ${opts.action ? sql`action = ${opts.action}` : sql`true`}
    ORDER BY id DESC LIMIT ${opts.limit} OFFSET ${opts.offset}`;
}
