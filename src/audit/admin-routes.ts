// Admin API: read the audit trail (newest first, optionally one action). Scope admin:system:read.
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import { intParam, Problems } from "../lib/validate";
import { LimitQuery, OffsetQuery, type AdminRouteSpec } from "../admin/spec";
import { listAudit } from "./store";

const AuditEvent = t.Object({
  id: t.String(),
  occurred_at: t.String({ format: "date-time" }),
  actor: t.Union([t.String(), t.Null()], { description: "User id of the admin, or system:*" }),
  action: t.String({ description: "e.g. client.create, user.password_reset, login.failure, admin.denied" }),
  target_type: t.Union([t.String(), t.Null()]),
  target_id: t.Union([t.String(), t.Null()]),
  outcome: t.String(),
  source_ip: t.Union([t.String(), t.Null()]),
  details: t.Record(t.String(), t.Unknown()),
});
const AuditList = t.Object({ events: t.Array(AuditEvent), limit: t.Integer(), offset: t.Integer() });

export function auditAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/audit", scope: "admin:system:read", tag: "system", summary: "Read the audit log (newest first)",
      query: { limit: LimitQuery, offset: OffsetQuery, action: { schema: t.String({ maxLength: 100 }), description: "Only this action, e.g. client.delete" } },
      response: AuditList, errors: [400],
      handler: async (r) => {
        const p = new Problems();
        const limit = intParam(p, r.query, "limit", 20, 1, 100);
        const offset = intParam(p, r.query, "offset", 0, 0, 1_000_000_000);
        const action = r.query.action || undefined;
        if (action && action.length > 100) p.add("action", "must be at most 100 characters");
        p.throwIfAny("Invalid query");
        const rows = await listAudit(deps.sql, { action, limit, offset });
        return { events: rows.map((e) => ({ ...e, id: String(e.id), occurred_at: e.occurred_at.toISOString() })), limit, offset };
      },
    },
  ];
}
