// Admin API of outgoing mail: POST /admin/mail/test queues a test mail (scope admin:system:write).
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import type { AdminRouteSpec } from "../admin/spec";
import { auditAdmin } from "../audit/service";
import { ConflictError } from "../errors";
import { assertSchema } from "../lib/validate";
import { enqueueMail, mailEnabled, mailLook } from "./service";
import { renderMail } from "./templates";

const Address = t.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@<>,;\"]+@[^\\s@<>,;\"]+$", description: "One email address" });
const TestMail = t.Object({ to: Address }, { additionalProperties: false });
const Queued = t.Object({ id: t.String({ description: "The outbox id of the mail" }), to: t.String(), queued: t.Literal(true) });

export function mailAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "POST", path: "/admin/mail/test", scope: "admin:system:write", tag: "system", summary: "Queue a test mail",
      description: "Queues a test mail to `to`; the outbox worker sends it (with retries): `authly admin status` shows the outbox. 409 when mail is not configured (AUTHLY_SMTP_URL).",
      body: TestMail, response: Queued, status: 202, errors: [400, 409],
      handler: async (r) => {
        const input = assertSchema<{ to: string }>(TestMail, r.body);
        if (!mailEnabled(deps)) throw new ConflictError("Mail is not configured: set AUTHLY_SMTP_URL and AUTHLY_MAIL_FROM on the server");
        const id = await deps.sql.begin(async (tx) => {
          const id = await enqueueMail(deps, renderMail("test", input.to, { issuer: deps.config.issuer }, undefined, await mailLook(deps, null, undefined, tx)), tx);
          await auditAdmin(deps, tx, r.actor, "mail.test", { type: "mail", id }, {});
          return id;
        });
        return { id, to: input.to, queued: true as const };
      },
    },
  ];
}
