// `authly admin audit list`: the audit trail of the server (GET /admin/audit, newest first), for
// the guide's "monitor admin API access through audit logs".
import { defineCommand } from "citty";
import { formatTime, printJson, printTable } from "../output";
import { createContext } from "./context";
import { defineAdminCommand, helpText, outputArgs, parseWhole } from "./shared";

export interface AuditEvent {
  id: string;
  occurred_at: string;
  actor: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  source_ip: string | null;
  details: Record<string, unknown>;
}

const list = defineAdminCommand({
  meta: { name: "list", description: "List audit events (newest first)." },
  args: {
    limit: { type: "string", valueHint: "INTEGER", description: "Number of events to show (1-100)", default: "20" },
    offset: { type: "string", valueHint: "INTEGER", description: "Pagination offset", default: "0" },
    action: { type: "string", valueHint: "TEXT", description: "Only this action, e.g. client.create, login.failure, admin.denied" },
    ...outputArgs,
  },
  help: helpText({
    examples: ["$ authly admin audit list", "$ authly admin audit list --action login.failure --limit 50", "$ authly admin audit list --output json | jq -r '.events[] | \"\\(.occurred_at) \\(.action) \\(.outcome)\"'"],
    json: '{ "events": [ { id, occurred_at, actor, action, target_type, target_id, outcome, source_ip, details } ], "limit": N, "offset": N }',
  }),
  async run({ args }) {
    const limit = parseWhole(args.limit, "--limit", 1, 100)!;
    const offset = parseWhole(args.offset, "--offset", 0)!;
    const ctx = createContext();
    const res = await ctx.api.get<{ events: AuditEvent[]; limit: number; offset: number }>("/admin/audit", { query: { limit, offset, action: args.action } });
    if (ctx.format(args.output) === "json") return printJson(res);
    if (!res.events.length) {
      console.log("No audit events.");
      return;
    }
    printTable(
      ["Time", "Action", "Outcome", "Actor", "Target", "Source IP"],
      res.events.map((e) => [formatTime(e.occurred_at), e.action, e.outcome, e.actor ?? "-", e.target_type ? `${e.target_type}:${e.target_id ?? ""}` : "-", e.source_ip ?? "-"]),
    );
    console.log(`\nShowing ${res.events.length} event${res.events.length === 1 ? "" : "s"} from offset ${res.offset}`);
  },
});

export default defineCommand({
  meta: { name: "audit", description: "Read the audit log." },
  subCommands: { list },
});
